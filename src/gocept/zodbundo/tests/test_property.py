"""Property: the preview's verdict is what undo then does, on any history.

Hypothesis builds short random histories (several objects, transactions
changing several of them, rewrites without change, undos of several
transactions at once, undos of undos, a conflict-resolving
`BTrees.Length`, objects created later) and checks, for every
transaction, that the read-only replay ('analysis', what a dry run on a
read-only storage shows) and the storage's trial agree, and that
committing the undo of one of them succeeds exactly when both said
clean. Examples are bounded (fewer over ZEO and RelStorage) and
derandomized, so `bin/test` stays fast and repeatable; the histories
of bug reports are pinned with `@example`.
"""
import unittest

import BTrees.Length
import hypothesis
import hypothesis.strategies as st
import persistent.mapping
import transaction

import gocept.zodbundo
import gocept.zodbundo.tests.layers


MAPS = 3

op = st.one_of(
    st.tuples(st.just('set'), st.integers(1, 2 ** MAPS - 1),
              st.sampled_from('ABC')),
    st.tuples(st.just('touch'), st.integers(0, MAPS - 1)),
    st.tuples(st.just('length'), st.sampled_from([1, 2, -1])),
    st.tuples(st.just('add'), st.integers(0, 9)),
    st.tuples(st.just('undo'), st.lists(st.integers(0, 50), min_size=1,
                                        max_size=3)),
)

histories = st.lists(op, min_size=1, max_size=7)

# issue 11 item 3: T1, T2 change one object, one transaction undoes both
# (FileStorage writes two records of it), a later one rewrites it
# unchanged; undoing that undo transaction is clean.
ISSUE_11_3 = [('set', 1, 'B'), ('set', 1, 'C'), ('undo', [1, 0]),
              ('touch', 0)]


class PreviewAgreesWithUndo:
    """Mixin; the class sets `layer` and `examples`."""

    def setUp(self):
        super().setUp()
        self.db = self.layer['zodbDB']
        self.root = self.layer['zodbRoot']
        self.tool = gocept.zodbundo.UndoTool(self.db)
        self.counter = 0

    def commit(self, obj):
        transaction.commit()
        return obj._p_serial

    def build(self, ops):
        """Commit `ops` below a fresh key; return the tids written."""
        self.counter += 1
        transaction.begin()
        box = persistent.mapping.PersistentMapping()
        box['maps'] = [persistent.mapping.PersistentMapping(v='A')
                       for i in range(MAPS)]
        box['length'] = BTrees.Length.Length()
        self.root['history{}'.format(self.counter)] = box
        transaction.commit()
        tids = []
        for kind, arg, *rest in ops:
            transaction.begin()
            maps = box['maps']
            if kind == 'set':
                changed = [m for i, m in enumerate(maps) if arg & (1 << i)]
                for m in changed:
                    m['v'] = rest[0]
                tids.append(self.commit(changed[0]))
            elif kind == 'touch':
                maps[arg]._p_changed = True
                tids.append(self.commit(maps[arg]))
            elif kind == 'length':
                box['length'].change(arg)
                tids.append(self.commit(box['length']))
            elif kind == 'add':
                box['new{}'.format(arg)] = (
                    persistent.mapping.PersistentMapping(v=str(arg)))
                tids.append(self.commit(box))
            elif tids:
                targets = {tids[i % len(tids)] for i in arg}
                try:
                    tids.append(self.tool.undo(targets).tid)
                except gocept.zodbundo.UndoConflict:
                    pass
        transaction.begin()
        return tids

    def verdicts(self, tid, cascade=False):
        order, located = self.tool._targets([tid], cascade)
        analysis = self.tool._plan(order, located, trial=False)
        trial = self.tool._plan(order, located)
        return analysis, trial

    def check(self, ops, pick):
        tids = self.build(ops)
        if not tids:
            return
        for tid in tids:
            analysis, trial = self.verdicts(tid)
            self.assertEqual(trial.clean, analysis.clean,
                             '{}\n{}\n{}'.format(ops, analysis, trial))
        target = tids[pick % len(tids)]
        plan = self.tool.preview(target)
        try:
            self.tool.undo(target)
        except gocept.zodbundo.UndoConflict:
            committed = False
        else:
            committed = True
        transaction.begin()
        self.assertEqual(plan.clean, committed, '{}\n{}'.format(ops, plan))

    def test_preview_verdict_is_what_undo_does(self):
        @hypothesis.settings(
            max_examples=self.examples, deadline=None, derandomize=True,
            database=None, suppress_health_check=list(
                hypothesis.HealthCheck))
        @hypothesis.given(histories, st.integers(0, 50))
        @hypothesis.example(ISSUE_11_3, 2)
        def property(ops, pick):
            self.check(ops, pick)
        property()


class FileStoragePropertyTests(PreviewAgreesWithUndo, unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.FILESTORAGE
    examples = 40


class ZEOPropertyTests(PreviewAgreesWithUndo, unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.ZEO
    examples = 6


class RelStoragePropertyTests(PreviewAgreesWithUndo, unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.RELSTORAGE
    examples = 6
