import doctest


def load_tests(loader, tests, pattern):
    tests.addTest(doctest.DocFileSuite(
        'layer.rst', 'server.rst', package='gocept.wsgilayer',
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE))
    return tests
