import doctest
import unittest

import gocept.source.tests.layers


def test_suite():
    readme = doctest.DocFileSuite(
        'README.rst',
        package='gocept.source',
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    readme.layer = gocept.source.tests.layers.SOURCE_ZCML
    return unittest.TestSuite([readme])
