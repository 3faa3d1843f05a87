import hashlib
import os
import shutil
import stat
import subprocess
import time
import types
import unittest
import unittest.mock

import gocept.rrdmerge
import gocept.rrdmerge.rrdfile
import gocept.rrdmerge.testing
import gocept.rrdmerge.tests.test_rrdfile
import gocept.rrdmerge.verify


def digest(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def unknown(raw):
    return gocept.rrdmerge.rrdfile.is_unknown(raw)


class MergeTests(unittest.TestCase):
    """Rule 1 on a pnp4nagios-like pair: gap edges cut coarse buckets."""

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def setUp(self):
        self.tmp = self.layer['rrd_tmpdir']
        self.new, self.old = gocept.rrdmerge.testing.pnp_pair(self.tmp)
        self.out = os.path.join(self.tmp, 'out.rrd')

    def merged(self):
        self.report = gocept.rrdmerge.merge(self.new, self.old, self.out)
        return gocept.rrdmerge.testing.cells(self.out)

    def test_merged_file_equals_ideal_merge_bit_for_bit(self):
        ideal = gocept.rrdmerge.testing.ideal_merge(self.new, self.old)
        self.assertEqual(ideal, self.merged())
        self.assertGreater(self.report.cells_filled, 1000)

    def test_known_cells_of_new_keep_their_bits_zeros_included(self):
        new = gocept.rrdmerge.testing.cells(self.new)
        merged = self.merged()
        known = {k: v for k, v in new.items() if not unknown(v)}
        zeros = [k for k, v in known.items() if v == bytes(8)]
        self.assertTrue(zeros, 'the fixture must have zero cells')
        self.assertEqual(known, {k: merged[k] for k in known})

    def test_cells_known_in_both_keep_news_bits(self):
        # The old server ran on for an hour after the new one started.
        new = gocept.rrdmerge.testing.cells(self.new)
        old = gocept.rrdmerge.testing.cells(self.old)
        both = [k for k in new if not unknown(new[k])
                and k in old and not unknown(old[k])]
        differ = [k for k in both if new[k] != old[k]]
        self.assertGreater(len(differ), 100, 'the fixture must have them')
        merged = self.merged()
        self.assertEqual([new[k] for k in both], [merged[k] for k in both])

    def test_filled_cells_are_olds_bits_at_the_same_time(self):
        new = gocept.rrdmerge.testing.cells(self.new)
        old = gocept.rrdmerge.testing.cells(self.old)
        merged = self.merged()
        changed = [k for k in new if new[k] != merged[k]]
        self.assertEqual(self.report.cells_filled, len(changed))
        for key in changed:
            self.assertTrue(unknown(new[key]))
            # Both files have the same RRAs in the same order here.
            self.assertEqual(old[key], merged[key])
        zeros_from_old = [k for k in changed if merged[k] == bytes(8)]
        self.assertTrue(zeros_from_old, 'zeros of OLD are data, too')

    def test_no_cell_is_known_that_neither_file_knew(self):
        new = gocept.rrdmerge.testing.cells(self.new)
        old = gocept.rrdmerge.testing.cells(self.old)
        merged = self.merged()
        for key, raw in merged.items():
            if not unknown(raw):
                self.assertTrue(
                    not unknown(new[key])
                    or (key in old and not unknown(old[key])), key)

    def test_every_cf_and_resolution_is_filled(self):
        self.merged()
        for archive in self.report.archives:
            self.assertEqual('merged', archive.status)
            for ds in gocept.rrdmerge.testing.DATA_SOURCES:
                self.assertGreater(archive.filled[ds], 0, str(archive))

    def test_rrdtool_fetch_sees_what_the_raw_reader_sees(self):
        self.merged()
        self.assertEqual([], gocept.rrdmerge.testing.fetch_disagreements(
            self.out, self.layer['rrdtool']))

    def test_merged_file_takes_updates_and_graphs(self):
        self.merged()
        header, _ = gocept.rrdmerge.rrdfile.read(self.out)
        rrdtool = self.layer['rrdtool']
        subprocess.run(
            [rrdtool, 'update', self.out, f'{header.last_up + 60}:1:2:3'],
            check=True)
        updated, _ = gocept.rrdmerge.rrdfile.read(self.out)
        self.assertEqual(header.last_up + 60, updated.last_up)
        png = os.path.join(self.tmp, 'graph.png')
        subprocess.run(
            [rrdtool, 'graph', png, '--start', str(header.last_up - 86400),
             '--end', str(header.last_up), f'DEF:a={self.out}:1:AVERAGE',
             'LINE1:a#ff0000'], check=True, capture_output=True)
        with open(png, 'rb') as f:
            self.assertEqual(b'\x89PNG', f.read(4))

    def test_report_counts_cells_per_rra_and_data_source(self):
        new = gocept.rrdmerge.testing.cells(self.new)
        merged = self.merged()
        header, _ = gocept.rrdmerge.rrdfile.read(self.new)
        for archive in header.archives:
            for ds in header.ds_names:
                changed = sum(1 for (rra, _, name), raw in merged.items()
                              if rra == archive.index and name == ds
                              and raw != new[rra, _, name])
                self.assertEqual(
                    changed, self.report.filled(archive.cf,
                                                archive.pdp_per_row, ds))


class RingTests(unittest.TestCase):
    """Rows are matched by time when the rings differ in size and order."""

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def test_rras_with_other_row_counts_and_order_match_by_time(self):
        make = gocept.rrdmerge.testing
        tmp = self.layer['rrd_tmpdir']
        new = os.path.join(tmp, 'new.rrd')
        old = os.path.join(tmp, 'old.rrd')
        out = os.path.join(tmp, 'out.rrd')
        start = 1700000000 - 1700000000 % 3600 + 7 * 60
        make.create(old, start, data_sources=('b', 'a'), archives=(
            'RRA:MIN:0.5:30:17', 'RRA:LAST:0.5:3:97',
            'RRA:AVERAGE:0.5:1:211', 'RRA:MAX:0.5:7:9'))
        # 1500 minutes: OLD's rings have wrapped around many times. In
        # every ring of both files the newest row is not the last one.
        make.update(old, [(start + 60 * i, (i % 13 - 6.5, i / 7))
                          for i in range(1, 1500)])
        new_start = start + 1513 * 60
        make.create(new, new_start, data_sources=('a', 'b'), archives=(
            'RRA:AVERAGE:0.5:1:353', 'RRA:MAX:0.5:7:23',
            'RRA:LAST:0.5:3:61', 'RRA:MIN:0.5:30:11'))
        make.update(new, [(new_start + 60 * i, (-i, i % 5 or None))
                          for i in range(1, 120)])

        report = gocept.rrdmerge.merge(new, old, out)

        # rrdtool agrees with our reader on every row's time...
        for path in (new, old, out):
            self.assertEqual([], make.fetch_disagreements(path), path)
        # ...and the merge is the ideal one, filled in every RRA.
        self.assertEqual(make.ideal_merge(new, old), make.cells(out))
        for archive in report.archives:
            self.assertGreater(sum(archive.filled.values()), 0, archive)


class SidesTests(unittest.TestCase):
    """Rule 3: what only one side has is reported and left alone."""

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def setUp(self):
        self.tmp = self.layer['rrd_tmpdir']
        self.out = os.path.join(self.tmp, 'out.rrd')

    def pair(self, new_kw={}, old_kw={}):
        make = gocept.rrdmerge.testing
        start = 1700000000 - 1700000000 % 3600
        new = os.path.join(self.tmp, 'new.rrd')
        old = os.path.join(self.tmp, 'old.rrd')
        make.create(old, start, **old_kw)
        step = old_kw.get('step', 60)
        ds = len(old_kw.get('data_sources', make.DATA_SOURCES))
        # Integral values: DERIVE takes integers only.
        make.update(old, [(start + step * i, tuple(i * 7 + j
                                                   for j in range(ds)))
                          for i in range(1, 3000)])
        make.create(new, start + 3200 * 60, **new_kw)
        step = new_kw.get('step', 60)
        ds = len(new_kw.get('data_sources', make.DATA_SOURCES))
        make.update(new, [(start + 3200 * 60 + step * i,
                           tuple(-i - j for j in range(ds)))
                          for i in range(1, 100)])
        return new, old

    def test_rras_only_on_one_side_are_reported_and_left_alone(self):
        make = gocept.rrdmerge.testing
        new, old = self.pair(
            new_kw=dict(archives=make.SMALL_ARCHIVES[:4] + (
                'RRA:AVERAGE:0.5:2:500',)),
            old_kw=dict(archives=make.SMALL_ARCHIVES[:4] + (
                'RRA:MAX:0.5:10:100',)))
        before = make.cells(new)
        report = gocept.rrdmerge.merge(new, old, self.out)
        self.assertEqual([('AVERAGE', 2)], report.archives_only_in_new)
        self.assertEqual([('MAX', 10)], report.archives_only_in_old)
        self.assertIn("RRA 4 AVERAGE 2:500: only in NEW (left alone)",
                      str(report))
        self.assertIn('RRA MAX pdp_per_row=10 only in OLD', str(report))
        after = make.cells(self.out)
        self.assertEqual({k: v for k, v in before.items() if k[0] == 4},
                         {k: v for k, v in after.items() if k[0] == 4})
        self.assertEqual(make.ideal_merge(new, old), after)
        self.assertGreater(report.cells_filled, 0)

    def test_data_sources_only_on_one_side_are_reported_and_left_alone(self):
        make = gocept.rrdmerge.testing
        new, old = self.pair(new_kw=dict(data_sources=('1', '2', 'x')),
                             old_kw=dict(data_sources=('y', '2', '1')))
        before = make.cells(new)
        report = gocept.rrdmerge.merge(new, old, self.out)
        self.assertEqual(['x'], report.data_sources_only_in_new)
        self.assertEqual(['y'], report.data_sources_only_in_old)
        after = make.cells(self.out)
        self.assertEqual({k: v for k, v in before.items() if k[2] == 'x'},
                         {k: v for k, v in after.items() if k[2] == 'x'})
        # Columns are matched by name, not position.
        self.assertEqual(make.ideal_merge(new, old), after)
        self.assertGreater(report.filled('AVERAGE', 1, '1'), 0)
        self.assertEqual(0, report.filled('AVERAGE', 1, 'x'))

    def test_holt_winters_archives_are_skipped_and_left_alone(self):
        archives = ('RRA:AVERAGE:0.5:1:600', 'RRA:HWPREDICT:600:0.1:0.0035:60')
        new, old = self.pair(new_kw=dict(archives=archives),
                             old_kw=dict(archives=archives))
        before = gocept.rrdmerge.testing.cells(new)
        report = gocept.rrdmerge.merge(new, old, self.out)
        statuses = {a.cf: a.status for a in report.archives}
        self.assertEqual('merged', statuses.pop('AVERAGE'))
        self.assertEqual({'HWPREDICT', 'SEASONAL', 'DEVSEASONAL',
                          'DEVPREDICT', 'FAILURES'}, set(statuses))
        self.assertEqual({'skipped'}, set(statuses.values()))
        after = gocept.rrdmerge.testing.cells(self.out)
        self.assertEqual({k: v for k, v in before.items() if k[0] > 0},
                         {k: v for k, v in after.items() if k[0] > 0})
        self.assertGreater(report.cells_filled, 0)

    def test_different_step_is_reported_and_nothing_filled(self):
        new, old = self.pair(old_kw=dict(step=30))
        report = gocept.rrdmerge.merge(new, old, self.out)
        self.assertEqual((60, 30), report.step_mismatch)
        self.assertEqual(0, report.cells_filled)
        self.assertIn('step differs: NEW 60 s, OLD 30 s', str(report))
        self.assertEqual(digest(new), digest(self.out))

    def test_different_data_source_type_is_reported_and_left_alone(self):
        new, old = self.pair(old_kw=dict(ds_type='DERIVE'))
        report = gocept.rrdmerge.merge(new, old, self.out)
        self.assertEqual(('1', 'GAUGE', 'DERIVE'), report.type_mismatches[0])
        self.assertEqual(0, report.cells_filled)


class WritingTests(unittest.TestCase):
    """Rule 4: inputs untouched, atomic replacement, dry runs."""

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def setUp(self):
        self.tmp = self.layer['rrd_tmpdir']
        self.new, self.old = gocept.rrdmerge.testing.pnp_pair(self.tmp)
        self.out = os.path.join(self.tmp, 'out.rrd')

    def test_inputs_are_not_modified_when_out_is_another_file(self):
        before = [(digest(p), os.stat(p).st_mtime_ns)
                  for p in (self.new, self.old)]
        gocept.rrdmerge.merge(self.new, self.old, self.out)
        self.assertEqual(before, [(digest(p), os.stat(p).st_mtime_ns)
                                  for p in (self.new, self.old)])

    def test_without_out_new_is_replaced_keeping_its_mode(self):
        ideal = gocept.rrdmerge.testing.ideal_merge(self.new, self.old)
        os.chmod(self.new, 0o640)
        inode = os.stat(self.new).st_ino
        old_digest = digest(self.old)
        report = gocept.rrdmerge.merge(self.new, self.old)
        self.assertTrue(report.written)
        self.assertEqual(ideal, gocept.rrdmerge.testing.cells(self.new))
        self.assertEqual(0o640, stat.S_IMODE(os.stat(self.new).st_mode))
        # Renamed into place, not rewritten: readers never see a half.
        self.assertNotEqual(inode, os.stat(self.new).st_ino)
        self.assertEqual(old_digest, digest(self.old))
        self.assertEqual(['new.rrd', 'old.rrd'], sorted(os.listdir(self.tmp)))

    @unittest.skipUnless(os.getuid() == 0, 'only root can give files away')
    def test_without_out_new_keeps_its_owner(self):
        os.chown(self.new, 65534, 65534)
        gocept.rrdmerge.merge(self.new, self.old)
        st = os.stat(self.new)
        self.assertEqual((65534, 65534), (st.st_uid, st.st_gid))

    def test_in_place_through_a_symlink_replaces_the_file_it_points_to(self):
        ideal = gocept.rrdmerge.testing.ideal_merge(self.new, self.old)
        link = os.path.join(self.tmp, 'link.rrd')
        os.symlink('new.rrd', link)
        gocept.rrdmerge.merge(link, self.old)
        self.assertTrue(os.path.islink(link))
        self.assertEqual(ideal, gocept.rrdmerge.testing.cells(self.new))

    def test_old_as_out_is_refused_and_left_alone(self):
        before = digest(self.old)
        with self.assertRaisesRegex(
                gocept.rrdmerge.Error, r'old.rrd is OLD: refusing'):
            gocept.rrdmerge.merge(self.new, self.old, self.old)
        self.assertEqual(before, digest(self.old))

    def test_new_and_old_the_same_file_is_refused(self):
        with self.assertRaisesRegex(
                gocept.rrdmerge.Error, 'are the same file'):
            gocept.rrdmerge.merge(self.old, self.old)

    def test_out_gets_the_mode_of_new(self):
        os.chmod(self.new, 0o604)
        gocept.rrdmerge.merge(self.new, self.old, self.out)
        self.assertEqual(0o604, stat.S_IMODE(os.stat(self.out).st_mode))

    def test_dry_run_writes_nothing_and_counts_the_cells(self):
        before = sorted((name, digest(os.path.join(self.tmp, name)))
                        for name in os.listdir(self.tmp))
        dry = gocept.rrdmerge.merge(self.new, self.old, dry_run=True)
        self.assertEqual(before, sorted(
            (name, digest(os.path.join(self.tmp, name)))
            for name in os.listdir(self.tmp)))
        self.assertFalse(dry.written)
        self.assertIn('would fill', str(dry))
        real = gocept.rrdmerge.merge(self.new, self.old, self.out)
        self.assertGreater(dry.cells_filled, 0)
        self.assertEqual(real.cells_filled, dry.cells_filled)

    def test_second_merge_in_place_fills_nothing_and_writes_nothing(self):
        gocept.rrdmerge.merge(self.new, self.old)
        mtime = os.stat(self.new).st_mtime_ns
        again = gocept.rrdmerge.merge(self.new, self.old)
        self.assertEqual(0, again.cells_filled)
        self.assertFalse(again.written)
        self.assertEqual(mtime, os.stat(self.new).st_mtime_ns)

    def lock_new(self):
        """A process that holds a write lock on NEW until its stdin closes.
        """
        holder = subprocess.Popen(
            ['python3', '-c', (
                'import fcntl, sys\n'
                'f = open(sys.argv[1], "r+b")\n'
                'fcntl.lockf(f, fcntl.LOCK_EX)\n'
                'print("locked", flush=True)\n'
                'sys.stdin.read()\n'), self.new],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.wait)
        self.addCleanup(holder.stdout.close)
        self.addCleanup(holder.stdin.close)
        self.assertEqual('locked\n', holder.stdout.readline())
        return holder

    def test_new_locked_by_a_writer_raises_target_busy(self):
        self.lock_new()
        with unittest.mock.patch('gocept.rrdmerge.atomic.LOCK_TIMEOUT', 0):
            with self.assertRaisesRegex(
                    gocept.rrdmerge.TargetBusy, 'locked by another process'):
                gocept.rrdmerge.merge(self.new, self.old)

    def test_text_route_also_raises_target_busy_for_a_locked_new(self):
        self.lock_new()
        before = digest(self.new)
        with unittest.mock.patch('gocept.rrdmerge.atomic.LOCK_TIMEOUT', 0):
            with self.assertRaises(gocept.rrdmerge.TargetBusy):
                gocept.rrdmerge.merge(self.new, self.old, method='text')
        self.assertEqual(before, digest(self.new))

    def test_merge_waits_for_a_writer_that_lets_go(self):
        ideal = gocept.rrdmerge.testing.ideal_merge(self.new, self.old)
        holder = self.lock_new()
        polls = []

        def release(seconds):
            # Called while the merge polls the lock: let it go now.
            polls.append(seconds)
            if len(polls) == 1:
                holder.stdin.close()
                holder.wait(timeout=60)

        clock = types.SimpleNamespace(monotonic=time.monotonic, sleep=release)
        with unittest.mock.patch('gocept.rrdmerge.atomic.LOCK_TIMEOUT', 60):
            with unittest.mock.patch('gocept.rrdmerge.atomic.time', clock):
                report = gocept.rrdmerge.merge(self.new, self.old)
        self.assertEqual(1, len(polls))
        self.assertTrue(report.written)
        self.assertEqual(ideal, gocept.rrdmerge.testing.cells(self.new))

    def test_failed_write_leaves_target_and_no_temp_file(self):
        before = digest(self.new)

        def broken(data):
            def writer(fd, path):
                os.write(fd, bytes(data[:100]))
                raise OSError(28, 'No space left on device')
            return writer
        with unittest.mock.patch(
                'gocept.rrdmerge.atomic.write_bytes', broken):
            with self.assertRaisesRegex(OSError, 'No space left'):
                gocept.rrdmerge.merge(self.new, self.old)
        self.assertEqual(before, digest(self.new))
        self.assertEqual(['new.rrd', 'old.rrd'], sorted(os.listdir(self.tmp)))


class FallbackTests(unittest.TestCase):
    """Where the layout cannot be verified, values go through text."""

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def setUp(self):
        self.tmp = self.layer['rrd_tmpdir']
        self.new, self.old = gocept.rrdmerge.testing.pnp_pair(self.tmp)
        self.legacy = os.path.join(self.tmp, 'legacy.rrd')
        gocept.rrdmerge.tests.test_rrdfile.legacy_copy(
            self.new, self.legacy)
        self.out = os.path.join(self.tmp, 'out.rrd')

    def test_old_format_version_goes_through_dump_and_restore(self):
        report = gocept.rrdmerge.merge(self.legacy, self.old, self.out)
        self.assertEqual('text', report.method)
        self.assertTrue(report.values_went_through_text)
        self.assertIn('values went through text', str(report))
        self.assertIn('version 0001', str(report))
        binary = gocept.rrdmerge.merge(
            self.new, self.old, os.path.join(self.tmp, 'binary.rrd'))
        self.assertEqual(binary.cells_filled, report.cells_filled)
        # Same cells known; values equal to dump's 10 digits.
        ideal = gocept.rrdmerge.testing.ideal_merge(self.new, self.old)
        merged = gocept.rrdmerge.testing.cells(self.out)
        self.assertEqual(ideal.keys(), merged.keys())
        for key, raw in ideal.items():
            self.assertEqual(unknown(raw), unknown(merged[key]), key)
            if not unknown(raw):
                want = gocept.rrdmerge.rrdfile.VALUE.unpack(raw)[0]
                got = gocept.rrdmerge.rrdfile.VALUE.unpack(merged[key])[0]
                self.assertAlmostEqual(want, got, delta=abs(want) * 1e-9)

    def test_disagreement_with_rrdtool_info_goes_through_text(self):
        real_info = gocept.rrdmerge.verify.info

        def info(program, path):
            result = real_info(program, path)
            result['header_size'] = '1'  # as if our layout were wrong
            return result
        with unittest.mock.patch.object(
                gocept.rrdmerge.verify, '_verified_versions', set()), \
                unittest.mock.patch.object(
                    gocept.rrdmerge.verify, 'info', info):
            report = gocept.rrdmerge.merge(self.new, self.old, self.out)
        self.assertEqual('text', report.method)
        self.assertIn('rrdtool info disagrees with the binary reader on'
                      ' header_size', str(report))

    def test_layout_is_checked_once_per_version_unless_always(self):
        calls = []
        real_info = gocept.rrdmerge.verify.info

        def info(program, path):
            calls.append(path)
            return real_info(program, path)
        with unittest.mock.patch.object(
                gocept.rrdmerge.verify, '_verified_versions', set()), \
                unittest.mock.patch.object(
                    gocept.rrdmerge.verify, 'info', info):
            gocept.rrdmerge.merge(self.new, self.old, self.out)
            gocept.rrdmerge.merge(self.new, self.old, self.out)
            self.assertEqual([self.new], calls)
            gocept.rrdmerge.merge(
                self.new, self.old, self.out, verify_always=True)
            self.assertEqual([self.new, self.new, self.old], calls)

    def test_binary_method_refuses_old_format(self):
        with self.assertRaises(gocept.rrdmerge.UnsupportedLayout):
            gocept.rrdmerge.merge(
                self.legacy, self.old, self.out, method='binary')
        self.assertFalse(os.path.exists(self.out))

    def test_text_fallback_dry_run_writes_nothing(self):
        report = gocept.rrdmerge.merge(
            self.legacy, self.old, self.out, dry_run=True)
        self.assertGreater(report.cells_filled, 0)
        self.assertFalse(os.path.exists(self.out))

    def test_text_method_can_be_chosen(self):
        shutil.copy(self.new, self.out)
        report = gocept.rrdmerge.merge(self.out, self.old, method='text')
        self.assertEqual('text', report.method)
        self.assertTrue(report.written)
