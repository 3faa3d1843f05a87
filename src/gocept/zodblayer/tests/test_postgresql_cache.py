"""The per-machine cache of initdb'd data directories."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import gocept.zodblayer
import gocept.zodblayer._process
import gocept.zodblayer.postgresql
import gocept.zodblayer.tests.test_postgresql


CACHE_VARIABLE = gocept.zodblayer.postgresql.CACHE_VARIABLE
# What initdb prints: its presence in the log shows initdb ran.
INITDB_OUTPUT = 'The files belonging to this database system'


class PostgreSQLCacheTest(unittest.TestCase):

    def setUp(self):
        if os.environ.get('GOCEPT_POSTGRESQL_DSN'):
            self.skipTest('an external server is used')
        parent = tempfile.mkdtemp(prefix='zodblayer-cache-test.')
        self.addCleanup(shutil.rmtree, parent)
        # A fresh machine: the cache directory does not exist yet.
        self.cache = os.path.join(parent, 'cache')
        old = os.environ.get(CACHE_VARIABLE)
        os.environ[CACHE_VARIABLE] = self.cache
        self.addCleanup(self.restore_environment, old)

    def restore_environment(self, old):
        if old is None:
            del os.environ[CACHE_VARIABLE]
        else:
            os.environ[CACHE_VARIABLE] = old

    def new_layer(self):
        return gocept.zodblayer.PostgreSQLLayer(
            name='PostgreSQLLayer:Cache', module=__name__)

    def log_of(self, layer):
        with open(os.path.join(layer.tempdir, 'postgresql.log')) as f:
            return f.read()

    def test_first_setUp_fills_the_cache_the_next_uses_it(self):
        layer = self.new_layer()
        layer.setUp()
        try:
            self.assertIn(INITDB_OUTPUT, self.log_of(layer))
        finally:
            layer.tearDown()
        [entry] = os.listdir(self.cache)  # no building.* left over
        self.assertTrue(entry.startswith('postgresql-'), entry)
        layer = self.new_layer()
        layer.setUp()
        try:
            self.assertNotIn(INITDB_OUTPUT, self.log_of(layer))
            self.assertEqual(
                [(1,)], gocept.zodblayer.tests.test_postgresql.query(
                    layer['postgresql_dsn'], 'SELECT 1'))
        finally:
            layer.tearDown()

    def test_broken_cache_entry_is_named_in_the_error(self):
        layer = self.new_layer()
        layer.setUp()
        layer.tearDown()
        [entry] = os.listdir(self.cache)
        cached = os.path.join(self.cache, entry)
        os.unlink(os.path.join(cached, 'global', 'pg_control'))
        layer = self.new_layer()
        with self.assertRaises(
                gocept.zodblayer._process.ServerStartError) as caught:
            layer.setUp()
        message = str(caught.exception)
        self.assertIn('pg_control', message)  # the log tail
        self.assertIn(f'copy of the cached {cached}', message)
        self.assertIsNone(layer.tempdir)
        self.assertIsNone(layer.process)

    def test_building_dir_of_a_killed_run_is_removed(self):
        os.makedirs(self.cache)
        dead = subprocess.run(
            [sys.executable, '-c', 'import os; print(os.getpid())'],
            capture_output=True, text=True, check=True).stdout.strip()
        stale = os.path.join(self.cache, 'building.killed')
        os.mkdir(stale)
        with open(os.path.join(stale, 'owner.pid'), 'w') as f:
            f.write(f'{dead}\n')
        layer = self.new_layer()
        layer.setUp()
        layer.tearDown()
        self.assertFalse(os.path.exists(stale))
        self.assertEqual(1, len(os.listdir(self.cache)))
