"""The behaviour all ZODB layers share: resources and per-test isolation."""
import logging
import os
import shutil
import tempfile

import plone.testing

from gocept.zodblayer import _tempdir


log = logging.getLogger(__name__)

TEMP_PREFIX = 'gocept.zodblayer.'
DEMO = 'demo'
COPY = 'copy'
ISOLATIONS = (DEMO, COPY)


class Database:
    """A database a layer opened, with everything needed to close it."""

    def __init__(self, db, uri, config, cleanup=None):
        self.db = db
        self.uri = uri
        self.config = config
        self._cleanups = [] if cleanup is None else [cleanup]

    def add_cleanup(self, cleanup):
        """Call `cleanup` after closing the database (last added first)."""
        self._cleanups.append(cleanup)

    def close(self):
        try:
            self.db.close()
        finally:
            _call_all(reversed(self._cleanups))


def _call_all(functions):
    """Call every function, even if one raises; re-raise the first error."""
    error = None
    for function in functions:
        try:
            function()
        except BaseException as e:
            error = error or e
    if error is not None:
        raise error


class ZODBLayer(plone.testing.Layer):
    """Base of the ZODB layers: storage-specific parts live in subclasses.

    Resources: ``zodbDB``, ``zodb_uri`` and ``zodb_config`` (a ZConfig
    file with a ``<zodb>`` section) set in setUp; during a test they name
    the test's own database; ``zodbConnection`` and
    ``zodbRoot`` (per test). ``zodb_uri`` and ``zodb_config`` are for
    other processes and open read-only where a second writer would fail
    (FileStorage's lock) or leak into later tests (demo isolation).

    ``isolation='demo'`` (default) gives every test a DemoStorage over the
    layer's storage: cheap, but undo sees only the test's transactions and
    the test's writes live in memory. ``isolation='copy'`` gives every test
    its own copy of the layer's storage of the same kind, so undo, history
    and subprocesses work exactly as on the real storage.
    """

    defaultBases = ()
    isolation = DEMO

    def __init__(self, bases=None, name=None, module=None, isolation=None):
        if not name:
            raise ValueError(
                'The `name` argument is required: give every layer an'
                ' explicit, unique name.')
        if not module:
            raise ValueError(
                'The `module` argument is required: pass module=__name__.')
        if isolation is not None:
            self.isolation = isolation
        if self.isolation not in ISOLATIONS:
            raise ValueError(
                f'The `isolation` argument must be one of {ISOLATIONS!r},'
                f' not {self.isolation!r}.')
        super().__init__(bases=bases, name=name, module=module)
        self._tempdir = None
        self._layer_database = None
        self._test_database = None
        self._test_directory = None
        self._shown = None

    # Template methods for subclasses

    def open_database(self):
        """Start what the storage needs; return a `Database`.

        Runs in setUp; `self.tempdir` is a fresh directory removed in
        tearDown. On an exception, `close_layer` is still called.
        """
        raise NotImplementedError()

    def close_layer(self):
        """Stop what `open_database` started (also after it failed)."""

    def open_copy(self, directory):
        """Return a `Database` on a copy of the layer's current state.

        `directory` is an empty directory removed after the test.
        """
        raise NotImplementedError()

    def demo_base(self):
        """(storage, release) a test's DemoStorage reads from.

        `release` (or None) is called after the test.
        """
        return self._layer_database.db.storage, None

    def setUpZODB(self, root):
        """Hook: fill the database; committed at the end of setUp."""

    # plone.testing.Layer protocol

    @property
    def tempdir(self):
        return self._tempdir

    def setUp(self):
        self._tempdir = _tempdir.make(TEMP_PREFIX)
        try:
            self._layer_database = self.open_database()
            self._set_database_resources(self._layer_database)
            self._fill(self._layer_database.db)
        except BaseException:
            self._tear_down_layer()
            raise

    def _fill(self, db):
        import transaction
        manager = transaction.TransactionManager()
        connection = db.open(transaction_manager=manager)
        try:
            manager.begin()
            self.setUpZODB(connection.root())
            manager.get().note(f'{self.__name__}: setUpZODB')
            manager.commit()
        finally:
            manager.abort()
            connection.close()

    def tearDown(self):
        self._tear_down_layer()

    def _tear_down_layer(self):
        self._shown = None
        for key in ('zodbDB', 'zodb_uri', 'zodb_config'):
            try:
                del self[key]
            except KeyError:
                pass
        database, self._layer_database = self._layer_database, None
        try:
            if database is not None:
                database.close()
        finally:
            try:
                self.close_layer()
            finally:
                tempdir, self._tempdir = self._tempdir, None
                if tempdir is not None:
                    shutil.rmtree(tempdir, ignore_errors=True)

    def testSetUp(self):
        import transaction
        self._test_directory = None
        try:
            if self.isolation == COPY:
                self._test_directory = tempfile.mkdtemp(
                    dir=self._tempdir, prefix='test.')
                self._test_database = self.open_copy(self._test_directory)
            else:
                self._test_database = _demo_database(self)
            connection = self._test_database.db.open()
        except BaseException:
            self._end_test()
            raise
        self._set_database_resources(self._test_database)
        self['zodbConnection'] = connection
        self['zodbRoot'] = connection.root()
        transaction.begin()

    def _set_database_resources(self, database):
        self['zodbDB'] = database.db
        # With demo isolation a test's URI is the layer's; skipping the
        # needless updates keeps per-test overhead at plone.testing's.
        if self._shown != (database.uri, database.config):
            self['zodb_uri'] = database.uri
            self['zodb_config'] = database.config
            self._shown = (database.uri, database.config)

    def testTearDown(self):
        # zope.testrunner does not guard testTearDown: an exception here
        # would end the whole test run, so cleanup errors are logged.
        import transaction
        transaction.abort()
        connection = self['zodbConnection']
        del self['zodbConnection']
        del self['zodbRoot']
        # A test may have closed the database itself, e.g. to let a
        # subprocess write to a FileStorage.
        if connection.opened:
            connection.close()
        self._set_database_resources(self._layer_database)
        self._end_test()

    def _end_test(self):
        database, self._test_database = self._test_database, None
        directory, self._test_directory = self._test_directory, None
        try:
            if database is not None:
                database.close()
        except Exception:
            log.exception('%s: closing the database of the test failed',
                          self.__name__)
        finally:
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)


def _demo_database(layer):
    """A database whose writes go to memory, over the layer's storage."""
    import ZODB.DB
    import ZODB.DemoStorage
    layer_database = layer._layer_database
    base, release_base = layer.demo_base()
    storage = ZODB.DemoStorage.DemoStorage(
        base=base, close_base_on_close=False)

    def remove_blobs():
        # DemoStorage creates a blob directory on the first blob write and
        # removes it only when garbage collected; remove it right away.
        changes = storage.changes
        if hasattr(changes, 'fshelper'):
            shutil.rmtree(changes.fshelper.base_dir, ignore_errors=True)

    database = Database(
        ZODB.DB(storage), layer_database.uri, layer_database.config,
        cleanup=remove_blobs)
    if release_base is not None:
        database.add_cleanup(release_base)
    return database


def write_config(path, storage_section, imports=()):
    """Write a ZConfig file with a ``<zodb>`` section; return its path."""
    with open(path, 'w') as f:
        for package in imports:
            f.write(f'%import {package}\n')
        f.write(f'<zodb>\n{storage_section}</zodb>\n')
    return path


def copy_tree(source, target):
    """Copy a directory (blobs) if it exists."""
    if os.path.isdir(source):
        shutil.copytree(source, target)
