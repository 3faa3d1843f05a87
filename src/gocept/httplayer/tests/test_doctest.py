import doctest

import gocept.httplayer.tests.layers
import plone.testing


def test_suite():
    return plone.testing.layered(
        doctest.DocFileSuite(
            'README.rst', package='gocept.httplayer',
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE),
        layer=gocept.httplayer.tests.layers.HTTP_LAYER)
