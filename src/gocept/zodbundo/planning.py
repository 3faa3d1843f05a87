"""How undoing would go, per object: clean, resolved or conflict."""
import dataclasses

import ZODB.POSException
import ZODB.utils

import gocept.zodbundo.backends
import gocept.zodbundo.info


def attribute(entries, failed_tid, error, failed):
    """Mark the entries the storage's UndoError is about."""
    reasons = undo_errors(error)
    named = {oid for oid in reasons if oid is not None}
    generic = reasons.get(None) or str(error)
    candidates = [e for e in entries
                  if failed_tid is None or e.tid == failed_tid]
    marked = False
    for entry in candidates:
        if entry.oid in named:
            failed[(entry.tid, entry.oid)] = reasons[entry.oid]
            marked = True
    if marked:
        return
    # The storage did not say which object (RelStorage): blame the
    # objects changed later, or else the whole transaction.
    clean = gocept.zodbundo.info.CLEAN
    blamed = [e for e in candidates
              if e.later_tids and e.status != clean] or [
                  e for e in candidates if e.later_tids] or candidates
    for entry in blamed:
        failed[(entry.tid, entry.oid)] = generic


class Simulation:
    """Replays, read-only, what the storage's undo does, record by record.

    FileStorage (also behind ZEO) decides per object on its *last* record
    in the undone transaction (an earlier failure of the same object gets
    a "second chance", `FileStorage._txn_undo_write`): the record can be
    undone if it is current, or if its state equals the current one
    (then the state before it is copied back), or else if the class's
    `_p_resolveConflict` merges the two (`_transactionalUndoRecord`).
    RelStorage refuses a whole transaction when any object's state differs
    from its current one (`packundo.verify_undoable`, by MD5) and never
    resolves. Undos earlier in the same plan count as current.
    The preview is this replay, so the dry run of a read-only storage and
    the commit judge alike; a writable storage's trial has the last word.
    """

    def __init__(self, backend, instance, load_before, resolve):
        self.backend = backend
        self.instance = instance
        self.load_before = load_before
        self.resolve = resolve
        self.overlay = {}   # oid -> state the plan's earlier undos leave
        self.committed = {}  # oid -> (state, serial) before the plan

    def current(self, oid):
        if oid not in self.committed:
            try:
                self.committed[oid] = self.instance.load(oid)
            except ZODB.POSException.POSKeyError:
                # Removed (its creation undone): the removal record is
                # still the current one.
                self.committed[oid] = (None, self._last_tid(oid))
        if oid in self.overlay:
            return self.overlay[oid], None
        return self.committed[oid]

    def _last_tid(self, oid):
        try:
            history = self.instance.history(oid, size=1)
        except ZODB.POSException.POSKeyError:
            return None
        return history[0]['tid'] if history else None

    def before(self, oid, tid):
        """(state before `tid` or None, whether there is an earlier record)."""
        try:
            found = self.load_before(oid, tid)
        except ZODB.POSException.POSKeyError:  # an earlier removal record
            return None, True
        if not found:
            return None, False
        return found[0] or None, True

    def undo(self, tid, records, later):
        """PlanEntries (one per object) for undoing `tid` after the earlier
        ones; `later` maps oids to the later tids not undone with it."""
        last = {}
        for oid, data in records:
            last.pop(oid, None)  # the last record of an object decides
            last[oid] = data
        verdicts = {}
        for oid, data in last.items():
            verdicts[oid] = self._judge(oid, tid, data)
        if not self.backend.resolves_on_undo:
            # RelStorage refuses the whole transaction at once.
            failed = [v for v in verdicts.values()
                      if v[0] == gocept.zodbundo.info.CONFLICT]
            if not failed:
                for oid, (status, reason, new) in verdicts.items():
                    self.overlay[oid] = new
        else:
            for oid, (status, reason, new) in verdicts.items():
                if status != gocept.zodbundo.info.CONFLICT:
                    self.overlay[oid] = new
        return [
            gocept.zodbundo.info.PlanEntry(
                oid=oid,
                class_name=gocept.zodbundo.backends.class_name(
                    data or self._any_state(oid, tid)),
                status=verdicts[oid][0], tid=tid,
                later_tids=later.get(oid, ()), reason=verdicts[oid][1])
            for oid, data in last.items()]

    def _any_state(self, oid, tid):
        return self.before(oid, tid)[0] or self.current(oid)[0]

    def _judge(self, oid, tid, data):
        """(status, reason, new state) for undoing `tid`'s record."""
        clean = gocept.zodbundo.info.CLEAN
        conflict = gocept.zodbundo.info.CONFLICT
        current, serial = self.current(oid)
        pre, has_pre = self.before(oid, tid)
        is_current = oid not in self.overlay and serial == tid
        if not self.backend.resolves_on_undo:
            if oid == ZODB.utils.z64 and not has_pre:
                return conflict, 'creates the root object', None
            if (is_current or data is None or current is None
                    or data == current):
                return clean, '', pre
            return conflict, self._changed(), None
        if not is_current:
            if data is None or current is None:
                return conflict, 'removed, then changed later', None
            if data != current:
                if not has_pre:
                    return (conflict,
                            'created by this transaction and changed'
                            ' later', None)
                return self._resolved(oid, serial, tid, pre, current)
        return clean, '', pre if has_pre else None

    def _changed(self):
        return 'changed later; {} does no conflict resolution on' \
            ' undo'.format(self.backend.name)

    def _resolved(self, oid, serial, tid, pre, current):
        if pre is None:
            return (gocept.zodbundo.info.CONFLICT,
                    'changed later (its earlier state was removed)', None)
        try:
            merged = self.resolve(oid, serial or tid, tid, pre, current)
        except Exception as error:  # noqa: B902 any failure to resolve
            reason = 'changed later'  # is a conflict, as in the storage
            if not isinstance(error, ZODB.POSException.ConflictError):
                reason = 'changed later; not resolvable: {}'.format(
                    str(error) or type(error).__name__)
            return gocept.zodbundo.info.CONFLICT, reason, None
        return gocept.zodbundo.info.RESOLVED, '', merged

    def net_changes(self):
        """oids whose state the simulated undo would change."""
        return {oid for oid, state in self.overlay.items()
                if state != self.committed.get(oid, (None,))[0]}


class _ResolvingReader:
    """What ZODB's `tryToResolveConflict` needs of a storage, for any."""

    def __init__(self, storage):
        self.loadSerial = storage.loadSerial

    def _crs_untransform_record_data(self, data):
        return data

    _crs_transform_record_data = _crs_untransform_record_data


def resolver(storage):
    """`tryToResolveConflict(oid, committed, old, new, committed_data)`."""
    import ZODB.ConflictResolution
    reader = _ResolvingReader(storage)

    def resolve(oid, committed_serial, old_serial, new, committed):
        return ZODB.ConflictResolution.tryToResolveConflict(
            reader, oid, committed_serial, old_serial, new, committed)
    return resolve


def trial_verdict(entry, failure):
    """`entry` as the storage's trial judged it (`failure`: its reason)."""
    conflict = gocept.zodbundo.info.CONFLICT
    if failure is not None:
        if entry.status == conflict:
            return entry  # the replay's reason says more
        return replace(entry, status=conflict, reason=failure)
    if entry.status == conflict:
        return replace(entry, status=gocept.zodbundo.info.RESOLVED,
                       reason='accepted by the storage')
    return entry


def replace(entry, **changes):
    return dataclasses.replace(entry, **changes)


def force_conflict(plan, failure):
    failed_tid, error = failure
    entries = tuple(
        replace(e, status=gocept.zodbundo.info.CONFLICT, reason=str(error))
        if failed_tid is None or e.tid == failed_tid else e
        for e in plan.entries)
    return gocept.zodbundo.info.UndoPlan(plan.tids, entries, plan.checked_by)


def undo_errors(error):
    """{oid or None: reason} from a (Multiple)UndoError."""
    errors = getattr(error, '_errs', None)
    if errors:
        return {oid: str(err) for oid, err in errors}
    oid = getattr(error, '_oid', None)
    reason = getattr(error, '_reason', None) or str(error)
    return {oid: reason}
