"""Route `requests`, `urllib.request` and `http.client` calls to a WSGI app.

wsgi_intercept patches those libraries process-wide, so several layers share
one installation: the libraries are patched when the first host is added and
restored when the last one is removed.
"""
import importlib
import importlib.util
import threading

import wsgi_intercept


PORT = 80
_lock = threading.Lock()


def _modules():
    """wsgi_intercept's patch modules for the libraries installed here."""
    names = ['http_client_intercept', 'urllib_intercept']
    # requests is optional: intercepting it also covers bare urllib3, which
    # requests uses.
    if importlib.util.find_spec('requests') is not None:
        names.append('requests_intercept')
    return [importlib.import_module(f'wsgi_intercept.{name}')
            for name in names]


def add(host, app):
    """Send every request for `http://<host>` to `app`, in-process."""
    with _lock:
        if (host, PORT) in wsgi_intercept._wsgi_intercept:
            raise ValueError(
                f'The host {host!r} is already intercepted: give each layer a'
                ' unique `name`.')
        for module in _modules():
            try:
                module.install()
            except RuntimeError as e:
                # wsgi_intercept refuses to install while a proxy is
                # configured, since requests would then go to the proxy.
                _uninstall_if_unused()
                raise RuntimeError(
                    f'Cannot intercept requests to {host!r}: {e}') from e
        wsgi_intercept.add_wsgi_intercept(host, PORT, lambda: app)


def remove(host):
    """Stop intercepting `host`; unpatch the libraries when none is left."""
    with _lock:
        wsgi_intercept.remove_wsgi_intercept(host, PORT)
        _uninstall_if_unused()


def is_intercepted(host):
    return (host, PORT) in wsgi_intercept._wsgi_intercept


def _uninstall_if_unused():
    if not wsgi_intercept._wsgi_intercept:
        for module in _modules():
            module.uninstall()
