"""How undoing would go, per object: clean, resolved or conflict."""
import dataclasses

import ZODB.POSException

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


def judge(backend, instance, load_before, overlay, tid, oid, data, later):
    """The PlanEntry for undoing `tid`'s record of `oid`.

    `overlay` maps oids to the state earlier undos of the same plan leave.
    """
    name = gocept.zodbundo.backends.class_name(data)
    before = load_before(oid, tid)
    pre_data = before[0] if before else None
    entry = gocept.zodbundo.info.PlanEntry(
        oid=oid, class_name=name, status=gocept.zodbundo.info.CLEAN,
        tid=tid, later_tids=later)
    if not later:
        overlay[oid] = pre_data
        return entry
    if oid in overlay:
        current = overlay[oid]
        current_tid = None
    else:
        try:
            current, current_tid = instance.load(oid)
        except ZODB.POSException.POSKeyError:
            current, current_tid = None, None
    if current == data:
        overlay[oid] = pre_data
        return entry
    if not pre_data:
        return replace(
            entry, status=gocept.zodbundo.info.CONFLICT,
            reason='created by this transaction and changed later')
    if backend.resolves_on_undo and current_tid is not None:
        resolve = getattr(backend.storage, 'tryToResolveConflict', None)
        if resolve is not None:
            try:
                overlay[oid] = resolve(
                    oid, current_tid, tid, pre_data, current)
            except Exception as error:  # noqa: B902 any failure to
                reason = 'not resolvable: {}'.format(  # resolve is a
                    str(error) or type(error).__name__)  # conflict
            else:
                return replace(
                    entry, status=gocept.zodbundo.info.RESOLVED)
        else:
            reason = 'changed later'
    elif backend.resolves_on_undo:
        reason = 'changed later'
    else:
        reason = ('changed later; {} does no conflict resolution on'
                  ' undo'.format(backend.name))
    return replace(
        entry, status=gocept.zodbundo.info.CONFLICT, reason=reason)


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
