"""Per-storage strategies: how to list, find and undo transactions.

Which strategy a storage gets, and why:

FileStorage
    Undo ids are base64 of the tid. `log` walks the transaction headers
    backwards from the end of the file through its own read-only file
    handle, a block at a time (a generator: it stops as soon as the caller
    has enough), and stops at the first packed transaction. A tid is found
    by walking from both ends of the file at once, and the undo records
    are written for the position found, so FileStorage's `undo()` does not
    walk back from the end of the file again, under the commit lock, with
    a seek and two reads per transaction (`_txn_find`).
ZEO (ClientStorage)
    The client forwards the undo id to the server untouched; the server's
    FileStorage or RelStorage uses base64 of the tid (checked once against
    the newest `undoLog` entry). `undoLog(filter=...)` returns nothing over
    ZEO, so `log` reads `undoLog(first, last)` in pages of growing size and
    filters here. Undo errors only surface at `tpc_vote`.
RelStorage (history preserving)
    Undo ids are base64 of the tid. `log` runs
    ``... ORDER BY tid DESC LIMIT n`` in pages (RelStorage's `undoLog`
    fetches every transaction row). RelStorage refuses to undo an object
    changed later and does no conflict resolution.
DemoStorage
    Undo goes to its `changes` storage, so the strategy is that storage's.
Anything else that supports undo
    Accepted when the newest `undoLog` id is base64 of a tid; `log` pages
    through `undoLog` like ZEO.
"""
import contextlib
import re

import ZODB.Connection
import ZODB.DemoStorage
import ZODB.FileStorage
import ZODB.POSException
import ZODB.utils

import gocept.zodbundo.errors
import gocept.zodbundo.ids
import gocept.zodbundo.info


def storage_name(storage):
    """`Type 'name'` for messages."""
    try:
        name = storage.getName()
    except Exception:  # noqa: B902 any storage may be asked, keep going
        name = '?'
    return '{} {!r}'.format(type(storage).__name__, name)


def text(value):
    """Text of a user name or description (bytes in storages)."""
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return value or ''


def extension(raw):
    """The extension dict of a transaction from its pickle (or {})."""
    if not raw:
        return {}
    try:
        return ZODB.Connection.TransactionMetaData(
            extension=bytes(raw)).extension
    except Exception:  # noqa: B902 an unreadable extension is no reason
        return {}     # to fail listing the log


def class_name(data):
    """Dotted class name of a data record, read without importing it."""
    if not data:
        return '(removed)'
    module, name = ZODB.utils.get_pickle_metadata(data)
    return '{}.{}'.format(module, name) if module else name or '?'


def _refuse(storage, why):
    raise gocept.zodbundo.errors.NotUndoable(
        '{} cannot undo: {}.'.format(storage_name(storage), why))


def backend_for(db):
    """The strategy for `db`'s storage; NotUndoable names what is wrong."""
    return _backend_for_storage(db.storage)


def _backend_for_storage(storage):
    # These import this module.
    import gocept.zodbundo.filestorage
    import gocept.zodbundo.relstorage
    if isinstance(storage, ZODB.DemoStorage.DemoStorage):
        changes = storage.changes
        if not _supports_undo(changes):
            _refuse(storage, 'its changes live in {}, which keeps no'
                    ' undo history'.format(storage_name(changes)))
        backend = _backend_for_storage(changes)
        backend.name = '{} (changes in {})'.format(
            storage_name(storage), backend.name)
        return backend
    if isinstance(storage, ZODB.FileStorage.FileStorage):
        return gocept.zodbundo.filestorage.FileStorageBackend(storage)
    relstorage = _relstorage_class()
    if relstorage is not None and isinstance(storage, relstorage):
        if not storage._adapter.keep_history:
            _refuse(storage, 'it is history free (keep-history false)')
        return gocept.zodbundo.relstorage.RelStorageBackend(storage)
    if not _supports_undo(storage):
        _refuse(storage, 'it keeps no undo history')
    zeo = _zeo_class()
    if zeo is not None and isinstance(storage, zeo):
        backend = ZEOBackend(storage)
    else:
        backend = UndoLogBackend(storage)
    backend.check_undo_ids()
    return backend


def _supports_undo(storage):
    supports = getattr(storage, 'supportsUndo', None)
    return bool(supports is not None and supports())


def _relstorage_class():
    try:
        import relstorage.storage
    except ImportError:
        return None
    return relstorage.storage.RelStorage


def _zeo_class():
    try:
        import ZEO.ClientStorage
    except ImportError:
        return None
    return ZEO.ClientStorage.ClientStorage


class Backend:
    """Common part: undo by computed id, records through `iterator`."""

    # Does the storage merge later changes by `_p_resolveConflict` when it
    # undoes (FileStorage does, RelStorage refuses)?
    resolves_on_undo = True
    # Does the storage's undo() itself refuse unknown and packed tids
    # (so `undo` need not check them first, saving a round trip)?
    verifies_tids = False
    # Does undo copy blob files in this process (so it needs the blob
    # directory), rather than on a server?
    undoes_blobs_here = True

    def __init__(self, storage):
        self.storage = storage
        self.name = storage_name(storage)

    def unknown(self, tid):
        return gocept.zodbundo.errors.BadId(
            'Unknown tid {}: no such transaction in {} (or packed'
            ' away).'.format(gocept.zodbundo.ids.hexid(tid), self.name))

    def packed(self, tid):
        return gocept.zodbundo.errors.BadId(
            'Transaction {} in {} is packed away: it can no longer be'
            ' undone.'.format(gocept.zodbundo.ids.hexid(tid), self.name))

    def locate(self, tid, progress=None):
        """Check `tid` is undoable; return a token for `undo`."""
        for record in self._transaction(tid):
            if getattr(record, 'status', ' ') == 'p':
                raise self.packed(tid)
            return None
        raise self.unknown(tid)

    def undo(self, instance, tid, token, meta):
        """Undo `tid` inside the storage transaction `meta`."""
        instance.undo(gocept.zodbundo.ids.undo_id(tid), meta)

    @contextlib.contextmanager
    def _iterate(self, tid):
        iterator = self.storage.iterator(tid, tid)
        try:
            yield iterator
        finally:
            close = getattr(iterator, 'close', None)
            if close is not None:
                close()

    def _transaction(self, tid):
        with self._iterate(tid) as iterator:
            for record in iterator:
                if record.tid == tid:
                    yield record
                return

    def records(self, tid, token=None):
        """(transaction, [(oid, data)]) written by `tid`; BadId when there
        is no `tid`. `token` is what `locate` returned, if known."""
        for txn in self._transaction(tid):
            return txn, [(r.oid, r.data) for r in txn]
        raise self.unknown(tid)

    def iter_log(self, until_tid=None, since_tid=None, progress=None):
        raise NotImplementedError()

    def check_undo_ids(self):
        """Make sure the storage's undo ids are base64 of the tid."""
        log = self.storage.undoLog(0, 1)
        if not log:
            return
        entry = log[0]
        tid = gocept.zodbundo.ids.tid_from_undo_id(entry['id'])
        if tid is None or abs(
                gocept.zodbundo.ids.tid_time(tid) - entry['time']) > 1e-3:
            _refuse(self.storage, 'its undo ids are not base64 of the'
                    ' transaction id, so they cannot be computed')


def _info_from_log_entry(entry):
    entry = dict(entry)
    tid = gocept.zodbundo.ids.tid_from_undo_id(entry.pop('id'))
    entry.pop('time', None)
    user = text(entry.pop('user_name', b''))
    description = text(entry.pop('description', b''))
    size = entry.pop('size', None)
    return gocept.zodbundo.info.TransactionInfo(
        tid=tid, time=gocept.zodbundo.ids.tid_time(tid), user=user,
        description=description, size=size, extension=entry)


class UndoLogBackend(Backend):
    """Pages through `undoLog(first, last)`: the only portable listing."""

    first_page = 20
    max_page = 4096

    def iter_log(self, until_tid=None, since_tid=None, progress=None):
        first = 0
        page = self.first_page
        newest_seen = None
        while True:
            entries = self.storage.undoLog(first, first + page)
            for entry in entries:
                info = _info_from_log_entry(entry)
                # Transactions committed between two pages shift the
                # indexes: skip what was already yielded.
                if newest_seen is not None and info.tid >= newest_seen:
                    continue
                newest_seen = info.tid
                if until_tid is not None and info.tid > until_tid:
                    continue
                if since_tid is not None and info.tid < since_tid:
                    return
                yield info
            if len(entries) < page:
                return
            first += len(entries)
            if progress is not None:
                progress(first)
            page = min(page * 2, self.max_page)


class ZEOBackend(UndoLogBackend):
    """ZEO: undo ids go to the server's storage untouched (`undoa`)."""

    undoes_blobs_here = False  # the server copies them


def object_history(storage, oid, until_tid=None, progress=None,
                   name=None):
    """TransactionInfo of every change of `oid`, newest first, in pages.

    `storage.history(oid, size)` has no offset, so each page asks for more
    and skips what it already returned (ZEO has no `filter` argument).
    `name` names the storage in errors (`storage` may be an MVCC adapter).
    """
    size = 16
    oldest = None
    while True:
        try:
            entries = storage.history(oid, size=size)
        except ZODB.POSException.POSKeyError:
            raise gocept.zodbundo.errors.BadId(
                'Unknown oid {}: no such object in {}.'.format(
                    gocept.zodbundo.ids.hexid(oid),
                    name or storage_name(storage))) from None
        for entry in entries:
            entry = dict(entry)
            tid = entry.pop('tid')
            # Skip what an earlier page returned, also when a commit in
            # between shifted the entries.
            if oldest is not None and tid >= oldest:
                continue
            oldest = tid
            if until_tid is not None and tid > until_tid:
                continue
            for key in ('time', 'version', 'rs_tid_int', 'rs_oid_int'):
                entry.pop(key, None)
            yield gocept.zodbundo.info.TransactionInfo(
                tid=tid, time=gocept.zodbundo.ids.tid_time(tid),
                user=text(entry.pop('user_name', b'')),
                description=text(entry.pop('description', b'')),
                size=entry.pop('size', None), extension=entry)
        if len(entries) < size:
            return
        if progress is not None:
            progress(len(entries))
        size *= 4


def compile_description(description):
    if description is None or hasattr(description, 'search'):
        return description
    try:
        # Zope's own undo notes span lines ('<path>\nUndo <path>').
        return re.compile(description, re.MULTILINE)
    except re.error as e:
        raise gocept.zodbundo.errors.BadArgument(
            'Bad description pattern {!r}: {}.'.format(description, e))
