import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import unittest
import unittest.mock

import gocept.rrdmerge
import gocept.rrdmerge.atomic
import gocept.rrdmerge.testing
import gocept.rrdmerge.tests.test_tree


# Merges NEW in place and stops itself (SIGSTOP) at a known point, so the
# test can SIGKILL it exactly there.
CHILD = r'''
import os, signal, sys
import gocept.rrdmerge, gocept.rrdmerge.atomic as atomic

point, new, old = sys.argv[1:]

def stop():
    os.kill(os.getpid(), signal.SIGSTOP)

if point == 'writing':
    real_write_bytes = atomic.write_bytes
    def write_bytes(data):
        def writer(fd, path):
            real_write_bytes(data[:len(data) // 2])(fd, path)
            stop()
            real_write_bytes(data[len(data) // 2:])(fd, path)
        return writer
    atomic.write_bytes = write_bytes
elif point == 'before-rename':
    real_replace = os.replace
    def replace(source, target):
        stop()
        real_replace(source, target)
    os.replace = replace
elif point == 'after-rename':
    real_fsync_directory = atomic._fsync_directory
    def fsync_directory(directory):
        stop()
        real_fsync_directory(directory)
    atomic._fsync_directory = fsync_directory
gocept.rrdmerge.merge(new, old)
'''


def digest(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


class KillTests(unittest.TestCase):
    """Rule 4: killed mid-merge, the target is the old or the new file."""

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def setUp(self):
        self.tmp = self.layer['rrd_tmpdir']
        self.new, self.old = gocept.rrdmerge.testing.pnp_pair(self.tmp)
        self.original = digest(self.new)
        merged = os.path.join(self.tmp, 'expected.rrd.ref')
        gocept.rrdmerge.merge(self.new, self.old, merged)
        self.merged = digest(merged)
        os.unlink(merged)

    def kill_at(self, point):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        child = subprocess.Popen(
            [sys.executable, '-c', CHILD, point, self.new, self.old],
            env=env)
        try:
            # Blocks until the child has stopped itself (or ended).
            _, status = os.waitpid(child.pid, os.WUNTRACED)
            self.assertTrue(os.WIFSTOPPED(status), status)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        self.assertEqual(-signal.SIGKILL, child.returncode)

    def temp_files(self):
        return [n for n in os.listdir(self.tmp)
                if gocept.rrdmerge.atomic.is_temp_name(n)]

    def test_killed_while_writing_leaves_new_as_it_was(self):
        self.kill_at('writing')
        self.assertEqual(self.original, digest(self.new))
        self.assertEqual(1, len(self.temp_files()))

    def test_killed_before_rename_leaves_new_as_it_was(self):
        self.kill_at('before-rename')
        self.assertEqual(self.original, digest(self.new))
        self.assertEqual(1, len(self.temp_files()))

    def test_killed_after_rename_leaves_the_merged_file(self):
        self.kill_at('after-rename')
        self.assertEqual(self.merged, digest(self.new))
        self.assertEqual([], self.temp_files())

    def test_next_run_merges_and_tree_mode_removes_the_stale_temp_file(self):
        self.kill_at('writing')
        [stale] = self.temp_files()
        self.assertTrue(stale.startswith('.new.rrd.rrdmerge-'))
        report = gocept.rrdmerge.merge(self.new, self.old)
        self.assertTrue(report.written)
        self.assertEqual(self.merged, digest(self.new))
        empty = tempfile.mkdtemp()
        self.addCleanup(os.rmdir, empty)
        tree = gocept.rrdmerge.merge_tree(self.tmp, empty)
        self.assertEqual([os.path.join(self.tmp, stale)],
                         tree.removed_temp_files)
        self.assertEqual([], self.temp_files())
        # The temp file was never taken for an RRD of the tree.
        self.assertEqual(['new.rrd', 'old.rrd'],
                         [f.path for f in tree.files])

    def test_temp_files_of_running_processes_are_kept(self):
        name = f'.new.rrd.rrdmerge-{os.getpid()}-abc.tmp'
        with open(os.path.join(self.tmp, name), 'wb'):
            pass
        self.assertEqual(
            [], gocept.rrdmerge.atomic.remove_stale(self.tmp))
        self.assertEqual([name], self.temp_files())


class DurabilityTests(unittest.TestCase):
    """The temp file is on disk before it is renamed over the target, the
    rename is on disk before merge() returns (fsync(2) of the file, then
    of its directory, as the ext4 and XFS documentation advise)."""

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def observe(self, call):
        events = []
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(fd):
            events.append(('fsync', os.readlink(f'/proc/self/fd/{fd}')))
            return real_fsync(fd)

        def replace(source, target):
            events.append(('replace', source, target))
            return real_replace(source, target)
        with unittest.mock.patch('os.fsync', fsync), \
                unittest.mock.patch('os.replace', replace):
            call()
        return events

    @unittest.skipUnless(os.path.isdir('/proc/self/fd'), 'needs /proc')
    def test_temp_file_then_directory_are_synced_around_the_rename(self):
        tmp = self.layer['rrd_tmpdir']
        new, old = gocept.rrdmerge.testing.pnp_pair(tmp)
        events = self.observe(lambda: gocept.rrdmerge.merge(new, old))
        [rename] = [e for e in events if e[0] == 'replace']
        _, temp, target = rename
        self.assertEqual(os.path.realpath(new), target)
        position = events.index(rename)
        self.assertIn(('fsync', temp), events[:position])
        self.assertIn(('fsync', os.path.dirname(target)),
                      events[position:])

    @unittest.skipUnless(os.path.isdir('/proc/self/fd'), 'needs /proc')
    def test_tree_syncs_each_file_and_each_directory(self):
        tmp = self.layer['rrd_tmpdir']
        newdir, olddir = gocept.rrdmerge.tests.test_tree.make_trees(tmp)
        events = self.observe(
            lambda: gocept.rrdmerge.merge_tree(newdir, olddir))
        renames = [e for e in events if e[0] == 'replace']
        self.assertEqual(3, len(renames))  # two merged, one copied
        for rename in renames:
            _, temp, target = rename
            self.assertIn(('fsync', temp), events[:events.index(rename)])
        last = max(events.index(rename) for rename in renames)
        synced = {e[1] for e in events[last:] if e[0] == 'fsync'}
        self.assertLessEqual(
            {os.path.realpath(os.path.join(newdir, d))
             for d in ('', 'host1', 'host3')}, synced)
