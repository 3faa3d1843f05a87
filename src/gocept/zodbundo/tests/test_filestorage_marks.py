"""FileStorage: finding a tid from remembered positions (Marks)."""
import time
import unittest

import persistent.mapping
import transaction

import gocept.zodbundo
import gocept.zodbundo.tests.layers


class MarksTest(unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.FILESTORAGE

    def setUp(self):
        self.db = self.layer['zodbDB']
        root = self.layer['zodbRoot']
        root['a'] = persistent.mapping.PersistentMapping()
        transaction.commit()
        self.tids = []
        for i in range(60):
            root['a']['n'] = i
            transaction.commit()
            self.tids.append(root['a']._p_serial)
        self.tool = gocept.zodbundo.UndoTool(self.db)
        self.backend = self.tool.backend
        self.backend.marks.every = 7

    def assert_every_tid_found(self):
        for tid in self.tids:
            self.assertEqual(tid, self.tool.show(tid).tid)
            page = self.tool.log(
                until=gocept.zodbundo.ids.tid_time(tid), limit=1)
            self.assertEqual(tid, page[0].tid)

    def test_walks_leave_marks_that_find_every_tid(self):
        self.assertEqual([], self.backend.marks.tids)
        self.assert_every_tid_found()
        self.assertGreaterEqual(len(self.tool.log(limit=None)), 61)
        self.assertGreater(len(self.backend.marks.tids), 5)
        self.assert_every_tid_found()

    def test_pack_forgets_the_marks(self):
        self.tool.log(limit=None)
        self.assertTrue(self.backend.marks.tids)
        self.db.pack(time.time() + 1)
        with self.assertRaises(gocept.zodbundo.BadId):
            self.tool.show(self.tids[10])
        self.assertEqual([], self.backend.marks.tids)
        root = self.layer['zodbRoot']
        transaction.begin()
        root['a']['n'] = 'after pack'
        transaction.commit()
        new = root['a']._p_serial
        self.assertEqual(new, self.tool.show(new).tid)
