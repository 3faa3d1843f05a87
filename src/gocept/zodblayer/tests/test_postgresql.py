import os
import subprocess
import sys
import textwrap
import threading
import time
import unittest

import psycopg2

import gocept.zodblayer
import gocept.zodblayer._process
import gocept.zodblayer._tempdir
import gocept.zodblayer.postgresql
import gocept.zodblayer.tests.test_zeo


def query(dsn, sql):
    connection = psycopg2.connect(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        connection.close()


external = unittest.skipIf(
    os.environ.get('GOCEPT_POSTGRESQL_DSN'),
    'an external server is used ($GOCEPT_POSTGRESQL_DSN)')


class PostgreSQLLayerTest(unittest.TestCase):

    layer = gocept.zodblayer.POSTGRESQL

    def test_postgresql_dsn_connects_to_a_server(self):
        [[version]] = query(
            self.layer['postgresql_dsn'], 'SHOW server_version')
        self.assertTrue(version[0].isdigit())

    @external
    def test_server_listens_on_a_socket_in_its_temp_dir(self):
        dsn = psycopg2.extensions.parse_dsn(self.layer['postgresql_dsn'])
        self.assertEqual(self.layer.tempdir, dsn['host'])
        [[addresses]] = query(
            self.layer['postgresql_dsn'], 'SHOW listen_addresses')
        self.assertEqual('', addresses)

    @external
    def test_durability_is_off_for_speed(self):
        [[fsync]] = query(self.layer['postgresql_dsn'], 'SHOW fsync')
        self.assertEqual('off', fsync)

    @external
    def test_server_does_not_run_as_root(self):
        owner = os.stat(os.path.join(self.layer.tempdir, 'data')).st_uid
        self.assertNotEqual(0, owner)
        with open(f'/proc/{self.layer.process.pid}/status') as f:
            uid_line = [line for line in f if line.startswith('Uid:')][0]
        self.assertNotEqual('0', uid_line.split()[1])


class BrokenDataDirLayer(gocept.zodblayer.PostgreSQLLayer):

    def prepare(self, cluster):
        super().prepare(cluster)
        with open(os.path.join(cluster.datadir, 'postgresql.conf'),
                  'a') as f:
            f.write('\nno_such_setting = 1\n')


class PostgreSQLLifecycleTest(unittest.TestCase):

    def setUp(self):
        if os.environ.get('GOCEPT_POSTGRESQL_DSN'):
            self.skipTest('an external server is used')

    def test_tearDown_stops_server_and_removes_temp_dir(self):
        layer = gocept.zodblayer.PostgreSQLLayer(
            name='PostgreSQLLayer:Lifecycle', module=__name__)
        layer.setUp()
        pid = layer.process.pid
        tempdir = layer.tempdir
        layer.tearDown()
        self.assertFalse(
            gocept.zodblayer.tests.test_zeo.process_exists(pid))
        self.assertFalse(os.path.exists(tempdir))
        self.assertNotIn('postgresql_dsn', layer)

    def test_two_clusters_run_at_once(self):
        first = gocept.zodblayer.PostgreSQLLayer(
            name='PostgreSQLLayer:First', module=__name__)
        second = gocept.zodblayer.PostgreSQLLayer(
            name='PostgreSQLLayer:Second', module=__name__)
        first.setUp()
        self.addCleanup(first.tearDown)
        second.setUp()
        self.addCleanup(second.tearDown)
        self.assertNotEqual(first['postgresql_dsn'], second['postgresql_dsn'])
        for layer in (first, second):
            self.assertEqual(
                [(1,)], query(layer['postgresql_dsn'], 'SELECT 1'))

    def test_server_failing_to_start_raises_with_log_tail(self):
        layer = BrokenDataDirLayer(
            name='PostgreSQLLayer:Broken', module=__name__)
        with self.assertRaises(
                gocept.zodblayer._process.ServerStartError) as err:
            layer.setUp()
        message = str(err.exception)
        self.assertIn('PostgreSQL exited', message)
        self.assertIn('no_such_setting', message)
        self.assertIsNone(layer.tempdir)
        self.assertIsNone(layer.process)
        tempdir = gocept.zodblayer.tests.test_zeo.temp_dir_in(message)
        self.assertFalse(os.path.exists(tempdir))
        self.assertEqual(
            [], gocept.zodblayer.tests.test_zeo.processes_mentioning(tempdir))
        layer.tearDown()  # harmless after a failed setUp

    def test_server_stops_when_the_test_process_dies(self):
        script = textwrap.dedent('''\
            import os
            import gocept.zodblayer
            layer = gocept.zodblayer.POSTGRESQL
            layer.setUp()
            print(layer.process.pid, layer.tempdir, flush=True)
            os._exit(0)  # no tearDown
        ''')
        output = subprocess.run(
            [sys.executable, '-c', script], capture_output=True, text=True,
            env=gocept.zodblayer._process.python_env(), timeout=120,
            check=True).stdout
        pid, tempdir = output.split()
        deadline = time.monotonic() + 30
        while gocept.zodblayer.tests.test_zeo.process_exists(int(pid)):
            self.assertLess(time.monotonic(), deadline, 'server survived')
            threading.Event().wait(0.05)
        gocept.zodblayer._tempdir.remove_stale(
            os.path.dirname(tempdir), 'gocept.zodblayer.pg.')
        self.assertFalse(os.path.exists(tempdir))

    def test_server_set_up_in_a_thread_that_ended_keeps_serving(self):
        layer = gocept.zodblayer.PostgreSQLLayer(
            name='PostgreSQLLayer:Thread', module=__name__)
        gocept.zodblayer.tests.test_zeo.set_up_in_a_thread_that_ends(layer)
        self.addCleanup(layer.tearDown)
        self.assertEqual([(1,)], query(layer['postgresql_dsn'], 'SELECT 1'))
        result = subprocess.run(
            [sys.executable, '-c',
             'import sys, psycopg2; psycopg2.connect(sys.argv[1]).close()',
             layer['postgresql_dsn']],
            capture_output=True, text=True, timeout=60,
            env=gocept.zodblayer._process.python_env())
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIsNone(layer.process.poll())

    def test_server_set_up_in_a_thread_stops_on_kill_9_of_the_process(self):
        test_zeo = gocept.zodblayer.tests.test_zeo
        pid, tempdir = test_zeo.kill_after_set_up_in_a_thread('POSTGRESQL')
        test_zeo.wait_until_gone(pid)
        gocept.zodblayer._tempdir.remove_stale(
            os.path.dirname(tempdir), 'gocept.zodblayer.pg.')
        self.assertFalse(os.path.exists(tempdir))

    def test_external_server_is_used_from_environment(self):
        dsn = 'host=/nonexistent dbname=postgres'
        os.environ['GOCEPT_POSTGRESQL_DSN'] = dsn
        try:
            layer = gocept.zodblayer.PostgreSQLLayer(
                name='PostgreSQLLayer:External', module=__name__)
            layer.setUp()
            self.assertEqual(dsn, layer['postgresql_dsn'])
            self.assertIsNone(layer.process)
            layer.tearDown()
        finally:
            del os.environ['GOCEPT_POSTGRESQL_DSN']
