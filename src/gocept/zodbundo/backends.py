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
import struct

import ZODB.Connection
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


def _extension(raw):
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
    return _backend_for_storage(db.storage, db.storage)


def _backend_for_storage(storage, top):
    import ZODB.DemoStorage
    import ZODB.FileStorage
    if isinstance(storage, ZODB.DemoStorage.DemoStorage):
        changes = storage.changes
        if not _supports_undo(changes):
            _refuse(storage, 'its changes live in {}, which keeps no'
                    ' undo history'.format(storage_name(changes)))
        backend = _backend_for_storage(changes, top)
        backend.name = '{} (changes in {})'.format(
            storage_name(storage), backend.name)
        backend.fast = False
        return backend
    if isinstance(storage, ZODB.FileStorage.FileStorage):
        return FileStorageBackend(storage, top)
    relstorage = _relstorage_class()
    if relstorage is not None and isinstance(storage, relstorage):
        if not storage._adapter.keep_history:
            _refuse(storage, 'it is history free (keep-history false)')
        return RelStorageBackend(storage, top)
    if not _supports_undo(storage):
        _refuse(storage, 'it keeps no undo history')
    zeo = _zeo_class()
    if zeo is not None and isinstance(storage, zeo):
        backend = ZEOBackend(storage, top)
    else:
        backend = UndoLogBackend(storage, top)
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
    # May `undo` write the records itself for a located position?
    fast = False
    # Does the storage's undo() itself refuse unknown and packed tids
    # (so `undo` need not check them first, saving a round trip)?
    verifies_tids = False

    def __init__(self, storage, top):
        self.storage = storage
        self.top = top
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

    def records(self, tid):
        """[(oid, data)] written by `tid`; BadId when there is no `tid`."""
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


TRANS_HDR = struct.Struct('>8sQcHHH')
TRANS_HDR_LEN = TRANS_HDR.size
TRAILER = struct.Struct('>Q')
DATA_HDR = struct.Struct('>8s8sQQHQ')
FILE_START = 4  # after the b'FS21' magic


class Blocks:
    """Random access to a file through one cached block.

    Walking transaction records costs a seek and two small reads per
    transaction otherwise (what FileStorage's own `_txn_find` does);
    unpacking from a block in memory is several times faster.
    """

    size = 1 << 17

    def __init__(self, f):
        self.f = f
        self.start = 0
        self.data = b''

    def _load(self, pos, length, backward):
        if backward:
            end = pos + length
            start = max(0, min(pos, end - self.size))
        else:
            start = pos
            end = max(pos + length, pos + self.size)
        self.f.seek(start)
        self.data = self.f.read(end - start)
        self.start = start

    def unpack(self, fmt, pos, backward=True):
        offset = pos - self.start
        if offset < 0 or offset + fmt.size > len(self.data):
            self._load(pos, fmt.size, backward)
            offset = pos - self.start
        return fmt.unpack_from(self.data, offset)

    def read(self, pos, length):
        offset = pos - self.start
        if offset < 0 or offset + length > len(self.data):
            self._load(pos, length, True)
            offset = pos - self.start
        return self.data[offset:offset + length]


class FileStorageBackend(Backend):
    """Reads the FileStorage file directly, newest transaction first."""

    fast = True

    @contextlib.contextmanager
    def _file(self):
        with open(self.storage._file_name, 'rb') as f:
            yield Blocks(f)

    def _end(self):
        # Everything before `_pos` is committed and never changes (until a
        # pack, which `undo` double-checks under the storage lock).
        return self.storage._pos

    def _header(self, f, pos, backward=True):
        return f.unpack(TRANS_HDR, pos, backward)

    def _previous(self, f, pos):
        return pos - 8 - f.unpack(TRAILER, pos - 8)[0]

    def _walk_back(self, f, pos, progress=None):
        """(pos, header) from the transaction before `pos` backwards."""
        count = 0
        while pos > FILE_START:
            pos = self._previous(f, pos)
            header = self._header(f, pos)
            if header[2] == b'p':
                return
            count += 1
            if progress is not None and not count % 10000:
                progress(count)
            yield pos, header

    def _info(self, f, pos, header):
        tid, tlen, status, ulen, dlen, elen = header
        start = pos + TRANS_HDR_LEN
        texts = f.read(start, ulen + dlen + elen)
        return gocept.zodbundo.info.TransactionInfo(
            tid=tid, time=gocept.zodbundo.ids.tid_time(tid),
            user=text(texts[:ulen]),
            description=text(texts[ulen:ulen + dlen]),
            size=tlen, extension=_extension(texts[ulen + dlen:]))

    def iter_log(self, until_tid=None, since_tid=None, progress=None):
        with self._file() as f:
            end = self._end()
            if until_tid is not None:
                end = self._position_after(f, end, until_tid)
            for pos, header in self._walk_back(f, end, progress):
                tid = header[0]
                if since_tid is not None and tid < since_tid:
                    return
                if header[2] != b' ':
                    continue
                yield self._info(f, pos, header)

    def _position_after(self, f, end, tid):
        """Position just after the last transaction with a tid <= `tid`."""
        pos = self._find(f, end, tid)
        if pos is None:
            return FILE_START
        return pos + self._header(f, pos)[1] + 8

    def _find(self, f, end, tid, progress=None):
        """Position of the last transaction with a tid <= `tid` (or None).

        Walks from both ends at once, so it reads at most twice as many
        transaction headers as lie between `tid` and the nearer end.
        (Interpolating by time, as FileStorage's iterator does, goes
        wrong when commits come in bursts.)
        """
        if end <= FILE_START:
            return None
        forward = Blocks(f.f)
        first = self._header(forward, FILE_START, False)
        if tid < first[0]:
            return None
        last = self._previous(f, end)
        if tid >= self._header(f, last)[0]:
            return last
        pos, header = FILE_START, first
        back = last
        count = 0
        while True:
            following = pos + header[1] + 8
            next_header = self._header(forward, following, False)
            if next_header[0] > tid:
                return pos
            pos, header = following, next_header
            back = self._previous(f, back)
            if self._header(f, back)[0] <= tid:
                return back
            count += 2
            if progress is not None and not count % 10000:
                progress(count)

    def locate(self, tid, progress=None):
        with self._file() as f:
            pos = self._find(f, self._end(), tid, progress)
            if pos is None:
                raise self.unknown(tid)
            header = self._header(f, pos)
        if header[0] != tid:
            raise self.unknown(tid)
        if header[2] == b'p':
            raise self.packed(tid)
        if header[2] != b' ':
            raise self.unknown(tid)
        return pos

    def records(self, tid):
        # Read from the located position: FileStorage's iterator would
        # interpolate by time and walk there with a seek per transaction.
        pos = self.locate(tid)
        records = []
        with self._file() as f:
            header = self._header(f, pos)
            tid, tlen, status, ulen, dlen, elen = header
            txn = self._info(f, pos, header)
            data_pos = pos + TRANS_HDR_LEN + ulen + dlen + elen
            end = pos + tlen
            while data_pos < end:
                oid, data_tid, prev, tloc, vlen, plen = f.unpack(
                    DATA_HDR, data_pos, False)
                if plen:
                    data = f.read(data_pos + DATA_HDR.size + vlen, plen)
                else:  # a back pointer: an undo or an undone creation
                    data = self._load_serial(oid, tid)
                records.append((oid, data))
                data_pos += DATA_HDR.size + vlen + (plen or 8)
        return txn, records

    def _load_serial(self, oid, tid):
        try:
            return self.storage.loadSerial(oid, tid)
        except ZODB.POSException.POSKeyError:
            return None

    def undo(self, instance, tid, token, meta):
        fs = self.storage
        undone = getattr(instance, '_undone', None)
        if (token is None or undone is None
                or getattr(instance, '_storage', None) is not fs):
            return super().undo(instance, tid, token, meta)
        # FileStorage.undo() minus its walk from the end of the file
        # (`_txn_find`), which costs ~2 µs a transaction under the lock.
        if fs._is_read_only:
            raise ZODB.POSException.ReadOnlyError()
        with fs._lock:
            if meta is not fs._transaction:
                raise ZODB.POSException.StorageTransactionError(fs, meta)
            fs._file.seek(token)
            if fs._file.read(8) != tid:  # a pack moved it meanwhile
                token = fs._txn_find(tid, 1)
            tindex = fs._txn_undo_write(token)
            fs._tindex.update(tindex)
        undone.update(tindex)


class RelStorageBackend(Backend):
    """History-preserving RelStorage: SQL with ORDER BY tid DESC LIMIT."""

    resolves_on_undo = False
    verifies_tids = True
    first_page = 50
    max_page = 5000

    @contextlib.contextmanager
    def _cursor(self):
        adapter = self.storage._adapter
        connmanager = adapter.connmanager
        conn, cursor = connmanager.open_for_load()
        try:
            if type(adapter).__name__ == 'PostgreSQLAdapter':
                # Without fresh statistics (a young or fast-growing
                # table), PostgreSQL plans `ORDER BY tid DESC LIMIT n` as
                # a bitmap scan of every row plus a sort; walking the
                # primary key backwards reads only n rows.
                cursor.execute('SET LOCAL enable_bitmapscan = off;'
                               ' SET LOCAL enable_seqscan = off')
            yield cursor
        finally:
            connmanager.rollback_and_close(conn, cursor)

    def _run(self, cursor, stmt, params=()):
        self.storage._adapter.runner.run_script_stmt(cursor, stmt, params)
        return cursor.fetchall()

    def locate(self, tid, progress=None):
        with self._cursor() as cursor:
            rows = self._run(
                cursor,
                'SELECT packed FROM "transaction" WHERE tid = %s',
                (ZODB.utils.u64(tid),))
        if not rows:
            raise self.unknown(tid)
        if rows[0][0]:
            raise self.packed(tid)
        return None

    def iter_log(self, until_tid=None, since_tid=None, progress=None):
        upper = ZODB.utils.u64(until_tid) if until_tid else 2 ** 63 - 1
        lower = ZODB.utils.u64(since_tid) if since_tid else 1
        page = self.first_page
        seen = 0
        with self._cursor() as cursor:
            while True:
                # The size is summed per transaction in the same query:
                # one round trip a page.
                rows = self._run(
                    cursor,
                    'SELECT tid, username, description, extension,'
                    ' (SELECT SUM(COALESCE(state_size, 0))'
                    '  FROM object_state o WHERE o.tid = t.tid)'
                    ' FROM "transaction" t'
                    ' WHERE packed = %(FALSE)s AND tid <= %%s AND tid >= %%s'
                    ' ORDER BY tid DESC LIMIT %%s',
                    (upper, lower, page))
                if not rows:
                    return
                for tid_int, user, description, extension, size in rows:
                    tid = ZODB.utils.p64(tid_int)
                    yield gocept.zodbundo.info.TransactionInfo(
                        tid=tid, time=gocept.zodbundo.ids.tid_time(tid),
                        user=text(bytes(user or b'')),
                        description=text(bytes(description or b'')),
                        size=int(size or 0),
                        extension=_extension(extension))
                if len(rows) < page:
                    return
                seen += len(rows)
                if progress is not None:
                    progress(seen)
                upper = rows[-1][0] - 1
                page = min(page * 2, self.max_page)


def object_history(storage, oid, until_tid=None, progress=None):
    """TransactionInfo of every change of `oid`, newest first, in pages.

    `storage.history(oid, size)` has no offset, so each page asks for more
    and skips what it already returned (ZEO has no `filter` argument).
    """
    size = 16
    done = 0
    while True:
        try:
            entries = storage.history(oid, size=size)
        except ZODB.POSException.POSKeyError:
            raise gocept.zodbundo.errors.BadId(
                'Unknown oid {}: no such object in {}.'.format(
                    gocept.zodbundo.ids.hexid(oid),
                    storage_name(storage))) from None
        for entry in entries[done:]:
            entry = dict(entry)
            tid = entry.pop('tid')
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
        done = len(entries)
        if progress is not None:
            progress(done)
        size *= 4


def compile_description(description):
    if description is None or hasattr(description, 'search'):
        return description
    try:
        return re.compile(description)
    except re.error as e:
        raise gocept.zodbundo.errors.BadArgument(
            'Bad description pattern {!r}: {}.'.format(description, e))
