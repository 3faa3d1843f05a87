import os
import shutil
import tempfile
import unittest

import persistent.mapping
import transaction
import ZODB
import ZODB.FileStorage

import gocept.zodbundo.backends


class ObjectHistoryTests(unittest.TestCase):

    def setUp(self):
        directory = tempfile.mkdtemp(prefix='zodbundo.')
        self.addCleanup(shutil.rmtree, directory)
        self.db = ZODB.DB(ZODB.FileStorage.FileStorage(
            os.path.join(directory, 'Data.fs')))
        self.addCleanup(self.db.close)
        self.manager = transaction.TransactionManager()
        connection = self.db.open(self.manager)
        self.addCleanup(connection.close)
        self.obj = connection.root()['obj'] = (
            persistent.mapping.PersistentMapping(n=0))
        self.manager.commit()

    def change(self):
        self.obj['n'] += 1
        self.manager.commit()

    def test_commit_between_pages_yields_no_duplicates(self):
        for i in range(30):  # more than the first page of 16
            self.change()
        test = self

        class CommitsBetweenPages:
            calls = 0

            def history(self, oid, size):
                entries = test.db.storage.history(oid, size=size)
                self.calls += 1
                if self.calls == 1:
                    test.change()  # shifts the next page by one
                return entries

        storage = CommitsBetweenPages()
        tids = [info.tid for info in gocept.zodbundo.backends.object_history(
            storage, self.obj._p_oid)]
        self.assertEqual(2, storage.calls)
        self.assertEqual(31, len(tids))
        self.assertEqual(sorted(set(tids), reverse=True), tids)
