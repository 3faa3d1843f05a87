"""Value objects: TransactionInfo, ObjectChange, PlanEntry, UndoPlan."""
import dataclasses
import datetime

import gocept.zodbundo.ids


CLEAN = 'clean'
RESOLVED = 'resolved'
CONFLICT = 'conflict'


def _isotime(seconds):
    return datetime.datetime.fromtimestamp(
        seconds, datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S.%f UTC')


def _jsonable(value):
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    if isinstance(value, dict):
        return {str(_jsonable(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


_CONTROL = {code: '\\x{:02x}'.format(code)
            for code in list(range(32)) + [127]}
_CONTROL.update({ord('\n'): '\\n', ord('\r'): '\\r', ord('\t'): '\\t',
                 ord('\\'): '\\\\'})


def one_line(text):
    """`text` on one line: newlines and control characters escaped
    (``\\n``), backslashes doubled; other characters kept."""
    return (text or '').translate(_CONTROL)


def zope_user(name):
    """(user folder path or None, id) of a transaction's user name.

    Zope records ``'<path of the user folder's container> <id>'``:
    ``' admin'`` for the root folder's ``acl_users``, ``'shop/inner
    editor'`` for one in /shop/inner. Other names have no folder.
    """
    name = name or ''
    folder, sep, user_id = name.rpartition(' ')
    if not sep or not user_id or ' ' in folder:
        return None, name
    return '/' + folder.strip('/'), user_id


@dataclasses.dataclass(frozen=True)
class ObjectChange:
    """One object record written by a transaction."""

    oid: bytes
    class_name: str
    size: int

    @property
    def oid_hex(self):
        return gocept.zodbundo.ids.hexid(self.oid)

    def as_json(self):
        return dict(oid=self.oid_hex, class_name=self.class_name,
                    size=self.size)


@dataclasses.dataclass(frozen=True)
class TransactionInfo:
    """A transaction as the log, `history` and `show` report it.

    `size` is the transaction's size in bytes (for `history`: the size of
    the object's record); None where the storage does not tell.
    `changes` is filled by `show` only: a list of `ObjectChange`.
    """

    tid: bytes
    time: float
    user: str
    description: str
    size: int = None
    extension: dict = dataclasses.field(default_factory=dict)
    changes: list = None

    @property
    def tid_hex(self):
        return gocept.zodbundo.ids.hexid(self.tid)

    @property
    def user_id(self):
        """The user's id: for Zope's ``'<user folder path> <id>'`` the id,
        else the whole user name."""
        return zope_user(self.user)[1]

    @property
    def user_folder(self):
        """For Zope's user names the path of the user folder ('/' for the
        root folder's), else None."""
        return zope_user(self.user)[0]

    @property
    def user_display(self):
        """The user as Zope means it: 'admin', 'editor (/shop/inner)'."""
        folder, user_id = zope_user(self.user)
        if folder is None or folder == '/':
            return user_id
        return '{} ({})'.format(user_id, folder)

    def __str__(self):
        """One line: tid, time, size, user, description (newlines and
        other control characters escaped)."""
        size = '' if self.size is None else ' {:>8} B'.format(self.size)
        return '{}  {}{}  {}  {}'.format(
            self.tid_hex, _isotime(self.time), size,
            one_line(self.user_display) or '-',
            one_line(self.description) or '-')

    def as_json(self):
        result = dict(
            tid=self.tid_hex, time=self.time, iso_time=_isotime(self.time),
            user=self.user, user_id=self.user_id,
            user_folder=self.user_folder, description=self.description,
            size=self.size, extension=_jsonable(self.extension))
        if self.changes is not None:
            result['changes'] = [c.as_json() for c in self.changes]
        return result


@dataclasses.dataclass(frozen=True)
class PlanEntry:
    """What undoing does to one object.

    `status` is 'clean' (restored as it was), 'resolved' (later changes
    merged by the class's ``_p_resolveConflict``) or 'conflict';
    `later_tids` lists the transactions after `tid` that changed the
    object and are not undone along with it, newest first.
    """

    oid: bytes
    class_name: str
    status: str
    tid: bytes
    later_tids: tuple = ()
    reason: str = ''

    @property
    def oid_hex(self):
        return gocept.zodbundo.ids.hexid(self.oid)

    @property
    def later_tids_hex(self):
        return [gocept.zodbundo.ids.hexid(t) for t in self.later_tids]

    def as_json(self):
        return dict(oid=self.oid_hex, class_name=self.class_name,
                    status=self.status,
                    tid=gocept.zodbundo.ids.hexid(self.tid),
                    later_tids=self.later_tids_hex, reason=self.reason)


@dataclasses.dataclass(frozen=True)
class UndoPlan:
    """The outcome `preview` predicts for undoing `tids` (newest first).

    `checked_by` says how: 'trial' (the storage ran the undo up to the vote
    and aborted) or 'analysis' (read-only storage: computed from the
    object histories and the classes' conflict resolution).
    """

    tids: tuple
    entries: tuple
    checked_by: str = 'trial'

    @property
    def tids_hex(self):
        return [gocept.zodbundo.ids.hexid(t) for t in self.tids]

    @property
    def conflicts(self):
        return [e for e in self.entries if e.status == CONFLICT]

    @property
    def clean(self):
        """True when the undo can be committed."""
        return not self.conflicts

    @property
    def already_undone(self):
        """True when every conflict is a change already undone later."""
        return bool(self.conflicts) and all(
            e.reason.startswith('already undone') for e in self.conflicts)

    def status(self, oid):
        """The status of `oid` (8 bytes or hex) in this plan."""
        oid = gocept.zodbundo.ids.parse_oid(oid)
        statuses = {e.status for e in self.entries if e.oid == oid}
        for status in (CONFLICT, RESOLVED, CLEAN):
            if status in statuses:
                return status
        raise KeyError(gocept.zodbundo.ids.hexid(oid))

    def __str__(self):
        lines = ['Undo {} ({} object(s), checked by {}): {}'.format(
            ', '.join(self.tids_hex), len(self.entries), self.checked_by,
            'clean' if self.clean else '{} conflict(s)'.format(
                len(self.conflicts)))]
        for e in self.entries:
            later = ''
            if e.later_tids:
                later = '  later: ' + ', '.join(e.later_tids_hex)
            reason = '  ({})'.format(e.reason) if e.reason else ''
            lines.append('  {:<8}  {}  {}  (in {}){}{}'.format(
                e.status, e.oid_hex, e.class_name,
                gocept.zodbundo.ids.hexid(e.tid), later, reason))
        return '\n'.join(lines)

    def as_json(self):
        return dict(tids=self.tids_hex, clean=self.clean,
                    checked_by=self.checked_by,
                    entries=[e.as_json() for e in self.entries])


@dataclasses.dataclass(frozen=True)
class RevertPlan:
    """What `revert(oid, before)` would write and what it throws away.

    `restored_tid` is the transaction whose state of `oid` is written
    back (the last change before `before`); `current_tid` the object's
    current state, which the commit refuses to overwrite if it has
    changed meanwhile. `discarded` lists, newest first, the
    `TransactionInfo` of every transaction at or after `before` whose
    change to the object the revert throws away (later changes to other
    keys of the same object included): show it before committing.
    """

    oid: bytes
    before: bytes
    class_name: str
    restored_tid: bytes
    current_tid: bytes
    discarded: tuple = ()

    @property
    def oid_hex(self):
        return gocept.zodbundo.ids.hexid(self.oid)

    def __str__(self):
        lines = ['Revert {} ({}) to its state of {}, discarding the'
                 ' changes of {} transaction(s):'.format(
                     self.oid_hex, self.class_name,
                     gocept.zodbundo.ids.hexid(self.restored_tid),
                     len(self.discarded))]
        lines.extend('  ' + str(info) for info in self.discarded)
        return '\n'.join(lines)

    def as_json(self):
        hexid = gocept.zodbundo.ids.hexid
        return dict(oid=self.oid_hex, before=hexid(self.before),
                    class_name=self.class_name,
                    restored_tid=hexid(self.restored_tid),
                    current_tid=hexid(self.current_tid),
                    discarded=[i.as_json() for i in self.discarded])
