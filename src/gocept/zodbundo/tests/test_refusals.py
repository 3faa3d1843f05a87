"""Storages that cannot undo are refused before anything is attempted."""
import os
import shutil
import tempfile
import unittest

import transaction
import ZODB
import ZODB.DemoStorage
import ZODB.FileStorage
import ZODB.MappingStorage

import gocept.zodbundo
from gocept.zodbundo.tests.digest import storage_state


def committed_db(storage):
    db = ZODB.DB(storage)
    manager = transaction.TransactionManager()
    connection = db.open(manager)
    connection.root()['x'] = 1
    manager.commit()
    connection.close()
    return db


class RefusalTests(unittest.TestCase):

    def assertRefused(self, db, *names):
        tool = gocept.zodbundo.UndoTool(db)
        last = db.lastTransaction()
        state = storage_state(db.storage)
        for call in (lambda: tool.preview(last),
                     lambda: tool.undo(last),
                     lambda: tool.log(),
                     lambda: tool.revert(b'\0' * 8, before=last)):
            with self.assertRaises(gocept.zodbundo.NotUndoable) as caught:
                call()
            message = str(caught.exception)
            self.assertNotIn('\n', message)
            for name in names:
                self.assertIn(name, message)
        self.assertEqual(last, db.lastTransaction())
        self.assertEqual(state, storage_state(db.storage))

    def test_mapping_storage_is_refused_by_name(self):
        db = committed_db(ZODB.MappingStorage.MappingStorage('memory'))
        self.addCleanup(db.close)
        self.assertRefused(db, "MappingStorage 'memory' cannot undo")

    def test_demo_storage_over_mapping_storage_is_refused(self):
        db = committed_db(ZODB.DemoStorage.DemoStorage(
            'demo', base=ZODB.MappingStorage.MappingStorage('base')))
        self.addCleanup(db.close)
        self.assertRefused(db, "DemoStorage 'demo'", 'MappingStorage')

    def test_not_undoable_is_a_package_error(self):
        self.assertTrue(issubclass(
            gocept.zodbundo.NotUndoable, gocept.zodbundo.Error))


class DemoOverFileStorageTests(unittest.TestCase):
    """A DemoStorage whose changes go to a FileStorage undoes them."""

    def test_undo_in_demo_storage_changes(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        changes = ZODB.FileStorage.FileStorage(
            os.path.join(directory, 'changes.fs'))
        db = committed_db(ZODB.DemoStorage.DemoStorage(
            base=ZODB.MappingStorage.MappingStorage(), changes=changes))
        self.addCleanup(db.close)
        manager = transaction.TransactionManager()
        connection = db.open(manager)
        connection.root()['x'] = 2
        manager.commit()
        tool = gocept.zodbundo.UndoTool(db)
        self.assertTrue(tool.preview(db.lastTransaction()).clean)
        tool.undo(db.lastTransaction())
        manager.begin()
        self.assertEqual(1, connection.root()['x'])
        connection.close()
