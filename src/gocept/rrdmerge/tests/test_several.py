"""Several backups: a cell comes from the first OLD that knows it
(issue 12, item 6), checked against the independent ideal merge."""

import os
import shutil
import unittest

import gocept.rrdmerge
import gocept.rrdmerge.testing
import gocept.rrdmerge.tests.test_cli


STEP = 60
BASE = 1700000000 - 1700000000 % 3600 + 7 * STEP


def rows(first, last, offset, holes=0):
    """Minutes `first` to `last` after BASE; every `holes`th unknown."""
    return [(BASE + minute * STEP,
             (None,) * 3 if holes and minute % holes == 0 else
             (minute + offset, -minute * offset / 7, 0.0 if minute % 11
              else offset))
            for minute in range(first, last)]


def backups(directory):
    """NEW and three OLDs that overlap each other and NEW.

    OLD1 (the latest backup) knows minutes 1500-4000 but lost every
    37th; OLD2 knows 0-3000 with other values, every 53rd lost; OLD3
    knows 0-1000 only, nearly all of which OLD2 knows too. NEW starts at 4200.
    """
    make = gocept.rrdmerge.testing
    paths = [os.path.join(directory, name) for name in
             ('new.rrd', 'old1.rrd', 'old2.rrd', 'old3.rrd')]
    new, old1, old2, old3 = paths
    for path, data in (
            (old1, rows(1500, 4000, 1, holes=37)),
            (old2, rows(1, 3000, 2, holes=53)),
            (old3, rows(1, 1000, 3)),
            (new, rows(4200, 4500, 4, holes=29))):
        make.create(path, data[0][0] - STEP)
        make.update(path, data)
    return paths


class SeveralBackupsTests(unittest.TestCase):

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def setUp(self):
        self.tmp = self.layer['rrd_tmpdir']
        self.new, self.old1, self.old2, self.old3 = backups(self.tmp)
        self.out = os.path.join(self.tmp, 'out.rrd')

    def test_each_cell_comes_from_the_first_backup_that_knows_it(self):
        make = gocept.rrdmerge.testing
        ideal = make.ideal_merge(self.new, self.old1, self.old2, self.old3)
        report = gocept.rrdmerge.merge(
            self.new, [self.old1, self.old2, self.old3], self.out)
        self.assertEqual(ideal, make.cells(self.out))
        one, two, three = report.sources
        self.assertGreater(one.cells_filled, 0)
        self.assertGreater(two.cells_filled, 0)
        # OLD2 knew nearly all OLD3 knows: the LAST of a bucket whose
        # last minute OLD2 lost is all OLD3 adds.
        self.assertLess(three.cells_filled, 10)
        self.assertEqual(report.cells_filled, sum(
            s.cells_filled for s in report.sources))
        before = make.cells(self.new)
        self.assertEqual(report.cells_filled,
                         sum(1 for k in before if before[k] != ideal[k]))

    def test_the_order_of_the_backups_decides(self):
        make = gocept.rrdmerge.testing
        gocept.rrdmerge.merge(self.new, [self.old2, self.old1], self.out)
        self.assertEqual(make.ideal_merge(self.new, self.old2, self.old1),
                         make.cells(self.out))
        self.assertNotEqual(make.ideal_merge(self.new, self.old1, self.old2),
                            make.cells(self.out))

    def test_more_backups_fill_more_than_one(self):
        one = gocept.rrdmerge.merge(self.new, self.old1, dry_run=True)
        two = gocept.rrdmerge.merge(
            self.new, [self.old1, self.old2], dry_run=True)
        self.assertEqual(one.cells_filled, two.sources[0].cells_filled)
        self.assertGreater(two.cells_filled, one.cells_filled)

    def test_report_names_each_backup_and_its_cells(self):
        report = gocept.rrdmerge.merge(
            self.new, [self.old1, self.old2, self.old3], dry_run=True)
        lines = report.lines()
        self.assertRegex(lines[0], r'new.rrd: would fill \d+ cells from 3'
                                   r' backups \(binary\)')
        self.assertEqual(
            f'  OLD 1 {self.old1}: {report.sources[0].cells_filled} cells',
            lines[1])
        self.assertEqual(
            f'  OLD 3 {self.old3}: {report.sources[2].cells_filled} cells',
            lines[3])
        self.assertEqual(report.olds, [self.old1, self.old2, self.old3])

    def test_text_route_fills_the_same_cells(self):
        binary = gocept.rrdmerge.merge(
            self.new, [self.old1, self.old2], self.out)
        text_out = os.path.join(self.tmp, 'text.rrd')
        text = gocept.rrdmerge.merge(
            self.new, [self.old1, self.old2], text_out, method='text')
        self.assertEqual([s.cells_filled for s in binary.sources],
                         [s.cells_filled for s in text.sources])
        unknown = gocept.rrdmerge.rrdfile.is_unknown
        self.assertEqual(
            {k for k, v in gocept.rrdmerge.testing.cells(self.out).items()
             if unknown(v)},
            {k for k, v in gocept.rrdmerge.testing.cells(text_out).items()
             if unknown(v)})

    def test_hard_linked_backups_are_read_once(self):
        # rsnapshot's daily.0 and daily.1 share the files that did not
        # change: the second adds nothing and is not read again.
        link = os.path.join(self.tmp, 'daily.1.rrd')
        os.link(self.old1, link)
        report = gocept.rrdmerge.merge(
            self.new, [self.old1, link, self.old2], self.out)
        self.assertEqual(0, report.sources[1].cells_filled)
        self.assertEqual(
            gocept.rrdmerge.testing.ideal_merge(
                self.new, self.old1, self.old2),
            gocept.rrdmerge.testing.cells(self.out))

    def test_cli_takes_several_olds(self):
        code, out, _ = gocept.rrdmerge.tests.test_cli.CLITests.run_main(
            self, self.new, self.old1, self.old2, '-o', self.out)
        self.assertEqual(0, code)
        self.assertIn('backups (binary)', out)
        self.assertIn(f'OLD 2 {self.old2}: ', out)
        self.assertEqual(
            gocept.rrdmerge.testing.ideal_merge(
                self.new, self.old1, self.old2),
            gocept.rrdmerge.testing.cells(self.out))


class SeveralTreesTests(unittest.TestCase):

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def test_tree_merges_from_several_olddirs(self):
        make = gocept.rrdmerge.testing
        tmp = self.layer['rrd_tmpdir']
        new, old1, old2, old3 = backups(tmp)
        dirs = [os.path.join(tmp, name) for name in ('n', 'o1', 'o2')]
        for directory in dirs:
            os.makedirs(os.path.join(directory, 'h'))
        put = [('n', 'h/both.rrd', new), ('o1', 'h/both.rrd', old1),
               ('o2', 'h/both.rrd', old2),
               ('o1', 'h/olds.rrd', old1), ('o2', 'h/olds.rrd', old2),
               ('o2', 'h/second.rrd', old3)]
        for directory, rel, source in put:
            shutil.copy(source, os.path.join(tmp, directory, rel))
        out = os.path.join(tmp, 'out')
        report = gocept.rrdmerge.merge_tree(dirs[0], dirs[1:], out, jobs=2)
        self.assertTrue(report.ok, str(report))
        files = {f.path: f for f in report.files}
        self.assertEqual('merged', files['h/both.rrd'].action)
        self.assertEqual(make.ideal_merge(new, old1, old2),
                         make.cells(os.path.join(out, 'h/both.rrd')))
        olds = files['h/olds.rrd']
        self.assertEqual(('copied from OLD', 1), (olds.action, olds.source))
        self.assertEqual(make.ideal_merge(old1, old2),
                         make.cells(os.path.join(out, 'h/olds.rrd')))
        self.assertEqual(2, olds.report.sources[0].number)
        self.assertRegex(str(olds), r'^h/olds.rrd: copied from OLD, filled'
                                    r' \d+ cells \(OLD 2: \d+\)$')
        second = files['h/second.rrd']
        self.assertEqual(2, second.source)
        self.assertEqual('h/second.rrd: copied from OLD 2', str(second))
        self.assertEqual(make.cells(old3),
                         make.cells(os.path.join(out, 'h/second.rrd')))
