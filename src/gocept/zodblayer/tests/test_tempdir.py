import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import gocept.zodblayer._tempdir


class StaleTempDirTest(unittest.TestCase):

    def setUp(self):
        self.parent = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.parent)

    def make_dir(self, name, owner=None):
        path = os.path.join(self.parent, name)
        os.mkdir(path)
        if owner is not None:
            with open(os.path.join(path, 'owner.pid'), 'w') as f:
                f.write(f'{owner}\n')
        return path

    def dead_pid(self):
        process = subprocess.Popen([sys.executable, '-c', ''])
        process.wait()
        return process.pid

    def test_dir_of_a_dead_process_is_removed(self):
        stale = self.make_dir('x.stale', owner=self.dead_pid())
        gocept.zodblayer._tempdir.make('x.', self.parent)
        self.assertFalse(os.path.exists(stale))

    def test_dir_of_a_live_process_is_kept(self):
        mine = gocept.zodblayer._tempdir.make('x.', self.parent)
        gocept.zodblayer._tempdir.make('x.', self.parent)
        self.assertTrue(os.path.exists(mine))

    def test_dir_without_owner_is_kept(self):
        # It may be another process's, created a moment ago.
        young = self.make_dir('x.young')
        gocept.zodblayer._tempdir.make('x.', self.parent)
        self.assertTrue(os.path.exists(young))

    def test_dir_with_other_prefix_is_kept(self):
        other = self.make_dir('y.other', owner=self.dead_pid())
        gocept.zodblayer._tempdir.make('x.', self.parent)
        self.assertTrue(os.path.exists(other))
