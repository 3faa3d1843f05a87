"""`--graph DIR`: a real `rrdtool graph` run per merged file (item 7)."""

import os
import struct
import unittest

import gocept.rrdmerge
import gocept.rrdmerge.graph
import gocept.rrdmerge.testing
import gocept.rrdmerge.tests.test_cli
import gocept.rrdmerge.tests.test_tree


def png_size(path):
    """(width, height) of a PNG file; fails unless it is one."""
    with open(path, 'rb') as f:
        head = f.read(24)
    assert head[:8] == b'\x89PNG\r\n\x1a\n', head[:8]
    assert head[12:16] == b'IHDR', head[12:16]
    return struct.unpack('>II', head[16:24])


class GraphTests(unittest.TestCase):

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def setUp(self):
        self.tmp = self.layer['rrd_tmpdir']
        self.new, self.old = gocept.rrdmerge.testing.pnp_pair(self.tmp)
        self.graphs = os.path.join(self.tmp, 'graphs')

    def read(self, path):
        with open(path, 'rb') as f:
            return f.read()

    def test_merge_draws_a_png_named_after_the_file(self):
        report = gocept.rrdmerge.merge(self.new, self.old, graph=self.graphs)
        png = os.path.join(self.graphs, 'new.png')
        self.assertEqual((gocept.rrdmerge.graph.WIDTH,
                          gocept.rrdmerge.graph.HEIGHT), png_size(png))
        self.assertGreater(report.cells_filled, 0)
        self.assertEqual(['new.png'], os.listdir(self.graphs))

    def test_filled_spans_change_the_picture(self):
        gocept.rrdmerge.merge(self.new, self.old, dry_run=True,
                              graph=self.graphs)
        filled = self.read(os.path.join(self.graphs, 'new.png'))
        gocept.rrdmerge.merge(self.new, self.old)
        # Merged already: nothing left to fill, nothing marked.
        again = gocept.rrdmerge.merge(self.new, self.old, graph=self.graphs)
        self.assertEqual(0, again.cells_filled)
        unfilled = self.read(os.path.join(self.graphs, 'new.png'))
        self.assertNotEqual(filled, unfilled)
        self.assertEqual(png_size(os.path.join(self.graphs, 'new.png')),
                         (gocept.rrdmerge.graph.WIDTH,
                          gocept.rrdmerge.graph.HEIGHT))

    def test_arguments_mark_filled_spans_for_each_data_source(self):
        header, _ = gocept.rrdmerge.rrdfile.read(self.new)
        args = gocept.rrdmerge.graph.arguments(
            'x.png', '/a:b/before.rrd', 'after.rrd', header, 'new.png')
        self.assertIn('DEF:b0=/a\\:b/before.rrd:1:AVERAGE', args)
        self.assertIn('CDEF:f2=b2,UN,a2,UN,0,1,IF,0,IF', args)
        self.assertIn('CDEF:filled=f0,f1,MAX,f2,MAX', args)
        self.assertTrue(any(a.startswith('TICK:filled#') for a in args))

    def test_dry_run_draws_but_leaves_the_rrds_alone(self):
        before = gocept.rrdmerge.tests.test_tree.digest(self.new)
        gocept.rrdmerge.merge(self.new, self.old, dry_run=True,
                              graph=self.graphs)
        self.assertTrue(os.path.exists(os.path.join(self.graphs, 'new.png')))
        self.assertEqual(before, gocept.rrdmerge.tests.test_tree.digest(
            self.new))

    def test_text_route_draws_too(self):
        gocept.rrdmerge.merge(self.new, self.old, dry_run=True,
                              graph=self.graphs, method='text')
        self.assertEqual(
            (gocept.rrdmerge.graph.WIDTH, gocept.rrdmerge.graph.HEIGHT),
            png_size(os.path.join(self.graphs, 'new.png')))

    def test_tree_draws_one_png_per_merged_file(self):
        newdir, olddir = gocept.rrdmerge.tests.test_tree.make_trees(
            os.path.join(self.tmp))
        code, out, err = gocept.rrdmerge.tests.test_cli.CLITests.run_main(
            self, '--tree', newdir, olddir, '--graph', self.graphs,
            '--jobs', '2')
        self.assertEqual(0, code, out + err)
        self.assertEqual(['host1'], os.listdir(self.graphs))
        self.assertEqual(['disk.png', 'load.png'], sorted(
            os.listdir(os.path.join(self.graphs, 'host1'))))
        png_size(os.path.join(self.graphs, 'host1', 'load.png'))

    def test_graph_directory_that_is_a_file_is_a_usage_error(self):
        code, _, err = gocept.rrdmerge.tests.test_cli.CLITests.run_main(
            self, self.new, self.old, '--graph', self.old)
        self.assertEqual(2, code)
        self.assertIn('is a file, not a directory', err)
