"""The data-loss fixes of issue 11 through every storage option.

`revert` listing what it discards (item 2) and the dry run agreeing with
the commit (item 3), through ``--file``, ``--uri``, ``--config`` on a
FileStorage, ``--zeo`` and ``--config`` of a RelStorage.
"""
import contextlib
import json
import os
import shutil
import tempfile
import unittest

import persistent.mapping
import transaction
import ZODB
import ZODB.FileStorage

import gocept.zodbundo.tests.layers
from gocept.zodbundo.tests.digest import storage_state
from gocept.zodbundo.tests.test_cli import run


class Routes:
    """Mixin: `options`, `session()` (yields a root), `storage_state()`."""

    def commit(self, root, note, user=''):
        txn = transaction.get()
        txn.note(note)
        txn.user = user
        transaction.commit()
        return root['a']._p_serial.hex()

    def value(self, key='value'):
        with self.session() as root:
            return root['a'].get(key)

    def test_revert_lists_what_it_discards(self):
        with self.session() as root:
            root['a'] = persistent.mapping.PersistentMapping(value='A')
            self.commit(root, 'create a')
            root['a']['value'] = 'B'
            x = self.commit(root, 'bad import')
            root['a']['other'] = 'later, unrelated'
            later = self.commit(root, 'another key of a', user='bob')
            oid = root['a']._p_oid.hex()
        state = self.storage_state()
        code, out, err = run(*self.options, 'revert', oid, '--before', x)
        self.assertEqual(0, code, out + err)
        lines = out.splitlines()
        self.assertIn('discarding the changes of 2 transaction(s)', lines[0])
        self.assertTrue(lines[1].strip().startswith(later), out)
        self.assertIn('bob  another key of a', lines[1])
        self.assertTrue(lines[2].strip().startswith(x), out)
        code, out, err = run(*self.options, '--json', 'revert', oid,
                             '--before', x)
        self.assertEqual(
            [later, x],
            [d['tid'] for d in json.loads(out)['plan']['discarded']])
        self.assertEqual(state, self.storage_state())
        code, out, err = run(*self.options, 'revert', oid, '--before', x,
                             '--commit')
        self.assertEqual(0, code, out + err)
        self.assertEqual(lines[:3], out.splitlines()[:3])
        self.assertIsNone(self.value('other'))
        self.assertEqual('A', self.value())

    def test_dry_run_agrees_with_commit(self):
        with self.session() as root:
            root['a'] = persistent.mapping.PersistentMapping(value='A')
            self.commit(root, 'create a')
            root['a']['value'] = 'B'
            first = self.commit(root, 'B')
            root['a']['value'] = 'C'
            second = self.commit(root, 'C')
        code, out, err = run(*self.options, '--json', 'undo', second, first,
                             '--commit')
        self.assertEqual(0, code, out + err)
        both = json.loads(out)['transaction']['tid']
        with self.session() as root:
            root['a']._p_changed = True
            self.commit(root, 'rewrite unchanged')
        state = self.storage_state()
        code, out, err = run(*self.options, 'undo', both)
        self.assertEqual(0, code, out + err)
        self.assertEqual(state, self.storage_state())
        code, out, err = run(*self.options, 'undo', both, '--commit')
        self.assertEqual(0, code, out + err)
        self.assertEqual('C', self.value())


class FileRoutes(Routes):
    """A FileStorage of our own, closed while the command runs."""

    def setUp(self):
        super().setUp()
        self.directory = tempfile.mkdtemp(prefix='zodbundo.')
        self.addCleanup(shutil.rmtree, self.directory)
        self.path = os.path.join(self.directory, 'Data.fs')
        ZODB.FileStorage.FileStorage(self.path).close()
        self.options = self.route()

    @contextlib.contextmanager
    def session(self):
        db = ZODB.DB(ZODB.FileStorage.FileStorage(self.path))
        connection = db.open()
        try:
            yield connection.root()
        finally:
            transaction.abort()
            connection.close()
            db.close()

    def storage_state(self):
        storage = ZODB.FileStorage.FileStorage(self.path, read_only=True)
        try:
            return storage_state(storage)
        finally:
            storage.close()


class FileOptionTests(FileRoutes, unittest.TestCase):

    def route(self):
        return ['--file', self.path]


class FileURIOptionTests(FileRoutes, unittest.TestCase):

    def route(self):
        return ['--uri', 'file://' + self.path]


class FileConfigOptionTests(FileRoutes, unittest.TestCase):

    def route(self):
        config = os.path.join(self.directory, 'zodb.conf')
        with open(config, 'w') as f:
            f.write('<filestorage>\n  path {}\n</filestorage>\n'.format(
                self.path))
        return ['--config', config]


class LayerRoutes(Routes):

    @contextlib.contextmanager
    def session(self):
        self.sync()
        yield self.layer['zodbRoot']
        transaction.abort()

    def sync(self):
        transaction.begin()

    def storage_state(self):
        return storage_state(self.layer['zodbDB'].storage)


class ZEOOptionTests(LayerRoutes, unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.ZEO

    def setUp(self):
        super().setUp()
        self.options = ['--zeo', '{}:{}'.format(*self.layer['zeo_address'])]

    def sync(self):
        # A round trip: other clients' invalidations arrive before it.
        self.layer['zodbDB'].storage.server_status()
        transaction.begin()


class RelStorageConfigOptionTests(LayerRoutes, unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.RELSTORAGE

    def setUp(self):
        super().setUp()
        self.options = ['--config', self.layer['zodb_config']]
