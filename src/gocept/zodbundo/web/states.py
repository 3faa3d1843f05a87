"""Readable summaries of object records, without importing their classes.

A record is unpickled by an unpickler that imports nothing from the
database's pickles except a few value types of the standard library
(dates, decimals, sets): every other class becomes a stand-in that only
remembers its name, arguments and state. So the pages work without the
application's code installed, and no database content can run code.
"""
import collections
import copyreg
import datetime
import decimal
import functools
import io
import pickle
import reprlib

import gocept.zodbundo.ids


# Value types whose construction runs no code from the database.
_SAFE = {
    ('copy_reg', '_reconstructor'): copyreg._reconstructor,
    ('copyreg', '_reconstructor'): copyreg._reconstructor,
    ('__builtin__', 'set'): set,
    ('builtins', 'set'): set,
    ('__builtin__', 'frozenset'): frozenset,
    ('builtins', 'frozenset'): frozenset,
    ('__builtin__', 'object'): object,
    ('builtins', 'object'): object,
    ('builtins', 'bytearray'): bytearray,
    ('builtins', 'complex'): complex,
    ('datetime', 'datetime'): datetime.datetime,
    ('datetime', 'date'): datetime.date,
    ('datetime', 'time'): datetime.time,
    ('datetime', 'timedelta'): datetime.timedelta,
    ('datetime', 'timezone'): datetime.timezone,
    ('decimal', 'Decimal'): decimal.Decimal,
    ('collections', 'OrderedDict'): collections.OrderedDict,
}

# Classes whose state is {'data': {...}} (or '_container'): show items.
_MAPPING_KEYS = ('data', '_container')


class Reference:
    """A persistent reference to another object."""

    def __init__(self, oid, class_name=None):
        self.oid = oid
        self.class_name = class_name

    @property
    def oid_hex(self):
        return gocept.zodbundo.ids.hexid(self.oid)

    def __eq__(self, other):
        return isinstance(other, Reference) and other.oid == self.oid

    def __hash__(self):
        return hash(self.oid)

    def __repr__(self):
        name = ' ' + self.class_name if self.class_name else ''
        return '<object {}{}>'.format(self.oid_hex, name)


class _Stub:
    """Stand-in for an instance of a class that is not imported."""

    def __new__(cls, *args, **kw):
        self = object.__new__(cls)
        self._args = args
        self._state = None
        return self

    def __init__(self, *args, **kw):
        pass

    def __setstate__(self, state):
        self._state = state

    def __eq__(self, other):
        return (type(other).__name__ == type(self).__name__
                and getattr(other, '_args', None) == self._args
                and getattr(other, '_state', None) == self._state)

    def __hash__(self):
        return hash(type(self).__qualname__)

    def __repr__(self):
        inner = self._args if self._args else self._state
        return '{}({})'.format(type(self).__qualname__, _short(inner))


@functools.lru_cache(maxsize=1024)
def _stub_class(module, name):
    return type(name, (_Stub,), {
        '__module__': module, '__qualname__': '{}.{}'.format(module, name)})


def _reference(pid):
    """A Reference from any of ZODB's persistent id forms."""
    if isinstance(pid, bytes):
        return Reference(pid)
    if isinstance(pid, tuple):  # (oid, class) or (oid, None)
        oid, klass = pid
        return Reference(oid, _class_name(klass))
    if isinstance(pid, list) and pid:
        kind = pid[0]
        args = pid[1:]
        if kind in (b'm', 'm') and args:  # cross-database
            database, oid, klass = args[0]
            return Reference(oid, '{} in {}'.format(
                _class_name(klass) or '?', database))
        if kind in (b'w', 'w') and args:  # weak reference
            return Reference(args[0][0], 'weak reference')
        if kind in (b'n', 'n') and args:
            return Reference(args[0][1])
        if args and isinstance(args[0], bytes):
            return Reference(args[0])
    return Reference(b'\0' * 8, repr(pid))


def _class_name(klass):
    if klass is None:
        return None
    if isinstance(klass, type):
        return klass.__qualname__ if issubclass(klass, _Stub) else (
            '{}.{}'.format(klass.__module__, klass.__qualname__))
    if isinstance(klass, tuple) and len(klass) == 2:
        return '{}.{}'.format(*klass)
    return repr(klass)


class _Unpickler(pickle.Unpickler):

    def find_class(self, module, name):
        safe = _SAFE.get((module, name))
        if safe is not None:
            return safe
        return _stub_class(module, name)

    def persistent_load(self, pid):
        return _reference(pid)


def load_state(data):
    """The state in a data record (class pickle + state pickle).

    Returns None for a removed object (no data).
    """
    if not data:
        return None
    unpickler = _Unpickler(io.BytesIO(data), encoding='bytes')
    unpickler.load()  # the class (and its arguments)
    return unpickler.load()


def fields(state):
    """{(kind, key): value} of a state: kind 'item' or 'attribute'.

    Mappings of the `PersistentMapping` kind show their items; BTree
    buckets and sets their keys and values; others their attributes.
    """
    if state is None:
        return {}
    if isinstance(state, dict):
        for name in _MAPPING_KEYS:
            if set(state) == {name} and isinstance(state[name], dict):
                return {('item', k): v for k, v in state[name].items()}
        return {('attribute', k): v for k, v in state.items()}
    if (isinstance(state, tuple) and len(state) == 2
            and isinstance(state[0], dict) and isinstance(state[1], dict)):
        result = fields(state[0])
        result.update({('attribute', k): v for k, v in state[1].items()})
        return result
    if (isinstance(state, tuple) and len(state) in (1, 2)
            and isinstance(state[0], tuple)
            and (len(state) == 1 or isinstance(state[1], Reference))):
        # A bucket: ((k1, v1, ...), next) or a set's ((k1, k2, ...),).
        flat = state[0]
        if len(flat) == 1 and isinstance(flat[0], tuple):
            return fields(flat[0])  # a small BTree: its bucket inline
        return _bucket_fields(flat)
    return {('state', ''): state}


def _bucket_fields(flat):
    if any(isinstance(v, Reference) for v in flat[::2]):
        return {('state', ''): flat}  # a BTree node: children
    if len(flat) % 2 == 0:
        return {('item', flat[i]): flat[i + 1]
                for i in range(0, len(flat), 2)}
    return {('item', k): True for k in flat}


Change = collections.namedtuple('Change', 'kind key action old new')


def diff(old_data, new_data):
    """[Change] from the record `old_data` to `new_data`, by key.

    `action` is 'added', 'removed' or 'changed'; `old` and `new` are
    short readable summaries (text).
    """
    old = fields(load_state(old_data))
    new = fields(load_state(new_data))
    changes = []
    for key in sorted(set(old) | set(new), key=_sort_key):
        kind, name = key
        if key not in old:
            changes.append(Change(kind, _short(name), 'added', '',
                                  _short(new[key])))
        elif key not in new:
            changes.append(Change(kind, _short(name), 'removed',
                                  _short(old[key]), ''))
        elif not _same(old[key], new[key]):
            changes.append(Change(kind, _short(name), 'changed',
                                  _short(old[key]), _short(new[key])))
    return changes


def _same(a, b):
    try:
        return a == b and type(a) is type(b)
    except Exception:  # noqa: B902 odd stand-ins compare as different
        return False


def _sort_key(key):
    kind, name = key
    return (kind, type(name).__name__, str(name))


_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlevel = 3
_repr.maxdict = 6
_repr.maxlist = 6
_repr.maxtuple = 6


def _short(value):
    """A readable one-line summary of `value` (at most ~100 characters)."""
    if isinstance(value, Reference):
        return repr(value)
    if isinstance(value, bytes):
        try:
            text = value.decode('utf-8')
        except UnicodeDecodeError:
            return '<{} bytes>'.format(len(value))
        value = text
    text = _repr.repr(value)
    return text if len(text) <= 100 else text[:97] + '...'
