"""The IUndoTool interface."""
import zope.interface


class IUndoTool(zope.interface.Interface):
    """Find, preview, undo and revert transactions of a ZODB database.

    tids and oids are accepted as 8 bytes, ``0x...`` hex or 16 hex digits;
    tids also as `undoLog()` ids and the values of Zope's Undo tab.
    """

    def history(oid, size=20):
        """[TransactionInfo] of the transactions that changed `oid`."""

    def log(since=None, until=None, user=None, description=None, oid=None,
            limit=20):
        """[TransactionInfo], newest first, matching every filter given."""

    def iter_log(since=None, until=None, user=None, description=None,
                 oid=None):
        """Like `log`, as a generator without limit."""

    def show(tid):
        """TransactionInfo of `tid` with `changes`: [ObjectChange]."""

    def preview(tids, cascade=False):
        """UndoPlan for undoing `tids`; never writes."""

    def undo(tids, note=None, user=None, cascade=False):
        """Undo `tids` in one new transaction; return its TransactionInfo.

        Raises UndoConflict (carrying the plan) and writes nothing when
        an object cannot be restored.
        """

    def preview_revert(oid, before):
        """RevertPlan for `revert`; its `discarded` lists every transaction
        whose change to `oid` the revert throws away. Never writes."""

    def revert(oid, before, note=None, user=None, plan=None):
        """Write `oid`'s state as of before `before` as a new transaction.

        With `plan` (from `preview_revert`), refused if `oid` changed
        since the preview.
        """
