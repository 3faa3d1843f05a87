import os
import unittest

import plone.testing
import transaction

import gocept.zodblayer
import gocept.zodblayer.tests.isolation as isolation


class FilledFileStorageLayer(gocept.zodblayer.FileStorageLayer):

    def setUpZODB(self, root):
        isolation.fill(root)


FILLED = FilledFileStorageLayer(
    name='FileStorageLayer:Filled', module=__name__)
FILLED_COPY = FilledFileStorageLayer(
    name='FileStorageLayer:Filled:Copy', module=__name__, isolation='copy')
DERIVED_FROM_FILLED = isolation.CommittingLayer(
    bases=(FILLED,), name='FileStorageLayer:Filled:Derived', module=__name__)
DERIVED_FROM_COPY = isolation.CommittingLayer(
    bases=(FILLED_COPY,), name='FileStorageLayer:Filled:Copy:Derived',
    module=__name__)


class DerivedLayer(plone.testing.Layer):
    """An app layer on top, committing into the base's database."""

    defaultBases = (gocept.zodblayer.filestorage.FILESTORAGE,)

    def setUp(self):
        with self['zodbDB'].transaction() as connection:
            isolation.fill(connection.root())


DERIVED = DerivedLayer(name='FileStorageLayer:Derived', module=__name__)


class FileStorageIsolationTest(isolation.IsolationTests,
                               isolation.ReadOnlyForOtherProcessesTests,
                               unittest.TestCase):

    layer = FILLED

    def test_per_test_database_is_a_DemoStorage_over_the_layer(self):
        storage = self.layer['zodbDB'].storage
        self.assertEqual('DemoStorage', type(storage).__name__)
        self.assertFalse(self.layer['zodbDB'].supportsUndo())


class FileStorageCopyTest(isolation.IsolationTests, isolation.UndoTests,
                          isolation.ReadOnlyForOtherProcessesTests,
                          unittest.TestCase):

    layer = FILLED_COPY

    def test_per_test_database_is_a_FileStorage(self):
        storage = self.layer['zodbDB'].storage
        self.assertEqual('FileStorage', type(storage).__name__)

    def test_zodb_uri_opens_test_state_in_another_process(self):
        self.layer['zodbRoot']['written'] = 'in test'
        transaction.commit()
        self.assertEqual(
            "'in test'", isolation.read_in_subprocess(
                self.layer['zodb_uri'], 'written'))


class DerivedLayerTest(isolation.IsolationTests, unittest.TestCase):

    layer = DERIVED


class FileStorageLayerTest(unittest.TestCase):

    def test_tearDown_removes_temp_dir(self):
        layer = gocept.zodblayer.FileStorageLayer(
            name='FileStorageLayer:tearDown', module=__name__)
        layer.setUp()
        tempdir = layer.tempdir
        self.assertTrue(os.path.isdir(tempdir))
        layer.tearDown()
        self.assertFalse(os.path.exists(tempdir))
        self.assertNotIn('zodbDB', layer)

    def test_failing_setUpZODB_removes_temp_dir(self):
        class Failing(gocept.zodblayer.FileStorageLayer):
            def setUpZODB(self, root):
                self.seen = self.tempdir
                raise RuntimeError('provoked')
        layer = Failing(name='FileStorageLayer:Failing', module=__name__)
        with self.assertRaises(RuntimeError):
            layer.setUp()
        self.assertFalse(os.path.exists(layer.seen))
        self.assertNotIn('zodbDB', layer)

    def test_name_is_required(self):
        with self.assertRaisesRegex(ValueError, '`name`'):
            gocept.zodblayer.FileStorageLayer(module=__name__)

    def test_unknown_isolation_is_refused(self):
        with self.assertRaisesRegex(ValueError, '`isolation`.*magic'):
            gocept.zodblayer.FileStorageLayer(
                name='x', module=__name__, isolation='magic')


class DerivedFromFilledTest(isolation.DerivedLayerTests, unittest.TestCase):

    layer = DERIVED_FROM_FILLED


class DerivedFromCopyTest(isolation.DerivedLayerTests, unittest.TestCase):

    layer = DERIVED_FROM_COPY
