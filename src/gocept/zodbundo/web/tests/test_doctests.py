import doctest

import gocept.zodbundo.tests.test_doctests as tool_doctests


def test_suite():
    # web.rst starts from a fresh Data.fs path, as tool.rst does.
    return doctest.DocFileSuite(
        '../web.rst', setUp=tool_doctests.setUp,
        tearDown=tool_doctests.tearDown,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
