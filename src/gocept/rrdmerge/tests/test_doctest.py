import doctest
import shutil
import tempfile

import gocept.rrdmerge.testing


def setUp(test):
    test.globs['tmpdir'] = tempfile.mkdtemp()


def tearDown(test):
    shutil.rmtree(test.globs.pop('tmpdir'))


def test_suite():
    suite = doctest.DocFileSuite(
        '../merge.rst', setUp=setUp, tearDown=tearDown,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    suite.layer = gocept.rrdmerge.testing.RRD_LAYER
    return suite
