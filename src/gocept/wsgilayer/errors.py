"""Turn app exceptions into `500` responses unless the client wants them."""
import traceback


def format_exception(error):
    """The full traceback text, with chained exceptions.

    Not `traceback.format_exc()`: zope.testrunner replaces
    `traceback.format_exception` by a formatter that loses chained
    exceptions (the original error behind Pyramid's exception view lookup).
    """
    return ''.join(traceback.TracebackException.from_exception(error).format())


def throw_errors(environ):
    """Does the client want app exceptions raised rather than handled?

    zope.testbrowser sets these keys when `handleErrors` is off and WebTest
    always sets `paste.throw_errors`.
    """
    return bool(environ.get('paste.throw_errors')
                or environ.get('x-wsgiorg.throw_errors'))


TRACEBACK_KEY = 'gocept.wsgilayer.traceback'


class HandleErrors:
    """WSGI middleware answering an exception with `500` and its traceback.

    Guards the call of the app and the iteration over its result alike
    (PEP 3333: the body may be produced lazily), and always calls the
    result's `close()`. The response head is held back until the first
    non-empty body chunk, as a server does, so an exception before it
    still becomes a clean `500`; after it, the exception reaches the
    server, which cuts the response short.

    The traceback also goes to `wsgi.errors` (stderr), like a real server's
    error log, and into the environ as ``gocept.wsgilayer.traceback`` (for
    the browser's HTTPError). With `paste.throw_errors` in the environ the
    exception propagates to the caller instead.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if throw_errors(environ):
            return self.app(environ, start_response)
        call = _Guarded(self.app, environ, start_response)
        if isinstance(call.result, (list, tuple)) and call.pending:
            # Iterating a list cannot fail: the server may see the list
            # (and send it with a Content-Length).
            call.pass_on()
            return call.result
        return call


class _Guarded:
    """The body iterable of one guarded call (see `HandleErrors`)."""

    def __init__(self, app, environ, start_response):
        self.environ = environ
        self.start_response = start_response
        # None: start_response not called yet; (status, headers): called,
        # not passed on to the server yet; (): passed on, the head is out.
        self.pending = None
        self.result = None
        try:
            self.result = app(environ, self._start_response)
        except Exception as error:
            self.iterator = iter(self._error(error))
        else:
            self.iterator = self._iterate()

    def _start_response(self, status, headers, exc_info=None):
        if exc_info is not None and self.pending == ():
            raise exc_info[1].with_traceback(exc_info[2])
        if self.pending is None or exc_info is not None:
            self.pending = (status, headers)
        return self._write

    def pass_on(self):
        if self.pending:
            status, headers = self.pending
            self.pending = ()
            self.write = self.start_response(status, headers)

    def _write(self, data):
        self.pass_on()
        self.write(data)

    def _iterate(self):
        try:
            for chunk in self.result:
                if chunk or self.pending == ():
                    self.pass_on()
                    yield chunk
        except Exception as error:
            if self.pending == ():
                raise  # the head is out: the server cuts the response
            yield from self._error(error)
            return
        self.pass_on()

    def _error(self, error):
        text = format_exception(error)
        self.environ['wsgi.errors'].write(text)
        self.environ[TRACEBACK_KEY] = text
        body = text.encode('utf-8', 'replace')
        self.pending = ()
        self.start_response(
            '500 Internal Server Error',
            [('Content-Type', 'text/plain; charset=utf-8'),
             ('Content-Length', str(len(body)))],
            (type(error), error, error.__traceback__))
        return [body]

    def __iter__(self):
        return self.iterator

    def close(self):
        close = getattr(self.result, 'close', None)
        if close is not None:
            close()
