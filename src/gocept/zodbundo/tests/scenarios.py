"""What must be true of the undo tool on every undoable storage.

`UndoScenarios` is a mixin run by one TestCase class per storage layer.
"""
import re
import time

import BTrees.Length
import persistent.mapping
import transaction
import ZODB.POSException

import gocept.zodbundo
import gocept.zodbundo.ids
import gocept.zodbundo.tests.digest


class Counting:
    """Wraps a generator and counts how many items were taken from it."""

    def __init__(self, iterable):
        self.iterable = iter(iterable)
        self.taken = 0

    def __iter__(self):
        return self

    def __next__(self):
        item = next(self.iterable)
        self.taken += 1
        return item


class UndoScenarios:
    """Mixin; the class sets `layer` and `resolves_on_undo`."""

    resolves_on_undo = True

    def setUp(self):
        super().setUp()
        self.db = self.layer['zodbDB']
        self.root = self.layer['zodbRoot']
        self.tool = gocept.zodbundo.UndoTool(self.db)

    # helpers

    def commit(self, note, user='', obj=None):
        """Commit; return the tid (read from `obj` written by it)."""
        txn = transaction.get()
        txn.note(note)
        if user:
            txn.user = user
        transaction.commit()
        # Not db.lastTransaction(): RelStorage's main instance may lag.
        return (self.root if obj is None else obj)._p_serial

    def refresh(self):
        transaction.begin()

    def make_objects(self, *names, value='A'):
        for name in names:
            self.root[name] = persistent.mapping.PersistentMapping(
                value=value)
        return self.commit('create ' + ' '.join(names))  # root changed

    def set_values(self, value, *names, note=None, user=''):
        for name in names:
            self.root[name]['value'] = value
        return self.commit(note or 'set {} to {}'.format(
            ' '.join(names), value), user=user, obj=self.root[names[0]])

    def values(self, *names):
        self.refresh()
        return [self.root[name]['value'] for name in names]

    def oid(self, name):
        return self.root[name]._p_oid

    def written_state(self):
        """What would change if anything were written: the last tid and a
        digest of every record the storage holds (read through its
        iterator, so over ZEO the server's data)."""
        return gocept.zodbundo.tests.digest.storage_state(self.db.storage)

    def other_connection_values(self, *names):
        manager = transaction.TransactionManager()
        connection = self.db.open(transaction_manager=manager)
        try:
            root = connection.root()
            return [root[name]['value'] for name in names]
        finally:
            manager.abort()
            connection.close()

    # 1. the seed scenario

    def test_seed_scenario_end_to_end(self):
        self.make_objects('a', 'b', 'c')
        bad = self.set_values('B', 'a', 'b', 'c', note='fix-up script')
        history = self.tool.history(self.oid('b'))
        self.assertEqual(bad, history[0].tid)
        self.assertEqual('fix-up script', history[0].description)
        plan = self.tool.preview([history[0].tid])
        self.assertTrue(plan.clean)
        self.assertEqual(
            {self.oid(n) for n in 'abc'}, {e.oid for e in plan.entries})
        self.assertEqual({'clean'}, {e.status for e in plan.entries})
        info = self.tool.undo([bad])
        self.assertEqual(['A', 'A', 'A'], self.values('a', 'b', 'c'))
        newest = self.tool.log(limit=1)[0]
        self.assertEqual(info.tid, newest.tid)
        self.assertEqual([bad.hex()], newest.extension['undo_of'])
        self.assertIn(bad.hex(), newest.description)
        self.assertIn('Undo', newest.description)
        self.tool.undo(info.tid)
        self.assertEqual(['B', 'B', 'B'], self.values('a', 'b', 'c'))

    def test_undo_accepts_the_undo_log_id(self):
        self.make_objects('a')
        self.set_values('B', 'a')
        undo_id = self.db.storage.undoLog(0, 1)[0]['id']
        for value in (undo_id, undo_id.decode('ascii')):
            self.assertTrue(self.tool.preview(value).clean)
        self.tool.undo(undo_id)
        self.assertEqual(['A'], self.values('a'))

    def test_undo_accepts_hex_forms_and_records_user_and_note(self):
        self.make_objects('a')
        bad = self.set_values('B', 'a')
        self.tool.undo('0x' + bad.hex(), note='oops, script', user='ops')
        newest = self.tool.log(limit=1)[0]
        self.assertEqual('oops, script', newest.description)
        self.assertEqual('ops', newest.user)
        self.assertEqual([bad.hex()], newest.extension['undo_of'])

    # 2. the seed's conflict

    def test_conflict_names_object_class_and_later_tid(self):
        self.make_objects('a', 'b')
        x = self.set_values('B', 'a', 'b')
        later = self.set_values('C', 'a')
        plan = self.tool.preview([x])
        self.assertFalse(plan.clean)
        [conflict] = plan.conflicts
        self.assertEqual(self.oid('a'), conflict.oid)
        self.assertEqual(
            'persistent.mapping.PersistentMapping', conflict.class_name)
        self.assertEqual((later,), conflict.later_tids)
        self.assertEqual('clean', plan.status(self.oid('b')))

    def test_conflicting_undo_raises_with_plan_and_writes_nothing(self):
        self.make_objects('a', 'b')
        x = self.set_values('B', 'a', 'b')
        later = self.set_values('C', 'a')
        before = self.written_state()
        with self.assertRaises(gocept.zodbundo.UndoConflict) as caught:
            self.tool.undo([x])
        self.assertEqual(before, self.written_state())
        self.assertEqual(['C', 'B'], self.values('a', 'b'))
        [conflict] = caught.exception.plan.conflicts
        self.assertEqual((later,), conflict.later_tids)
        self.assertIn(later.hex(), str(caught.exception))
        self.assertIsInstance(caught.exception, gocept.zodbundo.Error)

    def test_conflict_resolving_class(self):
        self.root['length'] = BTrees.Length.Length(0)
        self.commit('create length')
        x = self.commit_length_change(5)
        self.commit_length_change(2)
        plan = self.tool.preview([x])
        expected = 'resolved' if self.resolves_on_undo else 'conflict'
        self.assertEqual(expected, plan.status(self.root['length']._p_oid))
        if self.resolves_on_undo:
            self.tool.undo([x])
            self.refresh()
            self.assertEqual(2, self.root['length']())
        else:
            with self.assertRaises(gocept.zodbundo.UndoConflict):
                self.tool.undo([x])

    def commit_length_change(self, delta):
        self.root['length'].change(delta)
        return self.commit('length += {}'.format(delta),
                           obj=self.root['length'])

    # 3. preview never writes

    def test_preview_never_writes(self):
        self.make_objects('a', 'b')
        x = self.set_values('B', 'a', 'b')
        before = self.written_state()
        plan = self.tool.preview([x])
        self.assertTrue(plan.clean)
        self.assertEqual('trial', plan.checked_by)
        self.assertEqual(before, self.written_state())
        self.assertEqual(['B', 'B'], self.other_connection_values('a', 'b'))
        self.assertEqual(['B', 'B'], self.values('a', 'b'))
        self.tool.undo([x])
        self.assertEqual(['A', 'A'], self.values('a', 'b'))

    # 4. cascade

    def test_cascade_undoes_later_transactions_newest_first(self):
        self.make_objects('a', 'b', 'c')
        x = self.set_values('B', 'a')
        y = self.set_values('C', 'a', 'b')
        self.set_values('Z', 'c')  # unrelated: stays
        self.assertFalse(self.tool.preview([x]).clean)
        plan = self.tool.preview([x], cascade=True)
        self.assertTrue(plan.clean)
        self.assertEqual((y, x), plan.tids)
        info = self.tool.undo([x], cascade=True)
        self.assertEqual([y.hex(), x.hex()], info.extension['undo_of'])
        self.assertEqual(['A', 'A', 'Z'], self.values('a', 'b', 'c'))

    def test_undoing_twice_says_already_undone_by_whom(self):
        self.make_objects('a', 'b')
        x = self.set_values('B', 'a', 'b')
        first = self.tool.undo([x], note='oops').tid
        before = self.written_state()
        with self.assertRaises(gocept.zodbundo.UndoConflict) as caught:
            self.tool.undo([x])
        message = str(caught.exception)
        self.assertIn('already undone by {}'.format(first.hex()), message)
        self.assertIn('oops', message)
        plan = caught.exception.plan
        self.assertTrue(plan.already_undone)
        self.assertIn('to redo it, undo {}'.format(first.hex()),
                      plan.conflicts[0].reason)
        self.assertEqual(before, self.written_state())
        self.assertEqual(['A', 'A'], self.values('a', 'b'))

    def test_cascade_that_changes_nothing_is_refused(self):
        self.make_objects('a')
        x = self.set_values('B', 'a')
        self.tool.undo([x])
        before = self.written_state()
        for call in (self.tool.preview, self.tool.undo):
            with self.assertRaises(gocept.zodbundo.Refused) as caught:
                call([x], cascade=True)
            self.assertIn('Nothing to undo', str(caught.exception))
            self.assertIn('already undone', str(caught.exception))
        self.assertEqual(before, self.written_state())

    # 5. revert

    def test_revert_restores_one_object_when_undo_conflicts(self):
        self.make_objects('a', 'b')
        x = self.set_values('B', 'a', 'b')
        self.set_values('C', 'a')
        with self.assertRaises(gocept.zodbundo.UndoConflict):
            self.tool.undo([x])
        info = self.tool.revert(self.oid('a'), before=x)
        self.assertEqual(['A', 'B'], self.values('a', 'b'))
        self.assertEqual(info.tid, self.tool.history(self.oid('a'))[0].tid)
        self.assertIn('Revert', self.tool.log(limit=1)[0].description)

    def test_revert_preview_lists_every_discarded_later_change(self):
        self.make_objects('a')
        x = self.set_values('B', 'a', note='bad import')
        self.root['a']['other'] = 'kept?'
        later = self.commit('unrelated key, later', user='bob',
                            obj=self.root['a'])
        plan = self.tool.preview_revert(self.oid('a'), before=x)
        self.assertEqual([later, x], [i.tid for i in plan.discarded])
        self.assertEqual('unrelated key, later',
                         plan.discarded[0].description)
        self.assertEqual('bob', plan.discarded[0].user)
        self.assertEqual(later, plan.current_tid)
        self.assertIn(later.hex(), str(plan))
        self.assertEqual(
            [later.hex(), x.hex()],
            [i['tid'] for i in plan.as_json()['discarded']])
        info = self.tool.revert(self.oid('a'), before=x, plan=plan)
        self.assertEqual(
            [later.hex(), x.hex()],
            info.extension['revert_of']['discarded'])
        self.refresh()
        self.assertNotIn('other', self.root['a'])

    def test_revert_with_a_stale_plan_is_refused(self):
        self.make_objects('a')
        x = self.set_values('B', 'a')
        plan = self.tool.preview_revert(self.oid('a'), before=x)
        self.set_values('C', 'a')
        before = self.written_state()
        with self.assertRaises(gocept.zodbundo.Refused) as caught:
            self.tool.revert(self.oid('a'), before=x, plan=plan)
        self.assertIn('changed since the preview', str(caught.exception))
        self.assertEqual(before, self.written_state())

    def test_revert_refuses_object_that_did_not_exist_before(self):
        x = self.make_objects('new')
        with self.assertRaises(gocept.zodbundo.Refused) as caught:
            self.tool.revert(self.oid('new'), before=x)
        self.assertIn('did not exist before', str(caught.exception))

    # 6. log

    def make_log(self):
        self.make_objects('a', 'b')
        tids = {}
        tids['alice1'] = self.set_values('1', 'a', note='import run 1',
                                         user='alice')
        tids['bob'] = self.set_values('2', 'b', note='manual edit',
                                      user='bob')
        tids['alice2'] = self.set_values('3', 'a', note='import run 2',
                                         user='alice')
        return tids

    def test_zope_user_names_and_multi_line_descriptions(self):
        # issue 11 item 7: Zope stores '<user folder path> <id>' and its
        # own undo notes span lines.
        self.make_objects('a', 'b')
        root_user = self.set_values('1', 'a', note='edit by admin',
                                    user=' admin')
        inner = self.set_values('2', 'b', note='/shop\nUndo /shop',
                                user='shop/inner editor')
        for wanted, expected in (
                ('admin', [root_user]), (' admin', [root_user]),
                ('editor', [inner]), ('shop/inner', [inner]),
                ('/shop/inner', [inner]), ('shop/inner editor', [inner]),
                ('/shop/inner/editor', [inner]), ('shop', [])):
            self.assertEqual(
                expected, [i.tid for i in self.tool.log(user=wanted)],
                wanted)
        self.assertEqual(
            [inner], [i.tid for i in self.tool.log(description='^Undo')])
        info = self.tool.log(limit=1)[0]
        self.assertEqual('editor', info.user_id)
        self.assertEqual('/shop/inner', info.user_folder)
        line = str(info)
        self.assertNotIn('\n', line)
        self.assertIn('editor (/shop/inner)  /shop\\nUndo /shop', line)
        admin = self.tool.log(limit=2)[1]
        self.assertEqual('/', admin.user_folder)
        self.assertIn('  admin  edit by admin', str(admin))
        self.assertEqual('shop/inner editor', info.as_json()['user'])
        self.assertEqual('editor', info.as_json()['user_id'])

    def test_log_is_newest_first_with_limit(self):
        tids = self.make_log()
        log = self.tool.log(limit=2)
        self.assertEqual([tids['alice2'], tids['bob']], [i.tid for i in log])

    def test_log_filters_by_user_description_and_oid(self):
        tids = self.make_log()
        self.assertEqual(
            [tids['alice2'], tids['alice1']],
            [i.tid for i in self.tool.log(user='alice')])
        self.assertEqual(
            [tids['bob']],
            [i.tid for i in self.tool.log(description='^manual')])
        self.assertEqual(
            [tids['bob']],
            [i.tid for i in self.tool.log(
                oid=self.oid('b'), description=re.compile('edit'))])
        self.assertEqual(
            [tids['alice2'], tids['alice1']],
            [i.tid for i in self.tool.log(oid=self.oid('a'), user='alice')])

    def test_log_filters_by_time_range(self):
        tids = self.make_log()
        times = {k: gocept.zodbundo.ids.tid_time(v) for k, v in tids.items()}
        log = self.tool.log(since=times['alice1'], until=times['bob'])
        self.assertEqual([tids['bob'], tids['alice1']], [i.tid for i in log])
        log = self.tool.log(since=times['bob'], oid=self.oid('a'))
        self.assertEqual([tids['alice2']], [i.tid for i in log])

    def test_log_reads_only_as_far_as_needed(self):
        self.make_log()
        backend = self.tool.backend
        original = backend.iter_log
        taken = []

        def counting(*args, **kw):
            counter = Counting(original(*args, **kw))
            taken.append(counter)
            return counter

        backend.iter_log = counting
        self.assertEqual(2, len(self.tool.log(limit=2)))
        self.assertEqual(2, taken[0].taken)

    # 7. bad ids

    def test_unknown_tid_is_a_one_line_error(self):
        with self.assertRaises(gocept.zodbundo.BadId) as caught:
            self.tool.preview('0x0123456789abcdef')
        self.assertIn('Unknown tid 0123456789abcdef', str(caught.exception))
        self.assertNotIn('\n', str(caught.exception))

    def test_undo_of_unknown_tid_writes_nothing(self):
        self.make_objects('a')
        before = self.written_state()
        with self.assertRaises(gocept.zodbundo.BadId) as caught:
            self.tool.undo('0123456789abcdef')
        self.assertIn('Unknown tid 0123456789abcdef', str(caught.exception))
        self.assertEqual(before, self.written_state())

    def test_unknown_oid_is_a_one_line_error(self):
        with self.assertRaises(gocept.zodbundo.BadId) as caught:
            self.tool.history('0x7fffffff')
        self.assertIn('Unknown oid 000000007fffffff', str(caught.exception))

    def test_swapped_oid_and_tid_are_named(self):
        # issue 11 item 8: `history TID`, `revert TID --before OID`.
        self.make_objects('a')
        x = self.set_values('B', 'a')
        oid = self.oid('a')
        for call, expected in (
                (lambda: self.tool.history(x), 'looks like a tid'),
                (lambda: self.tool.log(oid=x), 'looks like a tid'),
                (lambda: self.tool.show(oid), 'looks like an oid'),
                (lambda: self.tool.preview(oid), 'looks like an oid'),
                (lambda: self.tool.preview_revert(x, before=oid),
                 'looks like an oid'),
                (lambda: self.tool.preview_revert(x, before=x),
                 'looks like a tid')):
            with self.assertRaises(gocept.zodbundo.BadId) as caught:
                call()
            self.assertIn(expected, str(caught.exception))
            self.assertNotIn('\n', str(caught.exception))

    def test_unknown_oid_error_names_the_storage(self):
        x = self.make_objects('a')
        calls = [lambda: self.tool.history('0x7fffffff'),
                 lambda: self.tool.log(oid='0x7fffffff'),
                 lambda: self.tool.revert('0x7fffffff', before=x)]
        for call in calls:
            with self.assertRaises(gocept.zodbundo.BadId) as caught:
                call()
            message = str(caught.exception)
            # The storage the user opened, not ZODB's MVCC adapter.
            self.assertIn(self.tool.backend.name, message)
            self.assertNotIn('MVCCAdapter', message)

    def test_packed_tid_is_refused(self):
        self.make_objects('a')
        old = self.set_values('B', 'a')
        self.set_values('C', 'a')
        self.refresh()
        self.pack()
        for call in (self.tool.preview, self.tool.undo):
            with self.assertRaises(gocept.zodbundo.BadId) as caught:
                call(old)
            self.assertIn('packed', str(caught.exception))

    def pack(self):
        # Pack everything committed so far (ZODB packs strictly before t).
        self.db.pack(time.time() + 1)

    def test_show_lists_the_changed_objects(self):
        self.make_objects('a', 'b')
        x = self.set_values('B', 'a', 'b', note='fix-up script')
        info = self.tool.show(x.hex())
        self.assertEqual('fix-up script', info.description)
        self.assertEqual(
            {self.oid('a'), self.oid('b')}, {c.oid for c in info.changes})
        self.assertEqual(
            {'persistent.mapping.PersistentMapping'},
            {c.class_name for c in info.changes})

    def test_undo_error_is_no_transient_error(self):
        # Why UndoConflict is raised at once: retrying would not help.
        self.assertFalse(issubclass(
            ZODB.POSException.UndoError,
            transaction.interfaces.TransientError))
