"""A base layer's WSGI application served on a real loopback port."""
import sys

import plone.testing

import gocept.wsgilayer.errors
import gocept.wsgilayer.handler


class AppStillRunning(AssertionError):
    """The app had not returned a response when its test ended."""


class WSGIServerLayer(plone.testing.Layer):
    """Serve the `wsgi_app` of a base layer on a loopback port.

    For clients outside the process or outside Python's HTTP libraries:
    real browsers (Selenium, Playwright), subprocesses, other languages.
    Uses gocept.httplayer's server core: bound before setUp returns,
    HTTP/1.1 keep-alive, tracked worker threads, a tearDown that closes
    every connection and joins every thread in milliseconds.

    The response is streamed as the app yields it (chunked when the app
    set no Content-Length, RFC 9112 7.1). Connections still open when a
    test ends are closed then, so no server thread outlives the test. An
    app still running a second after its test ended (hung, or streaming
    forever) is cut off and not waited for: the test that started it
    fails with an `AppStillRunning` error naming the request. An app
    exception is answered with `500` and its traceback, which also goes
    to stderr.

    Resources (the same as gocept.httplayer.HTTPServerLayer's):

    http_host, http_port, http_address
        `'127.0.0.1'`, `54321`, `'127.0.0.1:54321'`
    http_url
        `'http://127.0.0.1:54321'`

    If a base layer is an HTTPServerLayer too (a fake upstream of the
    app), these shadow its resources while this layer is set up; its
    FakeServer stays reachable as `http_server`.
    """

    host = '127.0.0.1'
    port = 0

    def __init__(self, bases=None, name=None, module=None, host=None,
                 port=None):
        if not bases:
            raise ValueError(
                'The `bases` argument must name the layer whose `wsgi_app`'
                ' to serve, e.g. bases=(APP,).')
        if name is None:
            raise ValueError('The `name` argument is required.')
        if module is None:
            # plone.testing would take the module of this __init__.
            module = sys._getframe(1).f_globals.get('__name__')
        super().__init__(bases=bases, name=name, module=module)
        if host is not None:
            self.host = host
        if port is not None:
            self.port = port
        self._server = None
        self._resource_names = ()
        self._pending_check = False

    def setUp(self):
        import gocept.httplayer.server
        app = self.get('wsgi_app')
        if app is None:
            raise ValueError(
                f'{self!r}: no base layer provides `wsgi_app`; put a'
                ' WSGILayer into `bases`.')
        server = gocept.httplayer.server.Server(
            gocept.wsgilayer.handler.WSGIRequestHandler,
            host=self.host, port=self.port,
            context=gocept.wsgilayer.errors.HandleErrors(app))
        server.start()
        self._server = server
        resources = server.resources()
        for key, value in resources.items():
            self[key] = value
        self._resource_names = tuple(resources)

    def testSetUp(self):
        import gocept.httplayer.layer
        report = gocept.httplayer.layer.report_on_running_test
        # Without a running test to report to (a layer driven by hand),
        # testTearDown checks: the latest point there is.
        self._pending_check = not report(self, self.check)

    def check(self):
        """End the test's connections; raise if the app still ran.

        Raises `AppStillRunning` naming each request whose app call had
        not returned a second after the test ended.
        """
        server = self._server
        if server is None:
            return
        server.close_connections()
        hung = list(server.hung)
        if hung:
            server.hung.clear()
            raise AppStillRunning(
                'The WSGI app was still running when the test ended: '
                + '; '.join(hung))

    def testTearDown(self):
        # A connection kept alive by the test's client would otherwise
        # outlive the test in its server thread.
        self._server.close_connections()
        if self._pending_check:
            self._pending_check = False
            self.check()

    def tearDown(self):
        server, self._server = self._server, None
        try:
            if server is not None:
                server.stop()
        finally:
            for key in self._resource_names:
                del self[key]
            self._resource_names = ()
