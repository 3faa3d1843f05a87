"""Exceptions raised by gocept.zodbundo; all derive from `Error`."""


class Error(Exception):
    """Base class of every error gocept.zodbundo raises on purpose."""


class BadId(Error, ValueError):
    """A tid or oid is malformed, unknown or packed away."""


class BadArgument(Error, ValueError):
    """An argument other than an id is malformed (e.g. a bad pattern)."""


class NotUndoable(Error):
    """The storage cannot undo; raised before anything is attempted."""


class Refused(Error):
    """The request cannot be carried out as asked (e.g. nothing to revert)."""


class UndoConflict(Error):
    """Undo would conflict with later transactions; nothing was written.

    `plan` is the `UndoPlan` naming every conflicting object, its class and
    the later transactions that changed it.
    """

    def __init__(self, plan):
        self.plan = plan
        conflicts = plan.conflicts
        details = '; '.join(
            '{} ({}) {}'.format(
                entry.oid_hex, entry.class_name,
                entry.reason if entry.reason.startswith('already undone')
                else 'changed later by {}'.format(
                    ', '.join(entry.later_tids_hex)
                    or 'a later transaction'))
            for entry in conflicts[:3])
        if len(conflicts) > 3:
            details += '; and {} more'.format(len(conflicts) - 3)
        super().__init__(
            'undo of {} conflicts on {} object(s): {}'.format(
                ', '.join(plan.tids_hex), len(conflicts), details))
