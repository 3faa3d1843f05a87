"""zope.testrunner layers serving a FakeServer or a directory."""

import http.server
import os
import shutil
import sys
import tempfile
import unittest

import gocept.httplayer.fake
import gocept.httplayer.tls
import plone.testing


class HTTPServerLayer(plone.testing.Layer):
    """Serve a `FakeServer` on a loopback port while the layer is set up.

    Resources: ``http_host``, ``http_port``, ``http_address``, ``http_url``,
    ``http_server`` (the `FakeServer`, reset in every testSetUp) and, with
    ``tls=True``, ``http_ca_pem`` (path of the CA certificate to trust).

    Problems (unmatched or malformed requests, unmet ``times=``, handler
    exceptions, handlers still running at the end of the test) are
    reported against the test that caused them: testSetUp registers a
    cleanup of the running test (``TestCase.addCleanup``; the test is found
    on the call stack, see `running_test()`), or a finalizer of the pytest
    request under zope.pytestlayer, which closes the test's connections and
    calls ``FakeServer.check``. The failure is the test's own, and the rest
    of the run goes on. Only when no running test can be found does the
    next testTearDown (or tearDown) raise it. ``check=False`` turns the
    reporting off.

    `name` is required, as for every layer of this toolkit: it selects the
    layer (``--layer NAME``) and keeps two layers apart.
    """

    host = '127.0.0.1'
    port = 0
    tls = False
    handler = None
    check = True
    no_match_status = 500

    def __init__(self, bases=None, name=None, module=None, host=None,
                 port=None, tls=None, handler=None, check=None,
                 no_match_status=None):
        if not name:
            raise ValueError(
                'The `name` argument is required: give every layer an'
                ' explicit, unique name.')
        if module is None:
            # plone.testing would take the module of this __init__.
            module = _caller_module(self)
        super().__init__(bases=bases, name=name, module=module)
        if host is not None:
            self.host = host
        if port is not None:
            self.port = port
        if tls is not None:
            self.tls = tls
        if handler is not None:
            self.handler = handler
        if check is not None:
            self.check = check
        if no_match_status is not None:
            self.no_match_status = no_match_status
        if not isinstance(self.host, str) or not self.host:
            raise ValueError(
                f'The `host` argument must be a host name or address, got'
                f' {self.host!r}.')
        if (not isinstance(self.port, int) or isinstance(self.port, bool)
                or not 0 <= self.port <= 65535):
            raise ValueError(
                f'The `port` argument must be an int in 0..65535, got'
                f' {self.port!r}.')
        # Here already, so a wrong handler fails at import, not in setUp.
        gocept.httplayer.fake.validate_handler(self.handler)

    def setUp(self):
        self._tempdir = None
        self._server = None
        self._pending_check = False
        try:
            self._set_up()
        except BaseException:
            self._clean_up()
            raise

    def _set_up(self):
        ssl_context = ca_pem = None
        if self.tls:
            self._tempdir = tempfile.mkdtemp(prefix='gocept.httplayer.')
            ssl_context, ca_pem = gocept.httplayer.tls.make_server_context(
                self.host, self._tempdir)
        self._server = gocept.httplayer.fake.FakeServer(
            host=self.host, port=self.port, ssl_context=ssl_context,
            handler=self.make_handler(),
            no_match_status=self.no_match_status)
        self._server.start()
        self._http_resources = dict(self._server.server.resources())
        self._http_resources['http_server'] = self._server
        if ca_pem is not None:
            self._http_resources['http_ca_pem'] = ca_pem
        for name, value in self._http_resources.items():
            self[name] = value

    def make_handler(self):
        """Return the request handler class; None serves the stubs."""
        return self.handler

    def tearDown(self):
        for name in self._http_resources:
            del self[name]
        self._http_resources = {}
        server = self._server
        self._clean_up()
        self._raise_pending(server)

    def _clean_up(self):
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def testSetUp(self):
        self._server.reset()
        if self.check:
            self._pending_check = not report_on_running_test(
                self, self._end_test)

    def _end_test(self, server=None):
        """Close the test's connections, then raise what went wrong.

        Closing first makes a handler still running a problem of the test
        that started it, not of a later one.
        """
        server = server or self._server
        server.server.close_connections()
        server.check()

    def testTearDown(self):
        # zope.testrunner reports threads a test leaves behind; keep-alive
        # connections of clients the test forgot to close would be some.
        self._server.server.close_connections()
        self._raise_pending(self._server)

    def _raise_pending(self, server):
        if self._pending_check and server is not None:
            self._pending_check = False
            self._end_test(server)


def report_on_running_test(layer, check):
    """Make `check` run at the end of the running test, reported by it.

    Return False if there is no running test to report to; the caller
    then checks at the latest point it has.
    """
    test = running_test()
    if test is not None:
        test.addCleanup(check)
        return True
    request = getattr(layer, 'pytest_request', None)
    if request is not None:
        request.addfinalizer(check)
        return True
    return False


def running_test():
    """Return the unittest.TestCase that is running, or None.

    ``unittest.TestCase.run`` is on the call stack wherever a test runs:
    zope.testrunner calls the layers' testSetUp from
    ``TestResult.startTest(test)`` inside it, and a test method, its
    setUp and plain unittest runs are inside it, too.
    """
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is _TEST_RUN:
            test = frame.f_locals.get('self')
            if isinstance(test, unittest.TestCase):
                return test
        frame = frame.f_back
    return None


_TEST_RUN = unittest.TestCase.run.__code__


def _caller_module(layer):
    """Return the module name of the code that made `layer`."""
    frame = sys._getframe(1)
    while frame.f_locals.get('self') is layer:
        frame = frame.f_back
    return frame.f_globals['__name__']


class FileHandler(http.server.SimpleHTTPRequestHandler):
    """Serve the files under `documentroot`, without logging to stderr."""

    protocol_version = 'HTTP/1.1'
    wbufsize = -1  # head and body in one send, as in FakeRequestHandler
    documentroot = None  # set by StaticFilesLayer in a subclass

    def __init__(self, request, client_address, server):
        super().__init__(request, client_address, server,
                         directory=self.documentroot)

    def send_response(self, code, message=None):
        self.connection_header_sent = False
        super().send_response(code, message)

    def send_header(self, keyword, value):
        if keyword.lower() == 'connection':
            self.connection_header_sent = True
        super().send_header(keyword, value)

    def end_headers(self):
        if self.close_connection and not self.connection_header_sent:
            # Tell an HTTP/1.1 client that we close; see FakeRequestHandler.
            self.send_header('Connection', 'close')
        super().end_headers()

    def log_message(self, format, *args):
        pass


class StaticFilesLayer(HTTPServerLayer):
    """Serve the files of a directory on a loopback port.

    Resource ``documentroot``: `documentroot`, or, when None, a fresh temp
    dir that is emptied in every testSetUp and removed in tearDown. Also
    the ``http_*`` resources of `HTTPServerLayer`.
    """

    documentroot = None

    def __init__(self, documentroot=None, bases=None, name=None,
                 module=None, host=None, port=None, tls=None, check=None):
        if documentroot is not None:
            self.documentroot = documentroot
        if self.documentroot is not None and not os.path.isdir(
                self.documentroot):
            raise ValueError(
                f'The `documentroot` argument must be an existing'
                f' directory, got {self.documentroot!r}.')
        super().__init__(bases=bases, name=name, module=module, host=host,
                         port=port, tls=tls, check=check)

    def setUp(self):
        self._own_root = None
        if self.documentroot is None:
            self._own_root = tempfile.mkdtemp(prefix='gocept.httplayer.')
        self['documentroot'] = self.documentroot or self._own_root
        try:
            super().setUp()
        except BaseException:
            self._remove_root()
            raise

    def make_handler(self):
        return type('FileHandler', (FileHandler,), {
            'documentroot': self['documentroot']})

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            self._remove_root()

    def _remove_root(self):
        del self['documentroot']
        if self._own_root is not None:
            shutil.rmtree(self._own_root, ignore_errors=True)
            self._own_root = None

    def testSetUp(self):
        super().testSetUp()
        if self._own_root is not None:
            for name in os.listdir(self._own_root):
                path = os.path.join(self._own_root, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.remove(path)
