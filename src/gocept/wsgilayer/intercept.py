"""Route plain-HTTP `http.client`, `urllib.request` and `requests` calls
for a registered host to a WSGI app, in-process.

wsgi_intercept provides the fake socket that collects the request; the
request handler of `WSGIServerLayer` answers it (see `_FakeSocket`), so the
app sees the same environ on both routes. wsgi_intercept's own install
functions are not used: they also replace the HTTPS connection classes,
which breaks every https request while they are installed (urllib3 and
urllib pass arguments its classes do not take). Here only the plain-HTTP
connection classes are replaced, by subclasses that fall back to the
original `connect` for any other host. `urllib.request` is covered by the
`http.client` patch: its HTTP handler looks the class up on each request.

The patch is process-wide, so several layers share it: it is installed
with the first host and removed with the last.

A proxy named in the environment (``http_proxy``) would otherwise get the
requests for an intercepted host: the connection would go to the proxy,
not to the host. So intercepted hosts are added to ``no_proxy`` (and
``NO_PROXY``), which requests and urllib read on every request.
"""
import http.client
import io
import os
import threading

import wsgi_intercept

import gocept.wsgilayer.handler


PORT = 80
_lock = threading.Lock()
_apps = {}  # (host, port) -> WSGI app
_originals = {}  # what install() replaced, to put it back
NO_PROXY_VARIABLES = ('no_proxy', 'NO_PROXY')


class _FakeSocket(wsgi_intercept.wsgi_fake_socket):
    """wsgi_intercept's socket, answered by our request handler.

    wsgi_intercept collects what the client sends; `makefile` (called when
    the client reads the response) hands those bytes to the handler the
    loopback server uses, instead of wsgi_intercept's `make_environ` and
    response writer, so the app sees the same PEP 3333 environ on every
    route (a de-chunked body, `SERVER_PORT` a str, `QUERY_STRING` always,
    a clean `SERVER_PROTOCOL`, repeated fields joined) and its body
    iterable is guarded and closed the same way.
    """

    def makefile(self, *args, **kw):
        return io.BytesIO(gocept.wsgilayer.handler.respond_in_process(
            self.app, self.inp.getvalue(), self.host, self.port or PORT))

    def settimeout(self, timeout):
        """The app answers in-process; there is nothing to time out."""


def _app_for(host, port):
    return _apps.get((host, int(port or PORT)))


class _HTTPConnection(http.client.HTTPConnection):
    """http.client's connection, in-process for intercepted hosts."""

    def connect(self):
        app = _app_for(self.host, self.port)
        if app is None:
            return super().connect()
        self.sock = _FakeSocket(app, self.host, self.port, '')


def _urllib3_connection_class():
    try:
        import urllib3.connection
    except ImportError:
        return None

    class HTTPConnection(urllib3.connection.HTTPConnection):
        """urllib3's (and so requests') connection, likewise."""

        def connect(self):
            app = _app_for(self.host, self.port)
            if app is None:
                return super().connect()
            self.sock = _FakeSocket(app, self.host, self.port, '')

    return HTTPConnection


def _install():
    _originals['environ'] = {
        name: os.environ.get(name) for name in NO_PROXY_VARIABLES}
    _originals['http.client'] = http.client.HTTPConnection
    http.client.HTTPConnection = _HTTPConnection
    connection_class = _urllib3_connection_class()
    if connection_class is not None:
        import urllib3.connectionpool
        pool = urllib3.connectionpool.HTTPConnectionPool
        _originals['urllib3'] = pool.ConnectionCls
        pool.ConnectionCls = connection_class


def _uninstall():
    for name, value in _originals.pop('environ').items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    http.client.HTTPConnection = _originals.pop('http.client')
    if 'urllib3' in _originals:
        import urllib3.connectionpool
        urllib3.connectionpool.HTTPConnectionPool.ConnectionCls = (
            _originals.pop('urllib3'))


def add(host, app):
    """Send every request for `http://<host>` to `app`, in-process."""
    with _lock:
        if (host, PORT) in _apps:
            raise ValueError(
                f'The host {host!r} is already intercepted: give each layer a'
                ' unique `name`.')
        if not _apps:
            _install()
        _apps[(host, PORT)] = app
        _update_no_proxy()


def remove(host):
    """Stop intercepting `host`; unpatch the libraries when none is left."""
    with _lock:
        _apps.pop((host, PORT), None)
        if not _apps and _originals:
            _uninstall()
        elif _apps:
            _update_no_proxy()


def _update_no_proxy():
    """Let proxies of the environment bypass every intercepted host."""
    hosts = sorted(host for host, _ in _apps)
    for name, original in _originals['environ'].items():
        os.environ[name] = ','.join(([original] if original else []) + hosts)
