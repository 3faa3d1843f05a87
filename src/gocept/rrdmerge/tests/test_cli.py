import importlib.metadata
import io
import json
import os
import pty
import subprocess
import sys
import unittest
import unittest.mock

import gocept.rrdmerge
import gocept.rrdmerge.cli
import gocept.rrdmerge.testing
import gocept.rrdmerge.tests.test_rrdfile
import gocept.rrdmerge.tests.test_tree


# The console script, run with the test's path.
SCRIPT = [sys.executable, '-c',
          'import sys, gocept.rrdmerge.cli;'
          ' sys.exit(gocept.rrdmerge.cli.main())']


def script_environment():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))


class TTY(io.StringIO):

    def isatty(self):
        return True


class CLITests(unittest.TestCase):
    """Rule 6 and the command line of rules 4 and 5."""

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def setUp(self):
        self.tmp = self.layer['rrd_tmpdir']
        self.new, self.old = gocept.rrdmerge.testing.pnp_pair(self.tmp)
        self.out = os.path.join(self.tmp, 'out.rrd')

    def run_main(self, *argv, stderr=None):
        stdout = io.StringIO()
        stderr = io.StringIO() if stderr is None else stderr
        code = gocept.rrdmerge.cli.main(list(argv), stdout, stderr)
        return code, stdout.getvalue(), stderr.getvalue()

    def assertOneLineError(self, stderr, text):
        self.assertEqual(1, len(stderr.splitlines()), stderr)
        self.assertTrue(stderr.startswith('rrdmerge: error: '), stderr)
        self.assertIn(text, stderr)

    def test_merge_prints_the_report(self):
        code, out, err = self.run_main(self.new, self.old, '-o', self.out)
        self.assertEqual(0, code)
        self.assertEqual('', err)
        self.assertRegex(out, r'out.rrd: filled \d+ cells from .*old.rrd')
        self.assertIn('RRA 8 AVERAGE 30:300:', out)
        self.assertEqual(
            gocept.rrdmerge.testing.ideal_merge(self.new, self.old),
            gocept.rrdmerge.testing.cells(self.out))

    def test_dry_run_reports_cells_and_writes_nothing(self):
        before = sorted(os.listdir(self.tmp))
        code, out, _ = self.run_main(
            self.new, self.old, '-o', self.out, '--dry-run')
        self.assertEqual(0, code)
        self.assertRegex(out, r'would fill [1-9]\d* cells')
        self.assertEqual(before, sorted(os.listdir(self.tmp)))

    def test_json_report(self):
        code, out, _ = self.run_main(
            self.new, self.old, '-o', self.out, '--json')
        self.assertEqual(0, code)
        data = json.loads(out)
        self.assertEqual('binary', data['method'])
        self.assertGreater(data['cells_filled'], 0)
        self.assertEqual(data['cells_filled'], sum(
            sum(a['filled'].values()) for a in data['archives']))

    def test_missing_rrdtool_is_one_line_exit_2(self):
        code, _, err = self.run_main(
            self.new, self.old, '--rrdtool', '/nonexistent/rrdtool')
        self.assertEqual(2, code)
        self.assertOneLineError(err, "'/nonexistent/rrdtool' not found")

    def test_missing_rrdtool_from_environment_is_one_line_exit_2(self):
        with unittest.mock.patch.dict(
                os.environ, GOCEPT_RRDMERGE_RRDTOOL='no-such-rrdtool'):
            code, _, err = self.run_main(
                '--tree', self.tmp, self.tmp, '--dry-run')
        self.assertEqual(2, code)
        self.assertOneLineError(err, 'install rrdtool')

    def test_missing_file_is_one_line_exit_2(self):
        code, _, err = self.run_main(
            self.new, os.path.join(self.tmp, 'nope.rrd'))
        self.assertEqual(2, code)
        self.assertOneLineError(err, 'OLD ')
        self.assertIn('nope.rrd: no such file', err)

    def test_not_an_rrd_is_one_line_exit_2(self):
        junk = os.path.join(self.tmp, 'junk.rrd')
        with open(junk, 'wb') as f:
            f.write(b'\x00' * 4096)
        code, _, err = self.run_main(junk, self.old)
        self.assertEqual(2, code)
        self.assertOneLineError(err, 'junk.rrd: not an RRD file')

    def test_directory_without_tree_is_one_line_exit_2(self):
        code, _, err = self.run_main(self.tmp, self.old)
        self.assertEqual(2, code)
        self.assertOneLineError(err, 'use --tree')

    def test_directory_as_out_is_one_line_exit_2(self):
        code, _, err = self.run_main(self.new, self.old, '-o', self.tmp)
        self.assertEqual(2, code)
        self.assertOneLineError(err, 'is a directory; name the file')

    def test_missing_directory_of_out_is_one_line_exit_2(self):
        out = os.path.join(self.tmp, 'nodir', 'out.rrd')
        code, _, err = self.run_main(self.new, self.old, '-o', out)
        self.assertEqual(2, code)
        self.assertOneLineError(err, 'out.rrd: no such directory')
        self.assertNotIn('.tmp', err)

    def test_os_error_is_file_and_reason_without_errno(self):
        error = PermissionError(13, 'Permission denied', '/x/.y.tmp')
        with unittest.mock.patch(
                'gocept.rrdmerge.filemerge.merge', side_effect=error):
            code, _, err = self.run_main(self.new, self.old)
        self.assertEqual(1, code)
        self.assertEqual(
            'rrdmerge: error: /x/.y.tmp: Permission denied\n', err)

    def test_usage_errors_exit_2(self):
        self.assertEqual(2, self.run_main()[0])
        code, _, err = self.run_main(self.new, self.old, '--jobs', '2')
        self.assertEqual(2, code)
        self.assertOneLineError(err, '--jobs needs --tree')

    def test_debug_shows_the_traceback(self):
        with self.assertRaises(gocept.rrdmerge.InputNotFound):
            self.run_main(self.new, 'nope.rrd', '--debug')

    def test_inputs_unchanged_with_out(self):
        digest = gocept.rrdmerge.tests.test_tree.digest
        before = digest(self.new), digest(self.old)
        self.run_main(self.new, self.old, '-o', self.out)
        self.assertEqual(before, (digest(self.new), digest(self.old)))


class TreeCLITests(unittest.TestCase):

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def setUp(self):
        self.tmp = self.layer['rrd_tmpdir']
        self.newdir, self.olddir = gocept.rrdmerge.tests.test_tree.make_trees(
            self.tmp)
        self.outdir = os.path.join(self.tmp, 'out')

    run_main = CLITests.run_main

    def test_tree_merge_exits_0_and_lists_files(self):
        code, out, err = self.run_main(
            '--tree', self.newdir, self.olddir, '-o', self.outdir,
            '--jobs', '2')
        self.assertEqual(0, code, out + err)
        self.assertIn('host3/only-old.rrd: copied from OLD', out)
        self.assertRegex(out, r'host1/load.rrd: merged, filled \d+ cells')
        self.assertIn('4 files: 2 merged', out)
        self.assertEqual('', err)  # no progress bar: not a terminal

    def test_tree_exit_code_is_1_if_a_file_failed(self):
        with open(os.path.join(self.olddir, 'host1/disk.rrd'), 'wb') as f:
            f.write(b'garbage')
        code, out, _ = self.run_main(
            '--tree', self.newdir, self.olddir, '-o', self.outdir)
        self.assertEqual(1, code)
        self.assertIn('host1/disk.rrd: FAILED:', out)
        self.assertTrue(os.path.exists(
            os.path.join(self.outdir, 'host1/load.rrd')))

    def test_file_given_for_a_directory_is_one_line_exit_2(self):
        rrd = os.path.join(self.olddir, 'host1/load.rrd')
        code, _, err = self.run_main('--tree', self.newdir, rrd)
        self.assertEqual(2, code)
        CLITests.assertOneLineError(
            self, err, 'is a file, not a directory (leave out --tree')
        code, _, err = self.run_main(
            '--tree', self.newdir, self.olddir, '-o', rrd)
        self.assertEqual(2, code)
        CLITests.assertOneLineError(self, err, f'OUTDIR {rrd}: is a file')

    def test_progress_bar_on_a_terminal(self):
        code, _, err = self.run_main(
            '--tree', self.newdir, self.olddir, '-o', self.outdir,
            stderr=TTY())
        self.assertEqual(0, code)
        self.assertIn('] 4/4 ', err)
        self.assertIn('[' + '#' * 30 + ']', err)

    def test_tree_dry_run_writes_nothing(self):
        code, out, _ = self.run_main(
            '--tree', self.newdir, self.olddir, '-o', self.outdir, '-n')
        self.assertEqual(0, code)
        self.assertRegex(out, r'would fill [1-9]\d* cells')
        self.assertFalse(os.path.exists(self.outdir))


class ScriptTests(unittest.TestCase):
    """The console script: exit codes seen by a shell."""

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def test_progress_bar_on_a_real_terminal(self):
        tmp = self.layer['rrd_tmpdir']
        newdir, olddir = gocept.rrdmerge.tests.test_tree.make_trees(tmp)
        controller, terminal = pty.openpty()
        try:
            child = subprocess.Popen(
                SCRIPT + ['--tree', newdir, olddir,
                          '-o', os.path.join(tmp, 'out'), '--quiet'],
                stdout=subprocess.PIPE, stderr=terminal,
                env=script_environment())
            os.close(terminal)
            terminal = None
            seen = b''
            while True:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            stdout, _ = child.communicate(timeout=60)
        finally:
            os.close(controller)
            if terminal is not None:
                os.close(terminal)
        self.assertEqual(0, child.returncode)
        self.assertIn(b'] 4/4 ', seen)
        self.assertIn(b'4 files: 2 merged', stdout)

    def run_script(self, *args, stdout=subprocess.PIPE):
        return subprocess.run(
            SCRIPT + list(args), stdout=stdout, stderr=subprocess.PIPE,
            text=True, env=script_environment(), timeout=60)

    def test_exit_code_0_after_a_merge(self):
        tmp = self.layer['rrd_tmpdir']
        new, old = gocept.rrdmerge.testing.pnp_pair(tmp)
        result = self.run_script(new, old, '-q')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertRegex(result.stdout, r'filled [1-9]\d* cells')

    def test_reader_gone_is_quiet_exit_141(self):
        # `rrdmerge --json ... | head`: head exits before reading it all.
        tmp = self.layer['rrd_tmpdir']
        new, old = gocept.rrdmerge.testing.pnp_pair(tmp)
        out = os.path.join(tmp, 'out.rrd')
        reader, writer = os.pipe()
        os.close(reader)  # every write to the pipe fails now
        try:
            result = self.run_script(
                new, old, '-o', out, '--json', stdout=writer)
        finally:
            os.close(writer)
        self.assertEqual('', result.stderr)
        self.assertEqual(141, result.returncode)
        self.assertEqual(gocept.rrdmerge.testing.ideal_merge(new, old),
                         gocept.rrdmerge.testing.cells(out))

    def test_exit_code_2_and_one_line_for_a_missing_file(self):
        result = self.run_script('/nonexistent/new.rrd', '/nonexistent/old')
        self.assertEqual(2, result.returncode)
        self.assertEqual(
            'rrdmerge: error: NEW /nonexistent/new.rrd: no such file\n',
            result.stderr)


class ExitCodeTests(unittest.TestCase):
    """README's exit codes, one test each (issue 12, items 2 to 5)."""

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def setUp(self):
        self.tmp = self.layer['rrd_tmpdir']
        self.new, self.old = gocept.rrdmerge.testing.pnp_pair(self.tmp)
        self.out = os.path.join(self.tmp, 'out.rrd')

    run_main = CLITests.run_main
    assertOneLineError = CLITests.assertOneLineError

    def test_0_after_a_merge(self):
        self.assertEqual(0, self.run_main(self.new, self.old)[0])

    def test_1_when_a_merge_fails(self):
        error = gocept.rrdmerge.TargetBusy('new.rrd: locked')
        with unittest.mock.patch(
                'gocept.rrdmerge.filemerge.merge', side_effect=error):
            code, _, err = self.run_main(self.new, self.old)
        self.assertEqual(1, code)
        self.assertOneLineError(err, 'new.rrd: locked')

    def test_2_for_old_as_output(self):
        digest = gocept.rrdmerge.tests.test_tree.digest(self.old)
        code, _, err = self.run_main(self.new, self.old, '-o', self.old)
        self.assertEqual(2, code)
        self.assertOneLineError(err, 'old.rrd is OLD: refusing to overwrite')
        self.assertEqual(digest, gocept.rrdmerge.tests.test_tree.digest(
            self.old))

    def test_2_for_new_the_same_as_old(self):
        code, _, err = self.run_main(self.old, self.old)
        self.assertEqual(2, code)
        self.assertOneLineError(err, 'are the same file')

    def test_2_for_an_olddir_given_twice(self):
        newdir = os.path.join(self.tmp, 'newdir')
        os.mkdir(newdir)
        code, _, err = self.run_main(
            '--tree', newdir, self.tmp, self.tmp + '/')
        self.assertEqual(2, code)
        self.assertOneLineError(err, 'name each backup once')

    def test_2_for_olddir_as_outdir(self):
        newdir, olddir = (os.path.join(self.tmp, 'a'),
                          os.path.join(self.tmp, 'b'))
        os.mkdir(newdir)
        os.mkdir(olddir)
        code, _, err = self.run_main('--tree', newdir, olddir, '-o', olddir)
        self.assertEqual(2, code)
        self.assertOneLineError(err, 'is OLD: refusing to overwrite')

    def test_2_for_a_file_of_another_architecture_naming_it(self):
        foreign = os.path.join(self.tmp, 'arm.rrd')
        gocept.rrdmerge.tests.test_rrdfile.big_endian_copy(self.old, foreign)
        code, _, err = self.run_main(self.new, foreign)
        self.assertEqual(2, code)
        self.assertOneLineError(
            err, f'{foreign}: written on another architecture (a big-endian')
        self.assertIn('`rrdtool dump FILE > FILE.xml` on the machine', err)

    def test_2_for_a_usage_error(self):
        code, _, err = self.run_main('--jobs', '0', '--tree', 'a', 'b')
        self.assertEqual(2, code)
        self.assertOneLineError(err, '--jobs must be at least 1')

    def test_swapped_arguments_are_warned_about(self):
        # The backup given as NEW: next to nothing to fill; say why.
        code, out, err = self.run_main(self.old, self.new, '-o', self.out)
        self.assertEqual(0, code)
        self.assertIn('are NEW and OLD swapped?', out)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertRegex(
            err, r'^rrdmerge: warning: NEW was last updated at \d+, before'
            r' OLD at \d+: are NEW and OLD swapped\?')
        code, out, err = self.run_main(
            self.old, self.new, '-o', self.out, '--json')
        data = json.loads(out)
        self.assertTrue(data['looks_swapped'])
        self.assertIn('are NEW and OLD swapped?', data['warnings'][0])
        code, out, err = self.run_main(self.new, self.old, '--json')
        self.assertEqual('', err)
        self.assertFalse(json.loads(out)['looks_swapped'])

    def test_swapped_trees_are_warned_about(self):
        newdir, olddir = gocept.rrdmerge.tests.test_tree.make_trees(self.tmp)
        code, out, err = self.run_main(
            '--tree', olddir, newdir, '-n', '--quiet')
        self.assertEqual(0, code)
        self.assertIn('2 files of NEWDIR were last updated before their'
                      ' OLD (e.g. host1/disk.rrd): are NEWDIR and OLDDIR'
                      ' swapped?', err)

    def test_tree_dry_run_says_would_copy(self):
        newdir, olddir = gocept.rrdmerge.tests.test_tree.make_trees(self.tmp)
        code, out, _ = self.run_main('--tree', newdir, olddir, '-n')
        self.assertEqual(0, code)
        self.assertIn('host3/only-old.rrd: would copy from OLD\n', out)
        self.assertRegex(out, r'host1/load.rrd: would merge, would fill'
                              r' [1-9]\d* cells')
        self.assertIn('1 would copy from OLD', out)
        self.assertNotIn('copied', out)
        code, out, _ = self.run_main('--tree', newdir, olddir)
        self.assertIn('host3/only-old.rrd: copied from OLD\n', out)


class HelpTests(unittest.TestCase):
    """Issue 16, item 6: --version, help for everything, one example."""

    def run_main(self, *argv):
        stdout = io.StringIO()
        with unittest.mock.patch('sys.stdout', stdout):
            code = gocept.rrdmerge.cli.main(list(argv), stdout, io.StringIO())
        return code, stdout.getvalue()

    def test_version_is_the_distributions(self):
        code, out = self.run_main('--version')
        self.assertEqual(0, code)
        self.assertEqual(
            'rrdmerge ' + importlib.metadata.version('gocept.layerkit'),
            out.strip())

    def test_every_option_and_positional_has_help(self):
        for action in gocept.rrdmerge.cli.parser()._actions:
            self.assertTrue(action.help, action.dest)

    def test_help_ends_with_one_example(self):
        code, out = self.run_main('--help')
        self.assertEqual(0, code)
        last = out.rstrip('\n').splitlines()[-1]
        self.assertEqual(gocept.rrdmerge.cli.EXAMPLE, last)
        self.assertEqual(1, out.count('example:'))
