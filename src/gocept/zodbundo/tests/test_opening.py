"""Opening storages from the command line: blobs, damage, no creation."""
import io
import logging
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import unittest

import transaction
import ZODB
import ZODB.blob
import ZODB.FileStorage

import gocept.zodbundo.cli
import gocept.zodbundo.tests.layers
import gocept.zodbundo.tests.test_cli
from gocept.zodbundo.tests.digest import file_state
from gocept.zodbundo.tests.digest import storage_state
from gocept.zodbundo.tests.test_cli import run


class BlobFile:
    """Mixin: T1 stores a blob b'right', T2 overwrites it with b'WRONG'."""

    blob_dir_name = 'elsewhere'
    data_dir = ''

    def setUp(self):
        super().setUp()
        self.directory = tempfile.mkdtemp(prefix='zodbundo.')
        self.addCleanup(shutil.rmtree, self.directory)
        data_dir = os.path.join(self.directory, self.data_dir)
        os.makedirs(data_dir, exist_ok=True)
        self.path = os.path.join(data_dir, 'Data.fs')
        self.blobs = os.path.join(self.directory, self.blob_dir_name)
        db = self.open_db()
        manager = transaction.TransactionManager()
        connection = db.open(manager)
        connection.root()['blob'] = blob = ZODB.blob.Blob(b'right')
        manager.commit()
        with blob.open('w') as f:
            f.write(b'WRONG')
        manager.commit()
        self.t2 = db.lastTransaction().hex()
        connection.close()
        db.close()

    def open_db(self):
        return ZODB.DB(ZODB.FileStorage.FileStorage(
            self.path, blob_dir=self.blobs))

    def blob_data(self):
        db = self.open_db()
        try:
            connection = db.open()
            with connection.root()['blob'].open() as f:
                return f.read()
        finally:
            db.close()

    def assertRefusedForBlobs(self, *argv):
        state = file_state(self.path)
        code, out, err = run(*argv)
        self.assertEqual(1, code, out + err)
        self.assertIn('opened without its blob directory', err)
        self.assertIn('--blobs DIR', err)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertEqual(state, file_state(self.path))
        self.assertEqual(b'WRONG', self.blob_data())

    def assertUndone(self, *argv):
        code, out, err = run(*argv)
        self.assertEqual(0, code, out + err)
        self.assertIn('Committed', out)
        self.assertEqual(b'right', self.blob_data())

    def config(self, blob_dir=None):
        path = os.path.join(self.directory, 'zodb.conf')
        with open(path, 'w') as f:
            f.write('<filestorage>\n  path {}\n{}</filestorage>\n'.format(
                self.path,
                '  blob-dir {}\n'.format(blob_dir) if blob_dir else ''))
        return path


class BlobOptionTests(BlobFile, unittest.TestCase):
    """issue 11 item 1: undoing a blob change without the blobs lost it."""

    def test_file_without_blobs_is_refused_before_writing(self):
        self.assertRefusedForBlobs(
            '--file', self.path, 'undo', self.t2, '--commit')
        # The dry run already says so.
        self.assertRefusedForBlobs('--file', self.path, 'undo', self.t2)

    def test_file_with_blobs(self):
        self.assertUndone('--file', self.path, '--blobs', self.blobs,
                          'undo', self.t2, '--commit')

    def test_missing_blobs_directory_is_a_usage_error(self):
        code, out, err = run('--file', self.path, '--blobs',
                             self.blobs + '-typo', 'log')
        self.assertEqual(2, code)
        self.assertIn('no such directory', err)

    def test_uri_without_and_with_blobstorage_dir(self):
        uri = 'file://' + self.path
        self.assertRefusedForBlobs('--uri', uri, 'undo', self.t2, '--commit')
        self.assertUndone('--uri', uri + '?blobstorage_dir=' + self.blobs,
                          'undo', self.t2, '--commit')

    def test_uri_with_blobs_option(self):
        self.assertUndone('--uri', 'file://' + self.path, '--blobs',
                          self.blobs, 'undo', self.t2, '--commit')

    def test_config_without_and_with_blob_dir(self):
        self.assertRefusedForBlobs('--config', self.config(), 'undo',
                                   self.t2, '--commit')
        self.assertUndone('--config', self.config(self.blobs), 'undo',
                          self.t2, '--commit')

    def test_zconfig_uri_with_blob_dir(self):
        self.assertUndone('--uri', 'zconfig://' + self.config(self.blobs),
                          'undo', self.t2, '--commit')


class BuildoutBlobTests(BlobFile, unittest.TestCase):
    """A buildout keeps var/blobstorage beside var/filestorage/Data.fs."""

    data_dir = os.path.join('var', 'filestorage')
    blob_dir_name = os.path.join('var', 'blobstorage')

    def test_blobs_are_found_beside_the_filestorage(self):
        self.assertUndone('--file', self.path, 'undo', self.t2, '--commit')

    def test_blobs_are_found_for_a_file_uri_too(self):
        self.assertUndone('--uri', 'file://' + self.path, 'undo', self.t2,
                          '--commit')


class ServerBlobTests:
    """Mixin: undo of a blob change through a server's storage option."""

    def setUp(self):
        super().setUp()
        root = self.layer['zodbRoot']
        root['blob'] = blob = ZODB.blob.Blob(b'right')
        transaction.commit()
        with blob.open('w') as f:
            f.write(b'WRONG')
        transaction.commit()
        self.t2 = self.layer['zodbDB'].history(blob._p_oid)[0]['tid'].hex()

    def blob_data(self):
        self.sync()
        with self.layer['zodbRoot']['blob'].open() as f:
            return f.read()

    def sync(self):
        transaction.begin()


class ZEOBlobTests(ServerBlobTests, unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.ZEO

    def sync(self):
        self.layer['zodbDB'].storage.server_status()
        transaction.begin()

    def test_zeo_server_undoes_blobs_with_its_own_directory(self):
        host, port = self.layer['zeo_address']
        code, out, err = run('--zeo', '{}:{}'.format(host, port), 'undo',
                             self.t2, '--commit')
        self.assertEqual(0, code, out + err)
        self.assertEqual(b'right', self.blob_data())


class RelStorageBlobTests(ServerBlobTests, unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.RELSTORAGE

    def test_config_without_blob_dir_is_refused(self):
        path = os.path.join(tempfile.mkdtemp(), 'rs.conf')
        self.addCleanup(shutil.rmtree, os.path.dirname(path))
        with open(self.layer['zodb_config']) as f:
            config = f.read()
        with open(path, 'w') as f:
            f.write('\n'.join(line for line in config.splitlines()
                              if 'blob-dir' not in line))
        state = storage_state(self.layer['zodbDB'].storage)
        code, out, err = run('--config', path, 'undo', self.t2, '--commit')
        self.assertEqual(1, code, out + err)
        self.assertIn('opened without its blob directory', err)
        self.assertEqual(state, storage_state(self.layer['zodbDB'].storage))
        self.assertEqual(b'WRONG', self.blob_data())

    def test_config_of_an_empty_database_creates_no_tables(self):
        # issue 11 item 11 for RelStorage: create-schema (default true)
        # would create the tables in an empty database.
        import psycopg2
        name = 'gocept_zodbundo_empty_{}'.format(os.getpid())
        admin = psycopg2.connect(self.layer['postgresql_dsn'])
        admin.autocommit = True
        self.addCleanup(admin.close)
        with admin.cursor() as cursor:
            cursor.execute('CREATE DATABASE {}'.format(name))
        self.addCleanup(self.drop, admin, name)
        dsn = psycopg2.extensions.make_dsn(
            self.layer['postgresql_dsn'], dbname=name)
        path = os.path.join(tempfile.mkdtemp(), 'empty.conf')
        self.addCleanup(shutil.rmtree, os.path.dirname(path))
        with open(path, 'w') as f:
            f.write('%import relstorage\n<relstorage>\n  <postgresql>\n'
                    '    dsn {}\n  </postgresql>\n</relstorage>\n'.format(
                        dsn))
        code, out, err = run('--config', path, 'log')
        self.assertNotEqual(0, code)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertIn('never creates a storage', err)
        connection = psycopg2.connect(dsn)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_tables"
                               " WHERE schemaname = 'public'")
                self.assertEqual(0, cursor.fetchone()[0])
        finally:
            connection.close()

    def drop(self, admin, name):
        with admin.cursor() as cursor:
            cursor.execute('DROP DATABASE IF EXISTS {}'.format(name))

    def test_config_with_blob_dir(self):
        code, out, err = run('--config', self.layer['zodb_config'], 'undo',
                             self.t2, '--commit')
        self.assertEqual(0, code, out + err)
        self.assertEqual(b'right', self.blob_data())


class FileChecksTests(unittest.TestCase):

    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix='zodbundo.')
        self.addCleanup(shutil.rmtree, self.directory)
        self.path = os.path.join(self.directory, 'Data.fs')
        db = ZODB.DB(ZODB.FileStorage.FileStorage(self.path))
        manager = transaction.TransactionManager()
        connection = db.open(manager)
        for i in range(60):
            connection.root()['k{}'.format(i)] = 'x' * 200
            manager.get().note('transaction {}'.format(i))
            manager.commit()
        self.last = db.lastTransaction().hex()
        db.close()

    def transaction_positions(self):
        with open(self.path, 'rb') as f:
            data = f.read()
        positions, pos = [], 4
        while pos < len(data):
            positions.append(pos)
            pos += struct.unpack('>Q', data[pos + 8:pos + 16])[0] + 8
        return positions

    def damage(self):
        """Break a transaction header in the middle, drop the index."""
        os.remove(self.path + '.index')
        middle = self.transaction_positions()[30]
        with open(self.path, 'r+b') as f:
            f.seek(middle + 8)  # its length
            f.write(b'\xff' * 8)
        return middle

    def test_damaged_file_is_reported_and_never_opened_for_writing(self):
        # issue 11 item 10: FileStorage's recovery on a writable open
        # cut the file to the damaged transaction (the rest to .tr0).
        middle = self.damage()
        size = os.path.getsize(self.path)
        for argv in (['log'], ['undo', self.last, '--commit'],
                     ['undo', self.last]):
            code, out, err = run('--file', self.path, *argv)
            self.assertEqual(1, code, argv)
            self.assertEqual('', out)
            self.assertEqual(1, len(err.splitlines()), err)
            self.assertIn('damaged at byte {} of {}'.format(middle, size),
                          err)
            self.assertIn('fsrecover', err)
        self.assertEqual(size, os.path.getsize(self.path))
        self.assertFalse(os.path.exists(self.path + '.tr0'))

    def test_an_interrupted_last_commit_is_no_damage(self):
        last = self.transaction_positions()[-1]
        with open(self.path, 'r+b') as f:
            f.truncate(os.path.getsize(self.path) - 30)
        os.remove(self.path + '.index')
        code, out, err = run('--file', self.path, 'log', '--limit', '1')
        self.assertEqual(0, code, err)
        code, out, err = run('--file', self.path, 'undo', out[:16],
                             '--commit')
        self.assertEqual(0, code, err)
        self.assertGreater(os.path.getsize(self.path), last)

    def test_no_option_creates_a_storage(self):
        # issue 11 item 11.
        for missing in (os.path.join(self.directory, 'typo', 'Data.fs'),
                        os.path.join(self.directory, 'Typo.fs')):
            config = os.path.join(self.directory, 'missing.conf')
            with open(config, 'w') as f:
                f.write('<filestorage>\n  path {}\n</filestorage>\n'.format(
                    missing))
            for argv in (['--uri', 'file://' + missing],
                         ['--config', config],
                         ['--uri', 'zconfig://' + config],
                         ['--file', missing]):
                code, out, err = run(*argv, 'undo', self.last, '--commit')
                self.assertEqual(2, code, argv)
                self.assertEqual(1, len(err.splitlines()), err)
                self.assertTrue('no such file' in err
                                or 'does not exist' in err, err)
                self.assertFalse(os.path.exists(missing), argv)
                self.assertFalse(os.path.exists(os.path.join(
                    self.directory, 'typo')), argv)

    def test_config_with_create_true_is_refused(self):
        config = os.path.join(self.directory, 'create.conf')
        with open(config, 'w') as f:
            f.write('<filestorage>\n  path {}\n  create true\n'
                    '</filestorage>\n'.format(self.path))
        state = file_state(self.path)
        code, out, err = run('--config', config, 'log')
        self.assertEqual(2, code, err)
        self.assertIn('"create true" would empty', err)
        self.assertEqual(state, file_state(self.path))

    def test_a_fifo_is_refused_without_blocking(self):
        # issue 11 item 12: opening a FIFO blocks until a writer comes.
        fifo = os.path.join(self.directory, 'fifo')
        os.mkfifo(fifo)
        results = []
        thread = threading.Thread(
            target=lambda: results.append(run('--file', fifo, 'log')),
            daemon=True)
        thread.start()
        thread.join(30)
        if thread.is_alive():  # unblock it, then fail
            with open(fifo, 'wb'):
                pass
            self.fail('zodb-undo blocked on a FIFO')
        code, out, err = results[0]
        self.assertEqual(2, code)
        self.assertIn('not a regular file', err)

    def test_bad_input_exits_2_with_one_line(self):
        # issue 11 item 14.
        no_storage = os.path.join(self.directory, 'empty.conf')
        with open(no_storage, 'w') as f:
            f.write('# no storage section\n')
        broken = os.path.join(self.directory, 'broken.conf')
        with open(broken, 'w') as f:
            f.write('<filestorage>\n  path\n')
        for argv, expected in (
                (['--config', no_storage], 'no storage section'),
                (['--uri', 'zconfig://' + no_storage], 'no storage section'),
                (['--config', broken], broken),
                (['--uri', 'file://' + self.path + '?bogus=1'], 'bogus'),
                (['--zeo', '127.0.0.1:99999'], 'port from 1 to 65535'),
                (['--uri', 'nosuchscheme://x'], 'no zodburi resolver')):
            code, out, err = run(*argv, 'log')
            self.assertEqual(2, code, (argv, err))
            self.assertEqual(1, len(err.splitlines()), err)
            self.assertIn(expected, err)

    def test_a_bad_index_costs_at_most_one_line_each(self):
        # issue 11 item 13: a bad index printed a 9-line traceback.
        with open(self.path + '.index', 'wb') as f:
            f.write(b'garbage')
        code, out, err = run('--file', self.path, 'log', '--limit', '1')
        self.assertEqual(0, code, err)
        self.assertNotIn('Traceback', err)
        self.assertLessEqual(len(err.splitlines()), 2, err)


GONE_MODULE = """
import persistent


class Counter(persistent.Persistent):

    value = 0

    def _p_resolveConflict(self, old, committed, new):
        return committed
"""


class MissingClassesTests(unittest.TestCase):
    """issue 11 item 13: the application's classes cannot be imported."""

    def test_unimportable_classes_cost_no_traceback(self):
        directory = tempfile.mkdtemp(prefix='zodbundo.')
        self.addCleanup(shutil.rmtree, directory)
        path = os.path.join(directory, 'Data.fs')
        script = os.path.join(directory, 'make.py')
        with open(os.path.join(directory, 'zodbundo_gone.py'), 'w') as f:
            f.write(GONE_MODULE)
        with open(script, 'w') as f:
            f.write(
                'import sys, transaction, ZODB, ZODB.FileStorage\n'
                'sys.path.insert(0, {directory!r})\n'
                'import zodbundo_gone\n'
                'db = ZODB.DB(ZODB.FileStorage.FileStorage({path!r}))\n'
                'root = db.open().root()\n'
                'for i in range(30):\n'
                '    root[i] = zodbundo_gone.Counter()\n'
                'transaction.commit()\n'
                'for value in (1, 2):\n'
                '    for i in range(30):\n'
                '        root[i].value = value\n'
                '    transaction.commit()\n'
                '    print(db.lastTransaction().hex())\n'
                'db.close()\n'.format(directory=directory, path=path))
        argv, env = gocept.zodbundo.tests.test_cli.command()
        made = subprocess.run(
            [sys.executable, script], capture_output=True, text=True,
            timeout=120, env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                sys.path)))
        self.assertEqual(0, made.returncode, made.stderr)
        first = made.stdout.split()[0]
        os.remove(os.path.join(directory, 'zodbundo_gone.py'))
        for commit in ((), ('--commit',)):
            result = subprocess.run(
                argv + ['--file', path, 'undo', first, *commit],
                capture_output=True, text=True, timeout=120, env=env,
                cwd=directory)
            self.assertEqual(1, result.returncode, result.stderr)
            self.assertIn('30 conflict(s)', result.stdout)
            self.assertNotIn('Traceback', result.stderr)
            self.assertLessEqual(len(result.stderr.splitlines()), 4,
                                 result.stderr)


class LogLinesTests(unittest.TestCase):

    def test_repeated_log_errors_are_counted_not_repeated(self):
        # issue 11 item 13: a failed conflict resolution per object
        # printed a traceback each (240,000 lines for 20,000 objects).
        stderr = io.StringIO()
        logger = logging.getLogger('ZODB.ConflictResolution')
        with gocept.zodbundo.cli._Logging(stderr, debug=False):
            for i in range(50):
                try:
                    raise ImportError('No module named shop')
                except ImportError:
                    logger.exception(
                        'Unexpected error while trying to resolve conflict'
                        ' on %s', 'shop.Cart')
        lines = stderr.getvalue().splitlines()
        self.assertEqual(4, len(lines), lines)
        self.assertNotIn('Traceback', stderr.getvalue())
        self.assertIn('ImportError: No module named shop', lines[0])
        self.assertIn('47 more like', lines[3])
