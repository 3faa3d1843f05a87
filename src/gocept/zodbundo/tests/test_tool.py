import unittest

import persistent.mapping
import transaction
import ZODB
import ZODB.blob
import ZODB.DemoStorage

import gocept.zodbundo
import gocept.zodbundo.tests.layers
import gocept.zodbundo.tests.scenarios
from gocept.zodbundo.tests.digest import storage_state


class FileStorageTests(gocept.zodbundo.tests.scenarios.UndoScenarios,
                       unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.FILESTORAGE


class ZEOTests(gocept.zodbundo.tests.scenarios.UndoScenarios,
               unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.ZEO


class RelStorageTests(gocept.zodbundo.tests.scenarios.UndoScenarios,
                      unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.RELSTORAGE
    # RelStorage refuses to undo objects changed later (matching MD5s only).
    resolves_on_undo = False


class HistoryFreeRelStorageTests(unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.RELSTORAGE_HISTORY_FREE

    def setUp(self):
        self.layer['zodbRoot']['x'] = 1
        transaction.commit()
        self.tid = self.layer['zodbRoot']._p_serial

    def assertRefused(self, db, *expected):
        tool = gocept.zodbundo.UndoTool(db)
        state = storage_state(self.layer['zodbDB'].storage)
        for call in (lambda: tool.preview(self.tid),
                     lambda: tool.undo(self.tid),
                     lambda: tool.log()):
            with self.assertRaises(gocept.zodbundo.NotUndoable) as caught:
                call()
            for text in expected:
                self.assertIn(text, str(caught.exception))
        transaction.begin()
        self.assertEqual(1, self.layer['zodbRoot']['x'])
        self.assertEqual(
            state, storage_state(self.layer['zodbDB'].storage))

    def test_history_free_relstorage_is_refused_by_name(self):
        self.assertRefused(
            self.layer['zodbDB'], 'RelStorage', 'cannot undo',
            'history free')

    def test_demo_storage_over_history_free_relstorage_is_refused(self):
        storage = ZODB.DemoStorage.DemoStorage(
            base=self.layer['zodbDB'].storage, close_base_on_close=False)
        db = ZODB.DB(storage)
        self.addCleanup(db.close)
        self.assertRefused(db, 'DemoStorage', 'cannot undo')


class FileStorageOnlyTests(unittest.TestCase):
    """Behaviour specific to FileStorage: positions and blobs."""

    layer = gocept.zodbundo.tests.layers.FILESTORAGE

    def test_a_stale_position_falls_back_to_filestorage_search(self):
        root = self.layer['zodbRoot']
        root['a'] = persistent.mapping.PersistentMapping(value='A')
        transaction.commit()
        root['a']['value'] = 'B'
        transaction.commit()
        tid = root['a']._p_serial
        tool = gocept.zodbundo.UndoTool(self.layer['zodbDB'])
        located = tool._locate([tid])
        self.assertGreater(located[tid], 4)
        # As if a pack had moved the transaction since it was located.
        located[tid] = 4
        meta = tool._meta([tid], None, '')
        new_tid, failure = tool._run([tid], located, meta, commit=True)
        self.assertIsNone(failure)
        transaction.begin()
        self.assertEqual('A', root['a']['value'])
        self.assertEqual(new_tid, root['a']._p_serial)

    def test_revert_refuses_blobs(self):
        root = self.layer['zodbRoot']
        root['blob'] = blob = ZODB.blob.Blob(b'old')
        transaction.commit()
        with blob.open('w') as f:
            f.write(b'new')
        transaction.commit()
        tool = gocept.zodbundo.UndoTool(self.layer['zodbDB'])
        tid = tool.history(blob._p_oid)[0].tid
        with self.assertRaises(gocept.zodbundo.Refused) as caught:
            tool.revert(blob._p_oid, before=tid)
        self.assertIn('is a blob', str(caught.exception))
        tool.undo(tid)
        transaction.begin()
        with root['blob'].open() as f:
            self.assertEqual(b'old', f.read())
