"""Hostile trees and files: links out of the tree, FIFOs, huge files,
a killed parent (issue 12, items 1 and 8)."""

import hashlib
import os
import signal
import subprocess
import sys
import time
import unittest

import gocept.rrdmerge
import gocept.rrdmerge.testing
import gocept.rrdmerge.tests.test_cli
import gocept.rrdmerge.tests.test_tree


def digest(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


class LinkTests(unittest.TestCase):
    """No write follows a link out of the target tree."""

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def setUp(self):
        self.tmp = self.layer['rrd_tmpdir']
        self.newdir, self.olddir = gocept.rrdmerge.tests.test_tree.make_trees(
            self.tmp)
        # Data moved to another disk: host1 of NEWDIR lives elsewhere.
        self.disk2 = os.path.join(self.tmp, 'disk2')
        os.mkdir(self.disk2)
        os.rename(os.path.join(self.newdir, 'host1'),
                  os.path.join(self.disk2, 'host1'))
        os.symlink(os.path.join(self.disk2, 'host1'),
                   os.path.join(self.newdir, 'host1'))
        self.live = os.path.join(self.disk2, 'host1', 'load.rrd')

    def test_host_directory_linked_out_of_the_tree_is_left_alone(self):
        before = gocept.rrdmerge.tests.test_tree.snapshot(self.disk2)
        old = gocept.rrdmerge.tests.test_tree.snapshot(self.olddir)
        for dry_run in (True, False):
            report = gocept.rrdmerge.merge_tree(
                self.newdir, self.olddir, dry_run=dry_run)
            actions = {f.path: f.action for f in report.files}
            self.assertEqual('left alone', actions['host1/load.rrd'])
            self.assertEqual('left alone', actions['host1/disk.rrd'])
            self.assertFalse(report.ok)
            [result, _] = report.left_alone
            self.assertIn('host1 is a link to ' + self.disk2, result.reason)
            self.assertIn('LEFT ALONE', str(result))
            self.assertIn('2 left alone', report.summary())
        self.assertEqual(before,
                         gocept.rrdmerge.tests.test_tree.snapshot(self.disk2))
        self.assertEqual(old,
                         gocept.rrdmerge.tests.test_tree.snapshot(self.olddir))
        # The rest of the tree is merged as usual.
        self.assertEqual('copied from OLD', actions['host3/only-old.rrd'])

    def test_files_only_old_has_are_not_copied_through_the_link(self):
        os.mkdir(os.path.join(self.olddir, 'host4'))
        elsewhere = os.path.join(self.tmp, 'elsewhere')
        os.mkdir(elsewhere)
        os.symlink(elsewhere, os.path.join(self.newdir, 'host4'))
        os.link(os.path.join(self.olddir, 'host1', 'load.rrd'),
                os.path.join(self.olddir, 'host4', 'new.rrd'))
        os.link(os.path.join(self.olddir, 'host1', 'load.rrd'),
                os.path.join(self.olddir, 'host4', 'deeper.rrd'))
        os.mkdir(os.path.join(self.olddir, 'host4', 'sub'))
        os.link(os.path.join(self.olddir, 'host1', 'load.rrd'),
                os.path.join(self.olddir, 'host4', 'sub', 'x.rrd'))
        report = gocept.rrdmerge.merge_tree(self.newdir, self.olddir)
        actions = {f.path: f.action for f in report.files}
        self.assertEqual('left alone', actions['host4/new.rrd'])
        self.assertEqual('left alone', actions['host4/sub/x.rrd'])
        # Neither files nor directories nor temp files appeared there.
        self.assertEqual([], os.listdir(elsewhere))

    def test_with_an_output_directory_the_file_behind_the_link_is_merged(self):
        ideal = gocept.rrdmerge.testing.ideal_merge(
            self.live, os.path.join(self.olddir, 'host1', 'load.rrd'))
        outdir = os.path.join(self.tmp, 'out')
        report = gocept.rrdmerge.merge_tree(
            self.newdir, self.olddir, outdir)
        self.assertTrue(report.ok, str(report))
        actions = {f.path: f.action for f in report.files}
        self.assertEqual('merged', actions['host1/load.rrd'])
        self.assertEqual(ideal, gocept.rrdmerge.testing.cells(
            os.path.join(outdir, 'host1', 'load.rrd')))
        self.assertFalse(os.path.islink(os.path.join(outdir, 'host1')))

    def test_link_to_a_directory_inside_the_tree_is_merged_through(self):
        os.unlink(os.path.join(self.newdir, 'host1'))
        os.mkdir(os.path.join(self.newdir, 'storage'))
        os.rename(os.path.join(self.disk2, 'host1'),
                  os.path.join(self.newdir, 'storage', 'host1'))
        os.symlink(os.path.join('storage', 'host1'),
                   os.path.join(self.newdir, 'host1'))
        live = os.path.join(self.newdir, 'storage', 'host1', 'load.rrd')
        ideal = gocept.rrdmerge.testing.ideal_merge(
            live, os.path.join(self.olddir, 'host1', 'load.rrd'))
        report = gocept.rrdmerge.merge_tree(self.newdir, self.olddir)
        self.assertTrue(report.ok, str(report))
        actions = {f.path: f.action for f in report.files}
        self.assertEqual('merged', actions['host1/load.rrd'])
        self.assertEqual('kept', actions['storage/host1/load.rrd'])
        self.assertEqual(ideal, gocept.rrdmerge.testing.cells(live))
        self.assertTrue(os.path.islink(os.path.join(self.newdir, 'host1')))

    def test_links_to_directories_no_old_has_are_not_walked(self):
        # A link to / would walk the whole file system.
        os.symlink('/', os.path.join(self.newdir, 'root'))
        os.symlink(self.disk2, os.path.join(self.newdir, 'disk2'))
        report = gocept.rrdmerge.merge_tree(
            self.newdir, self.olddir, dry_run=True)
        self.assertEqual([], [f.path for f in report.files
                              if f.path.startswith(('root/', 'disk2/'))])

    def test_new_file_linked_into_olds_tree_is_refused(self):
        os.unlink(os.path.join(self.newdir, 'host1'))
        os.mkdir(os.path.join(self.newdir, 'host1'))
        backup = os.path.join(self.olddir, 'host1', 'load.rrd')
        os.symlink(backup, os.path.join(self.newdir, 'host1', 'load.rrd'))
        before = gocept.rrdmerge.tests.test_tree.snapshot(self.olddir)
        report = gocept.rrdmerge.merge_tree(self.newdir, self.olddir)
        [failed] = report.failed
        self.assertEqual('host1/load.rrd', failed.path)
        self.assertIn('is a link into OLDDIR', failed.error)
        self.assertEqual(before,
                         gocept.rrdmerge.tests.test_tree.snapshot(self.olddir))

    def test_output_directory_inside_olddir_is_refused(self):
        with self.assertRaisesRegex(gocept.rrdmerge.UsageError,
                                    'lies in OLDDIR'):
            gocept.rrdmerge.merge_tree(
                self.newdir, self.olddir, os.path.join(self.olddir, 'x'))
        self.assertFalse(os.path.exists(os.path.join(self.olddir, 'x')))

    def test_cli_exits_1_and_says_left_alone(self):
        code, out, _ = gocept.rrdmerge.tests.test_cli.CLITests.run_main(
            self, '--tree', self.newdir, self.olddir, '--dry-run')
        self.assertEqual(1, code)
        self.assertIn('host1/load.rrd: LEFT ALONE: ', out)
        self.assertIn('merge it on its own', out)


class HostileFileTests(unittest.TestCase):
    """FIFOs, devices and huge files are checked before they are read."""

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def setUp(self):
        self.tmp = self.layer['rrd_tmpdir']
        self.newdir, self.olddir = gocept.rrdmerge.tests.test_tree.make_trees(
            self.tmp)

    def run_script(self, *args):
        """The command in a child; a hang fails the test, not the run."""
        started = subprocess.Popen(
            gocept.rrdmerge.tests.test_cli.SCRIPT + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=gocept.rrdmerge.tests.test_cli.script_environment())
        try:
            out, err = started.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            started.kill()
            started.communicate()
            self.fail(f'rrdmerge {args} hangs')
        return started.returncode, out, err

    def test_fifo_in_olddir_only_and_in_both_fails_that_file_only(self):
        os.mkfifo(os.path.join(self.olddir, 'host3', 'fifo.rrd'))
        os.mkfifo(os.path.join(self.olddir, 'host1', 'both.rrd'))
        os.mkfifo(os.path.join(self.newdir, 'host1', 'both.rrd'))
        code, out, err = self.run_script('--tree', self.newdir, self.olddir)
        self.assertEqual(1, code, err)
        self.assertIn(
            'host3/fifo.rrd: FAILED: ' + os.path.join(
                self.olddir, 'host3', 'fifo.rrd') + ': is a FIFO (named'
            ' pipe), not an RRD file', out)
        self.assertIn('host1/both.rrd: FAILED: NEW ', out)
        self.assertIn('2 merged', out)

    def test_fifo_as_old_is_one_line_exit_2(self):
        fifo = os.path.join(self.tmp, 'fifo.rrd')
        os.mkfifo(fifo)
        code, _, err = self.run_script(
            os.path.join(self.newdir, 'host1', 'load.rrd'), fifo)
        self.assertEqual(2, code)
        self.assertEqual(f'rrdmerge: error: OLD {fifo}: is a FIFO (named'
                         ' pipe), not an RRD file\n', err)

    def test_character_device_is_refused(self):
        code, _, err = self.run_script(
            '/dev/zero', os.path.join(self.olddir, 'host1', 'load.rrd'),
            '-o', os.path.join(self.tmp, 'out.rrd'))
        self.assertEqual(2, code)
        self.assertIn('/dev/zero: is a character device', err)

    def peak_memory_of(self, *args):
        """Exit code and peak resident size in bytes of the command."""
        child = subprocess.Popen(
            gocept.rrdmerge.tests.test_cli.SCRIPT + list(args),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=gocept.rrdmerge.tests.test_cli.script_environment())
        deadline = time.monotonic() + 300
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                child.kill()
                child.wait()
                self.fail('rrdmerge did not end')
            time.sleep(0.05)
        child.returncode = os.waitstatus_to_exitcode(status)
        return child.returncode, usage.ru_maxrss * 1024

    def test_huge_sparse_files_are_not_read_whole(self):
        gib = 1 << 30
        with open(os.path.join(self.newdir, 'host2', 'zeros.rrd'), 'wb') as f:
            f.truncate(gib)
        with open(os.path.join(self.olddir, 'host3', 'zeros.rrd'), 'wb') as f:
            f.truncate(gib)
        # A real header, and a gigabyte behind what it accounts for.
        grown = os.path.join(self.olddir, 'host1', 'disk.rrd')
        with open(grown, 'r+b') as f:
            f.truncate(gib)
        code, peak = self.peak_memory_of(
            '--tree', self.newdir, self.olddir, '--dry-run', '--text')
        self.assertEqual(1, code)
        # A normal run needs some 30 MB; reading a file whole, 1 GiB.
        self.assertLess(peak, 200 * (1 << 20))
        code, peak = self.peak_memory_of(
            os.path.join(self.newdir, 'host1', 'disk.rrd'), grown,
            '-o', os.path.join(self.tmp, 'out.rrd'))
        self.assertLess(peak, 200 * (1 << 20))


def _children(pid):
    """Pids of the live (not zombie) child processes of `pid`."""
    result = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != 'Z':
            result.append(int(entry))
    return result


def _alive(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


# A tree merge with 2 jobs that stops itself once the first file is done.
KILLED_PARENT = r'''
import os, signal, sys
import gocept.rrdmerge
newdir, olddir, outdir = sys.argv[1:]

def progress(done, total, path):
    if done == 1:
        os.kill(os.getpid(), signal.SIGSTOP)

gocept.rrdmerge.merge_tree(newdir, olddir, outdir, jobs=2,
                           progress=progress)
'''


class KilledParentTests(unittest.TestCase):

    layer = gocept.rrdmerge.testing.RRD_LAYER

    @unittest.skipUnless(os.path.isdir('/proc/self'), 'needs /proc')
    def test_workers_die_with_a_killed_parent(self):
        tmp = self.layer['rrd_tmpdir']
        newdir, olddir = gocept.rrdmerge.tests.test_tree.make_trees(tmp)
        parent = subprocess.Popen(
            [sys.executable, '-c', KILLED_PARENT, newdir, olddir,
             os.path.join(tmp, 'out')],
            env=gocept.rrdmerge.tests.test_cli.script_environment())
        _, status = os.waitpid(parent.pid, os.WUNTRACED)
        self.assertTrue(os.WIFSTOPPED(status), status)
        workers = _children(parent.pid)
        for pid in workers:  # never leak them, even if the test fails
            self.addCleanup(_kill, pid)
        self.assertEqual(2, len(workers))
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 60
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual([], [pid for pid in workers if _alive(pid)])


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
