"""zodb-undo through main(argv), and once as a real process over ZEO."""
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

import persistent.mapping
import transaction
import zc.lockfile
import ZODB
import ZODB.FileStorage

import gocept.zodbundo.cli
import gocept.zodbundo.opening
import gocept.zodbundo.tests.digest
import gocept.zodbundo.tests.layers


def run(*argv):
    stdout, stderr = io.StringIO(), io.StringIO()
    code = gocept.zodbundo.cli.main(list(argv), stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


class SeedFile:
    """Test mixin: a FileStorage with the seed scenario, closed again."""

    def setUp(self):
        super().setUp()
        self.directory = tempfile.mkdtemp(prefix='zodbundo.')
        self.addCleanup(shutil.rmtree, self.directory)
        self.path = os.path.join(self.directory, 'Data.fs')
        with self.open() as root:
            for name in 'ab':
                root[name] = persistent.mapping.PersistentMapping(value='A')
            self.commit('create a b')
            for name in 'ab':
                root[name]['value'] = 'B'
            self.x = self.commit('fix-up script', user='admin')
            self.oid_a = root['a']._p_oid.hex()

    def commit(self, note, user=''):
        txn = self.manager.get()
        txn.note(note)
        txn.user = user
        self.manager.commit()
        return self.db.lastTransaction().hex()

    def open(self):
        test = self

        class Opened:
            def __enter__(self):
                test.db = ZODB.DB(ZODB.FileStorage.FileStorage(test.path))
                test.manager = transaction.TransactionManager()
                test.connection = test.db.open(test.manager)
                return test.connection.root()

            def __exit__(self, *exc):
                test.manager.abort()
                test.connection.close()
                test.db.close()

        return Opened()

    def values(self):
        with self.open() as root:
            return [root[name]['value'] for name in 'ab']

    def state(self):
        """Last tid and digest of every record: what a write changes."""
        return gocept.zodbundo.tests.digest.file_state(self.path)


class FileCommandTests(SeedFile, unittest.TestCase):

    def test_log_prints_newest_first(self):
        code, out, err = run('--file', self.path, 'log', '--limit', '2')
        self.assertEqual(0, code, err)
        lines = out.splitlines()
        self.assertEqual(2, len(lines))
        self.assertTrue(lines[0].startswith(self.x))
        self.assertIn('fix-up script', lines[0])

    def test_log_json_with_filters_after_the_command(self):
        code, out, err = run(
            'log', '--file', self.path, '--user', 'admin', '--json')
        self.assertEqual(0, code, err)
        [entry] = json.loads(out)
        self.assertEqual(self.x, entry['tid'])
        self.assertEqual('fix-up script', entry['description'])

    def test_history_and_show(self):
        code, out, err = run('--file', self.path, 'history', '0x1')
        self.assertEqual(0, code, err)
        self.assertTrue(out.startswith(self.x))
        code, out, err = run('--file', self.path, '--json', 'show', self.x)
        self.assertEqual(0, code, err)
        self.assertEqual(
            ['persistent.mapping.PersistentMapping'] * 2,
            [c['class_name'] for c in json.loads(out)['changes']])

    def test_undo_is_a_dry_run_without_commit(self):
        state = self.state()
        code, out, err = run('--file', self.path, 'undo', self.x)
        self.assertEqual(0, code, err)
        self.assertIn('clean', out)
        self.assertIn('Dry run', out)
        self.assertEqual(state, self.state())
        self.assertEqual(['B', 'B'], self.values())

    def test_undo_commit(self):
        code, out, err = run('--file', self.path, 'undo', self.x, '--commit',
                             '--note', 'script broke a and b')
        self.assertEqual(0, code, err)
        self.assertIn('Committed', out)
        self.assertEqual(['A', 'A'], self.values())
        code, out, err = run('--file', self.path, '--json', 'log',
                             '--limit', '1')
        [entry] = json.loads(out)
        self.assertEqual([self.x], entry['extension']['undo_of'])
        self.assertEqual('script broke a and b', entry['description'])

    def test_conflict_exits_1_and_writes_nothing(self):
        with self.open() as root:
            root['a']['value'] = 'C'
            later = self.commit('later change')
        state = self.state()
        code, out, err = run('--file', self.path, 'undo', self.x)
        self.assertEqual(1, code)
        self.assertIn('conflict', out)
        self.assertIn(later, out)
        code, out, err = run('--file', self.path, 'undo', self.x, '--commit')
        self.assertEqual(1, code)
        self.assertIn('Nothing written', out)
        self.assertEqual(state, self.state())
        code, out, err = run('--file', self.path, 'undo', self.x,
                             '--cascade', '--commit')
        self.assertEqual(0, code, err)
        self.assertEqual(['A', 'A'], self.values())

    def test_dry_run_agrees_with_commit_on_an_undo_writing_twice(self):
        # issue 11 item 3: one undo transaction undoing two changes of an
        # object writes two records of it; a later rewrite without change
        # does not make undoing it conflict.
        with self.open() as root:
            root['a']['value'] = 'C'
            second = self.commit('second change')
        code, out, err = run('--file', self.path, '--json', 'undo', second,
                             self.x, '--commit')
        self.assertEqual(0, code, err)
        both = json.loads(out)['transaction']['tid']
        with self.open() as root:
            root['a']._p_changed = True
            self.commit('rewrite unchanged')
        code, out, err = run('--file', self.path, 'undo', both)
        self.assertEqual(0, code, out)
        self.assertIn('clean', out)
        code, out, err = run('--file', self.path, 'undo', both, '--commit')
        self.assertEqual(0, code, out)
        self.assertEqual(['C', 'B'], self.values())

    def test_undoing_twice_points_to_the_first_undo(self):
        code, out, err = run('--file', self.path, '--json', 'undo', self.x,
                             '--commit', '--note', 'first undo')
        self.assertEqual(0, code, err)
        first = json.loads(out)['transaction']['tid']
        for commit in ((), ('--commit',)):
            code, out, err = run('--file', self.path, 'undo', self.x,
                                 *commit)
            self.assertEqual(1, code, out + err)
            self.assertIn('already undone by {}'.format(first), out)
            self.assertIn('first undo', out)
            self.assertIn('to redo it, undo {}'.format(first), out)
            self.assertNotIn('--cascade', out)
        code, out, err = run('--file', self.path, 'undo', self.x,
                             '--cascade', '--commit')
        self.assertEqual(1, code, out + err)
        self.assertIn('Nothing to undo', err)

    def test_swapped_arguments_are_named(self):
        code, out, err = run('--file', self.path, 'history', self.x)
        self.assertEqual(2, code)
        self.assertIn('looks like a tid (an oid was expected)', err)
        code, out, err = run('--file', self.path, 'revert', self.x,
                             '--before', self.oid_a)
        self.assertEqual(2, code)
        self.assertIn('looks like an oid (a tid was expected)', err)

    def test_version_and_help(self):
        code, out, err = run('--version')
        self.assertEqual(0, code)
        self.assertRegex(out, r'^zodb-undo \S+')
        code, out, err = run('--help')
        self.assertEqual(0, code)
        self.assertTrue(out.rstrip().splitlines()[-1].strip().startswith(
            'zodb-undo --file'), out)
        parser = gocept.zodbundo.cli.make_parser()
        commands = parser._subparsers._group_actions[0].choices
        for name, command in [('zodb-undo', parser)] + list(
                commands.items()):
            for action in command._actions:
                if action.dest not in ('help', 'command'):
                    self.assertTrue(action.help, (name, action.dest))

    def test_revert(self):
        code, out, err = run('--file', self.path, 'revert', self.oid_a,
                             '--before', self.x)
        self.assertEqual(0, code, err)
        self.assertIn('Dry run', out)
        self.assertEqual(['B', 'B'], self.values())
        code, out, err = run('--file', self.path, 'revert', self.oid_a,
                             '--before', self.x, '--commit')
        self.assertEqual(0, code, err)
        self.assertEqual(['A', 'B'], self.values())

    def test_revert_lists_the_later_changes_it_discards(self):
        with self.open() as root:
            root['a']['other'] = 'later, unrelated'
            later = self.commit('another key of a', user='bob')
        state = self.state()
        code, out, err = run('--file', self.path, 'revert', self.oid_a,
                             '--before', self.x)
        self.assertEqual(0, code, err)
        lines = out.splitlines()
        self.assertIn('discarding the changes of 2 transaction(s)', lines[0])
        self.assertTrue(lines[1].strip().startswith(later), out)
        self.assertIn('another key of a', lines[1])
        self.assertIn('bob', lines[1])
        self.assertTrue(lines[2].strip().startswith(self.x), out)
        self.assertEqual(state, self.state())
        code, out, err = run('--file', self.path, '--json', 'revert',
                             self.oid_a, '--before', self.x)
        discarded = json.loads(out)['plan']['discarded']
        self.assertEqual([later, self.x], [d['tid'] for d in discarded])
        self.assertEqual('another key of a', discarded[0]['description'])
        code, commit_out, err = run('--file', self.path, 'revert',
                                    self.oid_a, '--before', self.x,
                                    '--commit')
        self.assertEqual(0, code, err)
        self.assertEqual(lines[:3], commit_out.splitlines()[:3])
        self.assertIn('Committed', commit_out)
        with self.open() as root:
            self.assertNotIn('other', root['a'])

    def test_revert_dry_run_refuses_what_commit_refuses(self):
        code, out, err = run('--file', self.path, 'revert', self.oid_a,
                             '--before', self.x, '--commit')
        self.assertEqual(0, code, err)
        # Reverting once more would change nothing: both refuse alike.
        for commit in ((), ('--commit',)):
            code, out, err = run('--file', self.path, 'revert', self.oid_a,
                                 '--before', self.x, *commit)
            self.assertEqual(1, code, out)
            self.assertIn('Nothing to revert', err)
            self.assertEqual('', out)

    def test_revert_of_object_created_later_is_refused(self):
        code, out, err = run('--file', self.path, 'revert', self.oid_a,
                             '--before', '0x0000000000000001')
        self.assertEqual(2, code)  # no such transaction: bad input
        first = self.first_tid()
        code, out, err = run('--file', self.path, 'revert', self.oid_a,
                             '--before', first, '--commit')
        self.assertEqual(1, code)
        self.assertIn('did not exist before', err)

    def first_tid(self):
        code, out, err = run('--file', self.path, '--json', 'log',
                             '--limit', '0')
        return json.loads(out)[-1]['tid']

    def test_reading_commands_open_the_file_read_only(self):
        # While this process holds the FileStorage lock, reading works but
        # committing cannot open the file for writing.
        with self.open():
            code, out, err = run('--file', self.path, 'undo', self.x)
            self.assertEqual(0, code, err)
            code, out, err = run('--file', self.path, 'undo', self.x,
                                 '--commit')
            self.assertEqual(1, code)
            self.assertEqual(1, len(err.splitlines()), err)
            self.assertIn('is locked: the application', err)
            self.assertIn('Stop it, or undo through its ZEO server', err)
            # Callers that fall back to reading catch it as LockError.
            with self.assertRaises(zc.lockfile.LockError):
                gocept.zodbundo.cli.open_db(
                    gocept.zodbundo.cli.make_parser().parse_args(
                        ['--file', self.path, 'log']), writing=True)
            code, out, err = run('--file', self.path, 'log')
            self.assertEqual(0, code, err)

    def test_bad_tid_is_a_one_line_usage_error(self):
        code, out, err = run('--file', self.path, 'undo', 'nothex')
        self.assertEqual(2, code)
        self.assertEqual(1, len(err.splitlines()))
        self.assertIn("Bad tid: 'nothex'", err)
        self.assertNotIn('Traceback', err)

    def test_debug_prints_the_traceback(self):
        code, out, err = run('--debug', '--file', self.path, 'undo',
                             'nothex')
        self.assertEqual(2, code)
        self.assertIn('Traceback', err)

    def not_a_filestorage(self):
        path = os.path.join(self.directory, 'notes.txt')
        with open(path, 'w') as f:
            f.write('not a FileStorage\n')
        return path

    def test_usage_errors_exit_2(self):
        for argv in ([], ['log'], ['--file', self.path],
                     ['--file', self.path, '--zeo', 'x:1', 'log'],
                     ['--file', self.path, 'log', '--limit', 'many'],
                     ['--file', self.path, 'revert', '0x1'],
                     ['--file', os.path.join(self.directory, 'no.fs'),
                      'log'],
                     ['--file', self.directory, 'log'],
                     ['--file', self.not_a_filestorage(), 'log']):
            code, out, err = run(*argv)
            self.assertEqual(2, code, argv)
            self.assertEqual(1, len(err.splitlines()), err)

    def test_storage_that_cannot_undo_is_refused(self):
        code, out, err = run('--uri', 'memory://', 'log')
        self.assertEqual(1, code)
        self.assertIn('MappingStorage', err)
        self.assertIn('cannot undo', err)

    def test_config_file(self):
        config = os.path.join(self.directory, 'zodb.conf')
        with open(config, 'w') as f:
            f.write('<filestorage>\n  path {}\n</filestorage>\n'.format(
                self.path))
        code, out, err = run('--config', config, 'log', '--limit', '1')
        self.assertEqual(0, code, err)
        self.assertTrue(out.startswith(self.x))
        code, out, err = run('--uri', 'file://' + self.path, 'undo', self.x,
                             '--commit')
        self.assertEqual(0, code, err)
        self.assertEqual(['A', 'A'], self.values())


class NoServerTests(unittest.TestCase):

    def test_no_zeo_server_is_a_one_line_error(self):
        with socket.socket() as s:  # a port nobody listens on
            s.bind(('127.0.0.1', 0))
            port = s.getsockname()[1]
        timeout = gocept.zodbundo.opening.ZEO_TIMEOUT
        gocept.zodbundo.opening.ZEO_TIMEOUT = 0.5
        self.addCleanup(
            setattr, gocept.zodbundo.opening, 'ZEO_TIMEOUT', timeout)
        code, out, err = run('--zeo', '127.0.0.1:{}'.format(port), 'log')
        self.assertEqual(1, code)
        self.assertEqual(
            'zodb-undo: no ZEO server answered at 127.0.0.1:{} within 0.5'
            ' s\n'.format(port), err)


class FakeTerminal(io.StringIO):

    def isatty(self):
        return True


class ProgressTests(unittest.TestCase):

    def test_progress_line_only_after_a_second_on_a_terminal(self):
        terminal = FakeTerminal()
        output = gocept.zodbundo.cli.Output(False, io.StringIO(), terminal)
        output.progress(100)
        self.assertEqual('', terminal.getvalue())
        output.start -= 2  # as if the scan had been running for 2 s
        output.progress(20000)
        self.assertIn('20000 transactions', terminal.getvalue())
        pipe = io.StringIO()
        output = gocept.zodbundo.cli.Output(False, io.StringIO(), pipe)
        output.start -= 2
        output.progress(20000)
        self.assertEqual('', pipe.getvalue())


def command():
    """bin/zodb-undo of this checkout, else the module."""
    here = os.path.dirname(os.path.abspath(__file__))
    script = os.path.join(here, *(['..'] * 4 + ['bin', 'zodb-undo']))
    if os.path.exists(script):
        return [os.path.normpath(script)], None
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return [sys.executable, '-m', 'gocept.zodbundo.cli'], env


class ZEOCommandTests(unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.ZEO

    def setUp(self):
        self.root = self.layer['zodbRoot']
        self.db = self.layer['zodbDB']
        host, port = self.layer['zeo_address']
        self.zeo = '{}:{}'.format(host, port)
        self.root['a'] = persistent.mapping.PersistentMapping(value='A')
        transaction.commit()
        self.root['a']['value'] = 'B'
        transaction.get().note('fix-up script')
        transaction.commit()
        self.x = self.db.lastTransaction().hex()

    def sync(self):
        # A round trip to the server: the invalidations of commits made by
        # other clients are processed before its answer.
        self.db.storage.server_status()
        transaction.begin()

    def test_main_over_zeo(self):
        code, out, err = run('--zeo', self.zeo, 'undo', self.x)
        self.assertEqual(0, code, err)
        self.assertIn('clean', out)
        code, out, err = run('--zeo', self.zeo, 'undo', self.x, '--commit')
        self.assertEqual(0, code, err)
        self.sync()
        self.assertEqual('A', self.root['a']['value'])

    def test_real_process_undoes_over_zeo(self):
        argv, env = command()
        result = subprocess.run(
            argv + ['--zeo', self.zeo, 'undo', self.x, '--commit'],
            capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('Committed', result.stdout)
        self.sync()
        self.assertEqual('A', self.root['a']['value'])
        result = subprocess.run(
            argv + ['--zeo', self.zeo, 'undo', 'nothex'],
            capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(2, result.returncode)
        self.assertEqual(1, len(result.stderr.splitlines()), result.stderr)

    def test_real_process_reports_a_conflict_over_zeo_once(self):
        self.root['a']['value'] = 'C'
        transaction.commit()
        state = gocept.zodbundo.tests.digest.storage_state(self.db.storage)
        argv, env = command()
        result = subprocess.run(
            argv + ['--zeo', self.zeo, 'undo', self.x, '--commit'],
            capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(1, result.returncode, result.stderr)
        self.assertIn('conflict', result.stdout)
        self.assertIn('Nothing written.', result.stdout)
        self.assertEqual(
            state, gocept.zodbundo.tests.digest.storage_state(
                self.db.storage))
        # No log line of the ZEO client repeating the server's error.
        self.assertEqual('', result.stderr)


class RelStorageCommandTests(unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.RELSTORAGE

    def test_config_file_of_a_relstorage(self):
        root = self.layer['zodbRoot']
        root['a'] = persistent.mapping.PersistentMapping(value='A')
        transaction.commit()
        root['a']['value'] = 'B'
        transaction.get().note('fix-up script')
        transaction.commit()
        x = root['a']._p_serial.hex()
        config = self.layer['zodb_config']
        code, out, err = run('--config', config, 'log', '--limit', '1')
        self.assertEqual(0, code, err)
        self.assertTrue(out.startswith(x), out)
        state = gocept.zodbundo.tests.digest.storage_state(
            self.layer['zodbDB'].storage)
        code, out, err = run('--config', config, 'undo', x)
        self.assertEqual(0, code, err)
        self.assertIn('checked by analysis', out)  # opened read-only
        self.assertEqual(state, gocept.zodbundo.tests.digest.storage_state(
            self.layer['zodbDB'].storage))
        code, out, err = run('--config', config, 'undo', x, '--commit')
        self.assertEqual(0, code, err)
        transaction.begin()
        self.assertEqual('A', root['a']['value'])
