import doctest


def test_suite():
    return doctest.DocFileSuite(
        'README.rst', package='gocept.zodblayer',
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
