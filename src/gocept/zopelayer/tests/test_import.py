"""Without the extra `zope`, importing gocept.zopelayer names the extra."""
import os
import subprocess
import sys
import unittest


class ImportTest(unittest.TestCase):

    def test_missing_zope_names_the_extra(self):
        code = ("import sys; sys.modules['Zope2'] = None\n"
                "import gocept.zopelayer\n")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        result = subprocess.run([sys.executable, '-c', code], env=env,
                                capture_output=True, text=True, timeout=120)
        self.assertNotEqual(0, result.returncode)
        self.assertIn(
            'ImportError: gocept.zopelayer needs the extra "zope":'
            ' pip install "gocept.layerkit[zope]"', result.stderr)
