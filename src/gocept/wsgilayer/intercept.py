"""Route plain-HTTP `http.client`, `urllib.request` and `requests` calls
for a registered host to a WSGI app, in-process.

wsgi_intercept provides the fake socket that runs the app. Its own install
functions are not used: they also replace the HTTPS connection classes,
which breaks every https request while they are installed (urllib3 and
urllib pass arguments its classes do not take). Here only the plain-HTTP
connection classes are replaced, by subclasses that fall back to the
original `connect` for any other host. `urllib.request` is covered by the
`http.client` patch: its HTTP handler looks the class up on each request.

The patch is process-wide, so several layers share it: it is installed
with the first host and removed with the last.
"""
import http.client
import threading

import wsgi_intercept


PORT = 80
_lock = threading.Lock()
_apps = {}  # (host, port) -> WSGI app
_originals = {}  # what install() replaced, to put it back


class _FakeSocket(wsgi_intercept.wsgi_fake_socket):

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
    _originals['http.client'] = http.client.HTTPConnection
    http.client.HTTPConnection = _HTTPConnection
    connection_class = _urllib3_connection_class()
    if connection_class is not None:
        import urllib3.connectionpool
        pool = urllib3.connectionpool.HTTPConnectionPool
        _originals['urllib3'] = pool.ConnectionCls
        pool.ConnectionCls = connection_class


def _uninstall():
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


def remove(host):
    """Stop intercepting `host`; unpatch the libraries when none is left."""
    with _lock:
        _apps.pop((host, PORT), None)
        if not _apps and _originals:
            _uninstall()


def is_intercepted(host):
    return (host, PORT) in _apps
