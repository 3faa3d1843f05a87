"""FileStorage: read the file directly, newest transaction first."""
import bisect
import contextlib
import struct

import ZODB.POSException

import gocept.zodbundo.backends
import gocept.zodbundo.ids
import gocept.zodbundo.info


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


class Marks:
    """Positions of every `every`-th transaction a walk passed, by tid.

    A long-lived tool (the web pages) then finds a tid deep in the file by
    walking from the nearest mark instead of from the ends. Positions stay
    valid until a pack rewrites the file, which replaces the storage's
    file object: the marks belong to that object.
    """

    every = 1000

    def __init__(self):
        self.file = None
        self.tids = []
        self.positions = {}

    def _current(self, storage):
        if self.file is not storage._file:
            self.file = storage._file
            self.tids = []
            self.positions = {}

    def add(self, storage, tid, pos):
        self._current(storage)
        if tid not in self.positions:
            self.positions[tid] = pos
            bisect.insort(self.tids, tid)

    def around(self, storage, tid):
        """(pos of a mark with a tid <= `tid` or None, pos of a mark with
        a tid > `tid` or None)."""
        self._current(storage)
        index = bisect.bisect_right(self.tids, tid)
        below = self.positions[self.tids[index - 1]] if index else None
        above = (self.positions[self.tids[index]]
                 if index < len(self.tids) else None)
        return below, above


class FileStorageBackend(gocept.zodbundo.backends.Backend):
    """Reads the FileStorage file directly, newest transaction first."""

    def __init__(self, storage):
        super().__init__(storage)
        self.marks = Marks()

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
            if not count % self.marks.every:
                self.marks.add(self.storage, header[0], pos)
            if progress is not None and not count % 10000:
                progress(count)
            yield pos, header

    def _info(self, f, pos, header):
        tid, tlen, status, ulen, dlen, elen = header
        start = pos + TRANS_HDR_LEN
        texts = f.read(start, ulen + dlen + elen)
        text = gocept.zodbundo.backends.text
        return gocept.zodbundo.info.TransactionInfo(
            tid=tid, time=gocept.zodbundo.ids.tid_time(tid),
            user=text(texts[:ulen]),
            description=text(texts[ulen:ulen + dlen]), size=tlen,
            extension=gocept.zodbundo.backends.extension(
                texts[ulen + dlen:]))

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
        below, above = self.marks.around(self.storage, tid)
        pos = FILE_START if below is None else below
        header = first if below is None else self._header(
            forward, pos, False)
        back = last if above is None else above
        count = 0
        while True:
            following = pos + header[1] + 8
            next_header = self._header(forward, following, False)
            if next_header[0] > tid:
                return pos
            pos, header = following, next_header
            back = self._previous(f, back)
            back_header = self._header(f, back)
            if back_header[0] <= tid:
                return back
            count += 2
            if not count % (2 * self.marks.every):
                self.marks.add(self.storage, header[0], pos)
                self.marks.add(self.storage, back_header[0], back)
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

    def records(self, tid, token=None):
        # Read from the located position: FileStorage's iterator would
        # interpolate by time and walk there with a seek per transaction.
        records = []
        with self._file() as f:
            pos = token
            if (pos is None or pos + TRANS_HDR_LEN > self._end()
                    or self._header(f, pos)[0] != tid):
                pos = self.locate(tid)  # (a pack may have moved it)
            header = self._header(f, pos)
            tid, tlen, status, ulen, dlen, elen = header
            txn = self._info(f, pos, header)
            data_pos = pos + TRANS_HDR_LEN + ulen + dlen + elen
            end = pos + tlen
            while data_pos < end:
                oid, data_tid, prev, tloc, vlen, plen = f.unpack(
                    DATA_HDR, data_pos, False)
                records.append((oid, self._data(f, data_pos)))
                data_pos += DATA_HDR.size + vlen + (plen or 8)
        return txn, records

    def _data(self, f, pos):
        """The state of the data record at `pos` (None: a removal).

        Follows back pointers (written by undo) by position, as
        FileStorage's `_loadBack_impl` does: loading by tid would give
        the last record of a transaction that wrote an object twice.
        """
        while pos:
            oid, data_tid, prev, tloc, vlen, plen = f.unpack(
                DATA_HDR, pos, False)
            start = pos + DATA_HDR.size + vlen
            if plen:
                return f.read(start, plen)
            pos = f.unpack(TRAILER, start, False)[0]
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
