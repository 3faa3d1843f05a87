"""UndoTool: history, log, show, preview, undo and revert on a ZODB.DB."""
import contextlib
import dataclasses
import datetime

import ZODB.blob
import ZODB.interfaces
import ZODB.Connection
import ZODB.POSException
import zope.interface

import gocept.zodbundo.backends
import gocept.zodbundo.errors
import gocept.zodbundo.ids
import gocept.zodbundo.info
import gocept.zodbundo.planning
from gocept.zodbundo.interfaces import IUndoTool


# Cascading follows later transactions transitively; stop somewhere sane.
MAX_CASCADE = 1000


def _as_list(tids):
    if isinstance(tids, (bytes, bytearray, str, int)):
        return [tids]
    return list(tids)


class _Located(dict):
    """{tid: what `locate` returned}, with the records read meanwhile
    (a committed transaction's records do not change)."""

    def __init__(self):
        super().__init__()
        self.records = {}


@zope.interface.implementer(IUndoTool)
class UndoTool:
    """Undo tool for `db` (a ZODB.DB); also the `IUndoTool(db)` adapter.

    `progress`, if given, is called with a count of transactions read
    while a scan is running (the command line shows it on a terminal).
    """

    def __init__(self, db, progress=None):
        self.db = db
        self.progress = progress
        self._backend_cache = None

    @property
    def backend(self):
        """The per-storage strategy; NotUndoable when there is none."""
        if self._backend_cache is None:
            self._backend_cache = gocept.zodbundo.backends.backend_for(
                self.db)
        return self._backend_cache

    @contextlib.contextmanager
    def _reader(self):
        """A storage instance seeing the newest committed state."""
        instance = self.db._mvcc_storage.new_instance()
        try:
            instance.poll_invalidations()
            yield instance
        finally:
            instance.release()

    def _loader(self, instance, name):
        # MVCC adapter instances only offer `load`; RelStorage instances
        # offer everything.
        method = getattr(instance, name, None)
        return method if method is not None else getattr(
            self.db.storage, name)

    # Reading

    def history(self, oid, size=20):
        """[TransactionInfo] that changed `oid`, newest first."""
        oid = gocept.zodbundo.ids.parse_oid(oid)
        backend = self.backend  # refuse storages that cannot undo
        result = []
        with self._reader() as reader, self._explaining(oid, 'oid'):
            for info in gocept.zodbundo.backends.object_history(
                    reader, oid, progress=self.progress, name=backend.name):
                result.append(info)
                if size is not None and len(result) >= size:
                    break
        return result

    def log(self, since=None, until=None, user=None, description=None,
            oid=None, limit=20):
        """[TransactionInfo] matching every filter given, newest first.

        `since`/`until`: datetime (naive means UTC) or POSIX seconds,
        both inclusive; `user`: the whole user name, the user id, or
        for Zope's '<user folder path> <id>' names the folder path or
        both; `description`: a regular expression searched in the
        description (a string is compiled with re.MULTILINE, so ^ and $
        match at each line); `oid`: only transactions that
        changed this object. At most `limit` (None: all) are returned;
        the history is read only as far as needed to find them.
        """
        result = []
        if limit is not None and limit <= 0:
            return result
        for info in self.iter_log(since, until, user, description, oid):
            result.append(info)
            if limit is not None and len(result) >= limit:
                break
        return result

    def iter_log(self, since=None, until=None, user=None, description=None,
                 oid=None):
        """Generator version of `log` without a limit."""
        backend = self.backend
        pattern = gocept.zodbundo.backends.compile_description(description)
        since_time = _seconds(since)
        until_time = _seconds(until)
        since_tid = until_tid = None
        # tids only bound the scan, with a millisecond to spare for float
        # rounding; the times themselves are compared exactly below.
        if since_time is not None:
            since_tid = gocept.zodbundo.ids.time_to_tid(since_time - 1e-3)
        if until_time is not None:
            until_tid = gocept.zodbundo.ids.time_to_tid(until_time + 1e-3)
        if oid is not None:
            oid = gocept.zodbundo.ids.parse_oid(oid)
            infos = self._oid_log(oid, until_tid, since_tid)
        else:
            infos = backend.iter_log(until_tid, since_tid, self.progress)
        try:
            for info in infos:
                if since_time is not None and info.time < since_time:
                    if info.tid < since_tid:
                        return
                    continue
                if until_time is not None and info.time > until_time:
                    continue
                if user is not None and not _user_matches(info.user, user):
                    continue
                if pattern is not None and not pattern.search(
                        info.description):
                    continue
                yield info
        finally:
            close = getattr(infos, 'close', None)
            if close is not None:
                close()

    def _oid_log(self, oid, until_tid, since_tid):
        with self._reader() as reader, self._explaining(oid, 'oid'):
            for info in gocept.zodbundo.backends.object_history(
                    reader, oid, until_tid, self.progress,
                    self.backend.name):
                if since_tid is not None and info.tid < since_tid:
                    return
                yield info

    def show(self, tid):
        """TransactionInfo of `tid` whose `changes` lists ObjectChange."""
        tid = gocept.zodbundo.ids.parse_tid(tid)
        with self._explaining(tid, 'tid'):
            txn, records = self.backend.records(tid)
        changes = [
            gocept.zodbundo.info.ObjectChange(
                oid=oid,
                class_name=gocept.zodbundo.backends.class_name(data),
                size=len(data or b''))
            for oid, data in records]
        if isinstance(txn, gocept.zodbundo.info.TransactionInfo):
            return dataclasses.replace(txn, changes=changes)
        return gocept.zodbundo.info.TransactionInfo(
            tid=tid, time=gocept.zodbundo.ids.tid_time(tid),
            user=gocept.zodbundo.backends.text(txn.user),
            description=gocept.zodbundo.backends.text(txn.description),
            size=sum(c.size for c in changes),
            extension=dict(getattr(txn, 'extension', None) or {}),
            changes=changes)

    # Undo

    def _locate(self, tids, check=True):
        """{tid: token} for the parsed `tids`; BadId for unusable ones.

        With `check` false, the tids are only parsed (for storages whose
        undo refuses unknown tids by itself).
        """
        backend = self.backend
        located = _Located()
        for tid in _as_list(tids):
            tid = gocept.zodbundo.ids.parse_tid(tid)
            if tid not in located:
                with self._explaining(tid, 'tid'):
                    located[tid] = (
                        backend.locate(tid, self.progress) if check
                        else None)
        if not located:
            raise gocept.zodbundo.errors.BadArgument(
                'No transaction given to undo.')
        return located

    def _records(self, tid, located):
        """[(oid, data)] of `tid`, read once per preview or undo."""
        memo = getattr(located, 'records', None)
        if memo is None:
            return self.backend.records(tid, located.get(tid))[1]
        if tid not in memo:
            memo[tid] = self.backend.records(tid, located.get(tid))[1]
        return memo[tid]

    def _later_tids(self, reader, oid, tid):
        """Transactions after `tid` that changed `oid`, newest first."""
        later = []
        for info in gocept.zodbundo.backends.object_history(reader, oid):
            if info.tid <= tid:
                break
            later.append(info.tid)
        return later

    def _cascade(self, located):
        backend = self.backend
        todo = list(located)
        with self._reader() as reader:
            while todo:
                self._cascade_step(backend, reader, todo, located)
        return located

    def _cascade_step(self, backend, reader, todo, located):
        tid = todo.pop()
        for oid, data in self._records(tid, located):
            for later in self._later_tids(reader, oid, tid):
                if later in located:
                    continue
                if len(located) >= MAX_CASCADE:
                    raise gocept.zodbundo.errors.Refused(
                        'Cascade grows beyond {} transactions; undo'
                        ' fewer transactions or revert single'
                        ' objects.'.format(MAX_CASCADE))
                located[later] = backend.locate(later, self.progress)
                todo.append(later)

    def _targets(self, tids, cascade, check=True):
        located = self._locate(tids, check or cascade)
        if cascade:
            located = self._cascade(located)
        order = sorted(located, reverse=True)
        self._check_blobs(order, located)
        return order, located

    def _check_blobs(self, order, located):
        """Refuse, before writing, an undo that would lose blob data.

        FileStorage and RelStorage undo here and copy the restored blob
        file into the new transaction; opened without their blob
        directory they write records pointing to blob files that never
        exist (POSKeyError on reading). A ZEO server undoes with its own.
        """
        storage = self.backend.storage
        if not self.backend.undoes_blobs_here or (
                ZODB.interfaces.IBlobStorage.providedBy(storage)):
            return
        for tid in order:
            records = self._records(tid, located)
            blobs = [oid for oid, data in records
                     if data and ZODB.blob.is_blob_record(data)]
            if blobs:
                raise gocept.zodbundo.errors.Refused(
                    'Refused: {} changes blob {}, but {} was opened'
                    ' without its blob directory, so the undo would lose'
                    ' the blob data. Open it with its blobs (zodb-undo'
                    ' --blobs DIR, blobstorage_dir= in a file:// URI,'
                    ' blob-dir in the config; in Python the storage\'s'
                    ' blob_dir).'.format(
                        gocept.zodbundo.ids.hexid(tid),
                        ', '.join(gocept.zodbundo.ids.hexid(o)
                                  for o in blobs[:3]),
                        self.backend.name))

    def _run(self, order, located, meta, commit):
        """Undo `order` in one storage transaction; finish or abort it.

        Returns (new tid or None, None) or (None, (failed tid, error)).
        """
        backend = self.backend
        mvcc = self.db._mvcc_storage
        instance = getattr(mvcc, 'undo_instance', mvcc.new_instance)()
        finished = []
        current = None
        try:
            instance.tpc_begin(meta)
            try:
                for current in order:
                    backend.undo(instance, current, located[current], meta)
                current = None
                instance.tpc_vote(meta)
                if commit:
                    _finish(instance, meta, finished)
                else:
                    instance.tpc_abort(meta)
            except ZODB.POSException.UndoError as error:
                instance.tpc_abort(meta)
                return None, (current, error)
            except BaseException:
                instance.tpc_abort(meta)
                raise
        finally:
            instance.release()
        return (finished[0] if finished else None), None

    def _meta(self, order, note, user):
        undo_of = [gocept.zodbundo.ids.hexid(t) for t in order]
        if note is None:
            note = 'Undo of {}'.format(', '.join(undo_of))
        return ZODB.Connection.TransactionMetaData(
            user=user or '', description=note,
            extension={'undo_of': undo_of})

    def preview(self, tids, cascade=False):
        """UndoPlan for undoing `tids` (and with `cascade` every later
        transaction that touched the same objects). Never writes: on a
        writable storage the undo runs up to the vote and is aborted."""
        order, located = self._targets(tids, cascade)
        if cascade:
            self._check_cascade_changes(order, located, tids)
        return self._plan(order, located)

    def _check_cascade_changes(self, order, located, tids):
        """Refuse a cascade whose net effect is nothing (e.g. undoing a
        transaction together with the undo that already undid it)."""
        entries, simulation = self._analyse(order, located)
        if any(e.status == gocept.zodbundo.info.CONFLICT for e in entries):
            return  # the plan reports the conflict
        if simulation.net_changes():
            return
        asked = {gocept.zodbundo.ids.parse_tid(t) for t in _as_list(tids)}
        added = [gocept.zodbundo.ids.hexid(t) for t in order
                 if t not in asked]
        raise gocept.zodbundo.errors.Refused(
            'Nothing to undo: undoing {} with the later {} would leave'
            ' every object as it is now (the change is already undone);'
            ' nothing written.'.format(
                ', '.join(gocept.zodbundo.ids.hexid(t) for t in sorted(
                    asked, reverse=True)),
                ', '.join(added) or 'transactions'))

    def _plan(self, order, located, failure=None, trial=True):
        entries, simulation = self._analyse(order, located)
        if not trial or (self.db.storage.isReadOnly() and failure is None):
            return gocept.zodbundo.info.UndoPlan(
                tuple(order), tuple(entries), 'analysis')
        failed = {}
        remaining = list(order)
        while remaining:
            if failure is None:
                meta = self._meta(remaining, None, '')
                ignored, failure = self._run(
                    remaining, located, meta, commit=False)
                if failure is None:
                    break
            failed_tid, error = failure
            failure = None
            gocept.zodbundo.planning.attribute(
                entries, failed_tid, error, failed)
            if failed_tid is None:
                break
            remaining.remove(failed_tid)
        # The storage's trial has the last word, both ways.
        entries = [
            gocept.zodbundo.planning.trial_verdict(
                e, failed.get((e.tid, e.oid)))
            for e in entries]
        return gocept.zodbundo.info.UndoPlan(
            tuple(order), tuple(entries), 'trial')

    def _analyse(self, order, located):
        """(PlanEntries, Simulation) from the histories alone."""
        backend = self.backend
        undoing = set(order)
        entries = []
        with self._reader() as instance:
            simulation = gocept.zodbundo.planning.Simulation(
                backend, instance, self._loader(instance, 'loadBefore'),
                self._resolver())
            for tid in order:
                records = self._records(tid, located)
                later = {
                    oid: tuple(
                        t for t in self._later_tids(instance, oid, tid)
                        if t not in undoing)
                    for oid in {oid for oid, data in records}}
                entries.extend(self._explain(
                    simulation.undo(tid, records, later), simulation))
        return entries, simulation

    def _resolver(self):
        storage = self.db.storage
        own = getattr(storage, 'tryToResolveConflict', None)
        if own is not None:
            return own
        return gocept.zodbundo.planning.resolver(storage)

    def _explain(self, entries, simulation):
        """Say "already undone by U" where that is why undo conflicts."""
        result = []
        for entry in entries:
            if entry.status == gocept.zodbundo.info.CONFLICT:
                undone_by = self._undone_by(entry, simulation)
                if undone_by is not None:
                    entry = gocept.zodbundo.planning.replace(
                        entry, reason='already undone by {} ({}, {});'
                        ' to redo it, undo {}'.format(
                            undone_by.tid_hex,
                            gocept.zodbundo.info._isotime(undone_by.time),
                            undone_by.description or 'no note',
                            undone_by.tid_hex))
            result.append(entry)
        return result

    def _undone_by(self, entry, simulation):
        """The later undo transaction that undid `entry`'s change."""
        current = simulation.current(entry.oid)[0]
        if current != simulation.before(entry.oid, entry.tid)[0]:
            return None
        tid_hex = gocept.zodbundo.ids.hexid(entry.tid)
        for later in entry.later_tids:
            info = self._transaction_info(later)
            if tid_hex in (info.extension.get('undo_of') or ()):
                return info
        for later in entry.later_tids:
            info = self._transaction_info(later)
            if info.description.startswith(('Undo', 'undo')):
                return info
        return None

    def _transaction_info(self, tid):
        txn = self.backend.records(tid)[0]
        if isinstance(txn, gocept.zodbundo.info.TransactionInfo):
            return txn
        return gocept.zodbundo.info.TransactionInfo(
            tid=tid, time=gocept.zodbundo.ids.tid_time(tid),
            user=gocept.zodbundo.backends.text(txn.user),
            description=gocept.zodbundo.backends.text(txn.description),
            extension=dict(getattr(txn, 'extension', None) or {}))

    def undo(self, tids, note=None, user=None, cascade=False):
        """Undo `tids` newest first in one new transaction and commit.

        Returns the TransactionInfo of the undo transaction; its extension
        has 'undo_of' (hex tids). On a conflict nothing is written and
        UndoConflict carries the plan.
        """
        check = not self.backend.verifies_tids
        order, located = self._targets(tids, cascade, check)
        if cascade:
            self._check_cascade_changes(order, located, tids)
        meta = self._meta(order, note, user)
        new_tid, failure = self._run(order, located, meta, commit=True)
        if failure is not None:
            if not check:
                located = self._locate(order)  # BadId for unknown tids
            plan = self._plan(order, located, failure)
            if plan.clean:  # raced with another writer: report as is
                plan = gocept.zodbundo.planning.force_conflict(plan, failure)
            raise gocept.zodbundo.errors.UndoConflict(plan)
        return gocept.zodbundo.info.TransactionInfo(
            tid=new_tid, time=gocept.zodbundo.ids.tid_time(new_tid),
            user=gocept.zodbundo.backends.text(meta.user),
            description=gocept.zodbundo.backends.text(meta.description),
            size=None, extension=dict(meta.extension))

    def preview_revert(self, oid, before):
        """RevertPlan for `revert(oid, before)`; never writes.

        Its `discarded` lists every transaction at or after `before` whose
        change to `oid` the revert throws away. Raises what `revert`
        raises (BadId, Refused) where reverting is impossible or would
        change nothing.
        """
        oid = gocept.zodbundo.ids.parse_oid(oid)
        before = gocept.zodbundo.ids.parse_tid(before)
        with self._explaining(before, 'tid'):
            self.backend.locate(before, self.progress)
        with self._reader() as instance:
            with self._explaining(oid, 'oid'):
                current_tid, old = self._revert_source(
                    instance, oid, before)
            discarded = []
            for info in gocept.zodbundo.backends.object_history(
                    instance, oid, name=self.backend.name):
                if info.tid < before:
                    break
                discarded.append(info)
        return gocept.zodbundo.info.RevertPlan(
            oid=oid, before=before,
            class_name=gocept.zodbundo.backends.class_name(old[0]),
            restored_tid=old[1], current_tid=current_tid,
            discarded=tuple(discarded))

    def revert(self, oid, before, note=None, user=None, plan=None):
        """Store `oid`'s state as it was before `before`, as a new
        transaction (for when undoing the whole transaction conflicts).

        Refused where the object did not exist before `before` or is
        already in that state. `plan`, a RevertPlan from `preview_revert`,
        makes the commit write exactly what was previewed: Refused if the
        object changed since. The new transaction's extension
        'revert_of' records oid, before and the discarded tids.
        Returns the new transaction's TransactionInfo.
        """
        if plan is None:
            plan = self.preview_revert(oid, before)
        elif (plan.oid != gocept.zodbundo.ids.parse_oid(oid)
              or plan.before != gocept.zodbundo.ids.parse_tid(before)):
            raise gocept.zodbundo.errors.BadArgument(
                'The plan given is for {} before {}, not for this'
                ' revert.'.format(plan.oid_hex,
                                  gocept.zodbundo.ids.hexid(plan.before)))
        oid_hex = plan.oid_hex
        before_hex = gocept.zodbundo.ids.hexid(plan.before)
        if note is None:
            note = 'Revert {} to its state before {}'.format(
                oid_hex, before_hex)
        meta = ZODB.Connection.TransactionMetaData(
            user=user or '', description=note,
            extension={'revert_of': {
                'oid': oid_hex, 'before': before_hex,
                'discarded': [i.tid_hex for i in plan.discarded]}})
        finished = []
        with self._reader() as instance:
            serial, old = self._revert_source(instance, plan.oid, plan.before)
            if serial != plan.current_tid:
                raise gocept.zodbundo.errors.Refused(
                    'Not reverted: {} changed since the preview (now {});'
                    ' preview again.'.format(
                        oid_hex, gocept.zodbundo.ids.hexid(serial)))
            instance.tpc_begin(meta)
            try:
                instance.store(plan.oid, serial, old[0], '', meta)
                instance.tpc_vote(meta)
                _finish(instance, meta, finished)
            except BaseException:
                instance.tpc_abort(meta)
                raise
        new_tid = finished[0]
        return gocept.zodbundo.info.TransactionInfo(
            tid=new_tid, time=gocept.zodbundo.ids.tid_time(new_tid),
            user=user or '', description=note, size=None,
            extension=dict(meta.extension))

    def _revert_source(self, instance, oid, before):
        """(serial of the current state, `loadBefore` result) for `revert`.

        BadId or Refused where reverting is impossible or changes nothing.
        """
        oid_hex = gocept.zodbundo.ids.hexid(oid)
        before_hex = gocept.zodbundo.ids.hexid(before)
        try:
            current, serial = instance.load(oid)
        except ZODB.POSException.POSKeyError:
            raise gocept.zodbundo.errors.BadId(
                'Unknown oid {}: no such object in {}.'.format(
                    oid_hex, self.backend.name)) from None
        old = self._loader(instance, 'loadBefore')(oid, before)
        if not old or not old[0]:
            raise gocept.zodbundo.errors.Refused(
                'Cannot revert {}: it did not exist before {}; undo'
                ' the transaction that created it instead.'.format(
                    oid_hex, before_hex))
        if ZODB.blob.is_blob_record(old[0]):
            raise gocept.zodbundo.errors.Refused(
                'Cannot revert {}: it is a blob, whose data lives'
                ' outside the record; undo the transaction'
                ' instead.'.format(oid_hex))
        if old[0] == current:
            raise gocept.zodbundo.errors.Refused(
                'Nothing to revert: {} is already as it was before'
                ' {}.'.format(oid_hex, before_hex))
        return serial, old

    @contextlib.contextmanager
    def _explaining(self, raw, kind):
        """Add to an unknown-id error that the id is known as the other
        kind (arguments swapped: `history TID`, `revert TID --before
        OID`)."""
        try:
            yield
        except gocept.zodbundo.errors.BadId as error:
            if not str(error).startswith('Unknown ' + kind):
                raise
            other, known = (('tid', self._is_tid) if kind == 'oid'
                            else ('oid', self._is_oid))
            if not known(raw):
                raise
            article = {'oid': 'an oid', 'tid': 'a tid'}
            raise gocept.zodbundo.errors.BadId(
                '{} This looks like {} ({} was expected): {} {} exists;'
                ' check the order of the arguments.'.format(
                    error, article[other], article[kind],
                    'transaction' if other == 'tid' else 'object',
                    gocept.zodbundo.ids.hexid(raw))) from None

    def _is_tid(self, raw):
        try:
            self.backend.locate(raw)
        except gocept.zodbundo.errors.Error:
            return False
        return True

    def _is_oid(self, raw):
        with self._reader() as instance:
            try:
                instance.load(raw)
            except ZODB.POSException.POSKeyError:
                return False
        return True


def _finish(instance, meta, finished):
    # The tid reaches the callback (MVCC adapter instances return None).
    tid = instance.tpc_finish(meta, finished.append)
    if not finished:
        finished.append(tid)


def _user_matches(actual, wanted):
    """Does the user name `actual` match `wanted`: the whole name, the
    id, or for Zope's '<folder path> <id>' names the folder path or both
    ('shop/inner', '/shop/inner/editor', 'shop/inner editor')."""
    if actual == wanted:
        return True
    folder, user_id = gocept.zodbundo.info.zope_user(actual)
    wanted = wanted.strip()
    if wanted == user_id:
        return True
    if folder is None:
        return False
    path = wanted.replace(' ', '/').rstrip('/')
    if not path.startswith('/'):
        path = '/' + path
    return path in (folder, (folder.rstrip('/') + '/' + user_id))


def _seconds(when):
    if when is None:
        return None
    if isinstance(when, datetime.datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        return when.timestamp()
    if isinstance(when, datetime.date):
        return datetime.datetime(
            when.year, when.month, when.day,
            tzinfo=datetime.timezone.utc).timestamp()
    return float(when)
