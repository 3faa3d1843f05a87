"""A WSGI application as a layer: in-process, reachable by URL."""
import re
import sys

import plone.testing

import gocept.wsgilayer.errors
import gocept.wsgilayer.intercept


class WSGILayer(plone.testing.Layer):
    """Set up a WSGI application once for all tests of the layer.

    Override `make_wsgi_app()` (the zope.testbrowser.wsgi.Layer recipe) or
    pass `app_factory`, a callable that takes the layer and returns the
    application.  Both run in setUp after the bases are set up, so they can
    read base layers' resources, e.g. `self['zodbDB']`.  (A resource a
    base sets anew for each test, like zodbDB, is best read when needed:
    hand the app `lambda: self['zodbDB']`.)

    Resources:

    wsgi_app
        the application, as made by the factory
    wsgi_url
        `http://<slug of the name>.test`: while the layer is set up,
        `requests`, `urllib.request` and `http.client` calls to it reach
        the app in-process (wsgi_intercept), no socket is opened; other
        hosts and https are not affected

    `browser()` and `testapp()` return clients bound to the app.
    """

    app_factory = None

    def __init__(self, bases=(), name=None, module=None, app_factory=None):
        if name is None:
            raise ValueError(
                'The `name` argument is required: it selects the layer'
                ' (`--layer NAME`) and names its fake host.')
        if module is None:
            # plone.testing would take the module of this __init__.
            module = sys._getframe(1).f_globals.get('__name__')
        super().__init__(bases=bases, name=name, module=module)
        if app_factory is not None:
            if not callable(app_factory):
                raise ValueError(
                    'The `app_factory` argument must be a callable taking'
                    f' the layer, got {app_factory!r}.')
            self.app_factory = app_factory
        self.host = _host_for(name)
        self._served_app = None

    def make_wsgi_app(self):
        """Return the WSGI application; override this or pass app_factory."""
        if self.app_factory is None:
            raise NotImplementedError(
                f'{self!r}: pass `app_factory` or override make_wsgi_app().')
        return self.app_factory(self)

    def setUp(self):
        app = self.make_wsgi_app()
        if app is None or not callable(app):
            raise ValueError(
                f'{self!r}: make_wsgi_app() must return a WSGI application,'
                f' got {app!r}.')
        served = gocept.wsgilayer.errors.HandleErrors(app)
        gocept.wsgilayer.intercept.add(self.host, served)
        self._served_app = served
        self['wsgi_app'] = app
        self['wsgi_url'] = f'http://{self.host}'

    def tearDown(self):
        # First stop the interception: it is process-wide state.
        gocept.wsgilayer.intercept.remove(self.host)
        self._served_app = None
        del self['wsgi_app']
        del self['wsgi_url']

    def browser(self, url=None):
        """Return a new zope.testbrowser Browser talking to the app.

        It accepts `http://localhost/...` URLs (zope.testbrowser's rule) and
        `wsgi_url`.  Each call gives a fresh browser without cookies.
        """
        import gocept.wsgilayer.browser
        return gocept.wsgilayer.browser.new_browser(
            self._require_app(), self.host, url)

    def testapp(self, **kw):
        """Return a new `webtest.TestApp` for the app (keywords passed on)."""
        import webtest
        return webtest.TestApp(self._require_app(), **kw)

    def _require_app(self):
        if self._served_app is None:
            raise RuntimeError(f'{self!r} is not set up.')
        return self._served_app


def _host_for(name):
    """A valid DNS name under the reserved `.test` domain for a layer name."""
    slug = re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')[:63]
    return f'{slug or "app"}.test'
