import hashlib
import multiprocessing
import os
import shutil
import stat
import unittest
import unittest.mock

import gocept.rrdmerge
import gocept.rrdmerge.filemerge
import gocept.rrdmerge.testing


def digest(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def snapshot(directory):
    return {os.path.relpath(os.path.join(d, n), directory):
            digest(os.path.join(d, n))
            for d, _, names in os.walk(directory) for n in names}


def make_trees(tmp, pairs=('host1/load.rrd', 'host1/disk.rrd')):
    """NEWDIR and OLDDIR like pnp4nagios' perfdata directories."""
    newdir = os.path.join(tmp, 'new')
    olddir = os.path.join(tmp, 'old')
    scratch = os.path.join(tmp, 'scratch')
    os.mkdir(scratch)
    for seed, rel in enumerate(pairs):
        new, old = gocept.rrdmerge.testing.pnp_pair(scratch, seed=seed)
        for source, root in ((new, newdir), (old, olddir)):
            target = os.path.join(root, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.move(source, target)
    os.makedirs(os.path.join(newdir, 'host2'))
    os.makedirs(os.path.join(olddir, 'host3'))
    shutil.copy(os.path.join(newdir, pairs[0]),
                os.path.join(newdir, 'host2', 'only-new.rrd'))
    shutil.copy(os.path.join(olddir, pairs[0]),
                os.path.join(olddir, 'host3', 'only-old.rrd'))
    # pnp4nagios keeps an XML file beside each RRD: not ours to touch.
    with open(os.path.join(olddir, 'host1', 'load.xml'), 'w') as f:
        f.write('<NAGIOS/>')
    os.rmdir(scratch)
    return newdir, olddir


class TreeTests(unittest.TestCase):
    """Rule 5: tree mode."""

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def setUp(self):
        self.tmp = self.layer['rrd_tmpdir']
        self.newdir, self.olddir = make_trees(self.tmp)
        self.outdir = os.path.join(self.tmp, 'out')

    def ideal(self, rel):
        return gocept.rrdmerge.testing.ideal_merge(
            os.path.join(self.newdir, rel), os.path.join(self.olddir, rel))

    def test_files_are_matched_by_relative_path_and_merged(self):
        ideal = {rel: self.ideal(rel)
                 for rel in ('host1/load.rrd', 'host1/disk.rrd')}
        report = gocept.rrdmerge.merge_tree(
            self.newdir, self.olddir, self.outdir)
        self.assertTrue(report.ok)
        for rel, cells in ideal.items():
            self.assertEqual(cells, gocept.rrdmerge.testing.cells(
                os.path.join(self.outdir, rel)))
        merged = [f for f in report.files if f.action == 'merged']
        self.assertEqual(['host1/disk.rrd', 'host1/load.rrd'],
                         [f.path for f in merged])
        self.assertEqual(sum(f.report.cells_filled for f in merged),
                         report.cells_filled)

    def test_files_only_in_old_are_copied_files_only_in_new_kept(self):
        report = gocept.rrdmerge.merge_tree(
            self.newdir, self.olddir, self.outdir)
        actions = {f.path: f.action for f in report.files}
        self.assertEqual('copied from OLD', actions['host3/only-old.rrd'])
        self.assertEqual('kept', actions['host2/only-new.rrd'])
        self.assertEqual(
            digest(os.path.join(self.olddir, 'host3/only-old.rrd')),
            digest(os.path.join(self.outdir, 'host3/only-old.rrd')))
        self.assertEqual(
            digest(os.path.join(self.newdir, 'host2/only-new.rrd')),
            digest(os.path.join(self.outdir, 'host2/only-new.rrd')))
        self.assertNotIn('host1/load.xml', actions)

    def test_inputs_are_untouched_with_an_output_directory(self):
        before = snapshot(self.newdir), snapshot(self.olddir)
        gocept.rrdmerge.merge_tree(self.newdir, self.olddir, self.outdir)
        self.assertEqual(before,
                         (snapshot(self.newdir), snapshot(self.olddir)))

    def test_without_output_directory_newdir_is_merged_in_place(self):
        ideal = self.ideal('host1/load.rrd')
        old = snapshot(self.olddir)
        report = gocept.rrdmerge.merge_tree(self.newdir, self.olddir)
        self.assertTrue(report.ok)
        self.assertEqual(ideal, gocept.rrdmerge.testing.cells(
            os.path.join(self.newdir, 'host1/load.rrd')))
        self.assertTrue(os.path.exists(
            os.path.join(self.newdir, 'host3/only-old.rrd')))
        self.assertEqual(old, snapshot(self.olddir))

    def test_in_place_copies_keep_the_mode_of_olds_file_and_directory(self):
        os.chmod(os.path.join(self.olddir, 'host3/only-old.rrd'), 0o640)
        os.chmod(os.path.join(self.olddir, 'host3'), 0o2770)
        gocept.rrdmerge.merge_tree(self.newdir, self.olddir)
        self.assertEqual(0o640, stat.S_IMODE(os.stat(os.path.join(
            self.newdir, 'host3/only-old.rrd')).st_mode))
        self.assertEqual(0o2770, stat.S_IMODE(os.stat(os.path.join(
            self.newdir, 'host3')).st_mode))

    @unittest.skipUnless(os.getuid() == 0, 'only root can give files away')
    def test_in_place_copies_keep_the_owner_of_olds_file_and_directory(self):
        # The monitoring server's user must go on writing to them.
        os.chown(os.path.join(self.olddir, 'host3/only-old.rrd'), 65534, 65534)
        os.chown(os.path.join(self.olddir, 'host3'), 65533, 65533)
        gocept.rrdmerge.merge_tree(self.newdir, self.olddir, jobs=2)
        file_st = os.stat(os.path.join(self.newdir, 'host3/only-old.rrd'))
        self.assertEqual((65534, 65534), (file_st.st_uid, file_st.st_gid))
        dir_st = os.stat(os.path.join(self.newdir, 'host3'))
        self.assertEqual((65533, 65533), (dir_st.st_uid, dir_st.st_gid))

    def test_corrupt_file_is_reported_and_the_rest_merged(self):
        broken = os.path.join(self.olddir, 'host1/disk.rrd')
        with open(broken, 'r+b') as f:
            f.truncate(1000)
        with open(os.path.join(self.newdir, 'host2/junk.rrd'), 'w') as f:
            f.write('no RRD')
        ideal = self.ideal('host1/load.rrd')
        report = gocept.rrdmerge.merge_tree(
            self.newdir, self.olddir, self.outdir)
        self.assertFalse(report.ok)
        [broken, junk] = report.failed
        self.assertEqual('host1/disk.rrd', broken.path)
        self.assertIn('truncated', broken.error)
        self.assertIn('host1/disk.rrd: FAILED:', str(report))
        self.assertEqual('host2/junk.rrd', junk.path)
        self.assertIn('not an RRD file', junk.error)
        self.assertEqual(ideal, gocept.rrdmerge.testing.cells(
            os.path.join(self.outdir, 'host1/load.rrd')))
        self.assertFalse(os.path.exists(
            os.path.join(self.outdir, 'host1/disk.rrd')))
        self.assertIn('2 failed', report.summary())

    def test_jobs_merge_in_parallel_processes(self):
        # Every merge waits at the barrier for another process to come:
        # run one after the other (in the parent or in one worker), the
        # first merge times out and fails.
        barrier = multiprocessing.get_context('fork').Barrier(2)
        real_merge = gocept.rrdmerge.filemerge.merge
        pids = os.path.join(self.tmp, 'pids')
        os.mkdir(pids)

        def merge(*args, **kw):
            with open(os.path.join(pids, str(os.getpid())), 'w'):
                pass
            barrier.wait(timeout=60)
            return real_merge(*args, **kw)

        ideal = self.ideal('host1/load.rrd')
        with unittest.mock.patch(
                'gocept.rrdmerge.filemerge.merge', merge):
            report = gocept.rrdmerge.merge_tree(
                self.newdir, self.olddir, self.outdir, jobs=2)
        self.assertTrue(report.ok, str(report))
        self.assertFalse(barrier.broken)
        merged_in = {int(pid) for pid in os.listdir(pids)}
        self.assertEqual(2, len(merged_in))
        self.assertNotIn(os.getpid(), merged_in)
        self.assertEqual(ideal, gocept.rrdmerge.testing.cells(
            os.path.join(self.outdir, 'host1/load.rrd')))

    def test_jobs_give_the_same_result_as_one_job(self):
        one = gocept.rrdmerge.merge_tree(
            self.newdir, self.olddir, os.path.join(self.tmp, 'one'))
        two = gocept.rrdmerge.merge_tree(
            self.newdir, self.olddir, os.path.join(self.tmp, 'two'), jobs=2)
        self.assertEqual([(f.path, f.action) for f in one.files],
                         [(f.path, f.action) for f in two.files])
        self.assertEqual(snapshot(os.path.join(self.tmp, 'one')),
                         snapshot(os.path.join(self.tmp, 'two')))

    def test_dry_run_writes_nothing_and_counts_cells(self):
        before = snapshot(self.tmp)
        dry = gocept.rrdmerge.merge_tree(
            self.newdir, self.olddir, self.outdir, dry_run=True)
        self.assertEqual(before, snapshot(self.tmp))
        self.assertFalse(os.path.exists(self.outdir))
        real = gocept.rrdmerge.merge_tree(
            self.newdir, self.olddir, self.outdir)
        self.assertGreater(dry.cells_filled, 0)
        self.assertEqual(real.cells_filled, dry.cells_filled)
        self.assertIn('would fill', dry.summary())

    def test_progress_is_reported_per_file(self):
        calls = []
        gocept.rrdmerge.merge_tree(
            self.newdir, self.olddir, self.outdir,
            progress=lambda *args: calls.append(args))
        self.assertEqual([1, 2, 3, 4], [done for done, _, _ in calls])
        self.assertEqual({4}, {total for _, total, _ in calls})

    def test_olddir_as_output_is_refused_and_left_alone(self):
        before = snapshot(self.olddir)
        with self.assertRaisesRegex(
                gocept.rrdmerge.Error, 'is OLD: refusing to overwrite'):
            gocept.rrdmerge.merge_tree(
                self.newdir, self.olddir, self.olddir + '/')
        self.assertEqual(before, snapshot(self.olddir))

    def test_missing_directory_raises_input_not_found(self):
        with self.assertRaisesRegex(
                gocept.rrdmerge.InputNotFound, 'OLDDIR .*: no such'):
            gocept.rrdmerge.merge_tree(
                self.newdir, os.path.join(self.tmp, 'nope'))
