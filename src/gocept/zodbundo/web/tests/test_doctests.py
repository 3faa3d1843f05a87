import doctest
import os
import shutil
import tempfile

import transaction


def setUp(test):
    directory = tempfile.mkdtemp(prefix='zodbundo-web.')
    test.globs.update(
        directory=directory, path=os.path.join(directory, 'Data.fs'))
    transaction.abort()


def tearDown(test):
    transaction.abort()
    shutil.rmtree(test.globs['directory'])


def test_suite():
    return doctest.DocFileSuite(
        '../web.rst', setUp=setUp, tearDown=tearDown,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
