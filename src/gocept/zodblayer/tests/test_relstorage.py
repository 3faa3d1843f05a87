import unittest

import psycopg2
import transaction

import gocept.zodblayer
import gocept.zodblayer.tests.isolation as isolation
import gocept.zodblayer.tests.test_postgresql


class FilledRelStorageLayer(gocept.zodblayer.RelStorageLayer):

    def setUpZODB(self, root):
        isolation.fill(root)


FILLED = FilledRelStorageLayer(name='RelStorageLayer:Filled', module=__name__)
FILLED_COPY = FilledRelStorageLayer(
    name='RelStorageLayer:Filled:Copy', module=__name__, isolation='copy')
HISTORY_FREE = FilledRelStorageLayer(
    name='RelStorageLayer:Filled:HistoryFree', module=__name__,
    keep_history=False)
HISTORY_FREE_COPY = FilledRelStorageLayer(
    name='RelStorageLayer:Filled:HistoryFree:Copy', module=__name__,
    keep_history=False, isolation='copy')
DERIVED_FROM_FILLED = isolation.CommittingLayer(
    bases=(FILLED,), name='RelStorageLayer:Filled:Derived', module=__name__)
DERIVED_FROM_COPY = isolation.CommittingLayer(
    bases=(FILLED_COPY,), name='RelStorageLayer:Filled:Copy:Derived',
    module=__name__)


def database_names(layer):
    return {name for [name] in gocept.zodblayer.tests.test_postgresql.query(
        layer['postgresql_dsn'], 'SELECT datname FROM pg_database')}


class RelStorageIsolationTest(isolation.IsolationTests,
                              isolation.ReadOnlyForOtherProcessesTests,
                              unittest.TestCase):

    layer = FILLED

    def test_storage_is_a_history_preserving_RelStorage(self):
        storage = self.layer['zodbDB'].storage.base
        self.assertEqual('RelStorage', type(storage).__name__)
        self.assertTrue(storage._options.keep_history)

    def test_zodb_uri_is_a_zconfig_uri(self):
        self.assertTrue(self.layer['zodb_uri'].startswith('zconfig://'))


class RelStorageHistoryFreeTest(isolation.IsolationTests, unittest.TestCase):

    layer = HISTORY_FREE

    def test_storage_is_history_free(self):
        storage = self.layer['zodbDB'].storage.base
        self.assertFalse(storage._options.keep_history)


class RelStorageHistoryFreeCopyTest(
        isolation.IsolationTests, unittest.TestCase):

    layer = HISTORY_FREE_COPY

    def test_database_does_not_support_undo(self):
        self.assertFalse(self.layer['zodbDB'].supportsUndo())
        self.assertFalse(self.layer['zodbDB'].storage._options.keep_history)


class RelStorageCopyTest(isolation.IsolationTests, isolation.UndoTests,
                         isolation.SecondWriterTests, unittest.TestCase):

    layer = FILLED_COPY

    def test_each_test_has_its_own_database(self):
        self.assertIn('_test', self.layer['relstorage_dsn'])
        self.assertEqual(
            'RelStorage', type(self.layer['zodbDB'].storage).__name__)

    def test_zodb_uri_opens_test_state_in_another_process(self):
        self.layer['zodbRoot']['written'] = 'in test'
        transaction.commit()
        self.assertEqual(
            "'in test'", isolation.read_in_subprocess(
                self.layer['zodb_uri'], 'written'))


class RelStorageLifecycleTest(unittest.TestCase):

    layer = gocept.zodblayer.POSTGRESQL

    def test_database_is_created_in_setUp_and_dropped_in_tearDown(self):
        layer = gocept.zodblayer.RelStorageLayer(
            name='RelStorageLayer:Lifecycle', module=__name__,
            isolation='copy')
        before = database_names(self.layer)
        # zope.testrunner would set up the base; it is set up already.
        layer.setUp()
        try:
            layer.testSetUp()
            layer.testTearDown()
            created = database_names(self.layer) - before
            self.assertEqual(2, len(created))  # the database and snapshot
        finally:
            layer.tearDown()
        self.assertEqual(before, database_names(self.layer))

    def test_failed_snapshot_leaves_the_layer_database_usable(self):
        layer = gocept.zodblayer.RelStorageLayer(
            name='RelStorageLayer:Busy', module=__name__, isolation='copy')
        layer.setUp()
        try:
            # Another session on the layer's database (an app layer's own
            # connection, say) keeps PostgreSQL from copying it.
            busy = psycopg2.connect(layer['relstorage_dsn'])
            try:
                with self.assertRaises(psycopg2.Error) as caught:
                    layer.testSetUp()
                self.assertIn('accessed by other users', str(caught.exception))
                with layer['zodbDB'].transaction() as connection:
                    connection.root()['still'] = 'usable'
            finally:
                busy.close()
            layer.testSetUp()
            self.assertEqual('usable', layer['zodbRoot']['still'])
            layer.testTearDown()
        finally:
            layer.tearDown()

    def test_failing_setUpZODB_drops_the_database(self):
        class Failing(gocept.zodblayer.RelStorageLayer):
            def setUpZODB(self, root):
                raise RuntimeError('provoked')
        layer = Failing(name='RelStorageLayer:Failing', module=__name__)
        before = database_names(self.layer)
        with self.assertRaises(RuntimeError):
            layer.setUp()
        self.assertEqual(before, database_names(self.layer))
        self.assertIsNone(layer.tempdir)


class DerivedFromFilledTest(isolation.DerivedLayerTests, unittest.TestCase):

    layer = DERIVED_FROM_FILLED


class DerivedFromCopyTest(isolation.DerivedLayerTests, unittest.TestCase):

    layer = DERIVED_FROM_COPY
