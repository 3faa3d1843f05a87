"""WSGI applications as zope.testrunner layers, in-process and on a port."""
import importlib.util


def _require_extra():
    """Raise an ImportError naming the extra "wsgi" when it is missing.

    zope.testbrowser and webtest are imported only when a test asks for a
    browser, so they are looked up, not imported.
    """
    for name in ('wsgi_intercept', 'webtest', 'zope.testbrowser'):
        try:
            if importlib.util.find_spec(name) is None:
                raise ModuleNotFoundError(f'No module named {name!r}',
                                          name=name)
        except ModuleNotFoundError as e:
            raise ImportError(
                'gocept.wsgilayer needs the extra "wsgi": pip install'
                ' "gocept.layerkit[wsgi]"', name=name) from e


_require_extra()

from gocept.wsgilayer.layer import WSGILayer  # noqa: E402
from gocept.wsgilayer.server import WSGIServerLayer  # noqa: E402


__all__ = ['WSGILayer', 'WSGIServerLayer']
