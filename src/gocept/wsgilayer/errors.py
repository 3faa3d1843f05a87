"""Turn app exceptions into `500` responses unless the client wants them."""
import sys
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


class HandleErrors:
    """WSGI middleware answering an exception with `500` and its traceback.

    The traceback also goes to `wsgi.errors` (stderr), like a real server's
    error log.  With `paste.throw_errors` in the environ the exception
    propagates to the caller instead.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if throw_errors(environ):
            return self.app(environ, start_response)
        try:
            return self.app(environ, start_response)
        except Exception:
            text = format_exception(sys.exc_info()[1])
            environ['wsgi.errors'].write(text)
            body = text.encode('utf-8', 'replace')
            start_response(
                '500 Internal Server Error',
                [('Content-Type', 'text/plain; charset=utf-8'),
                 ('Content-Length', str(len(body)))],
                sys.exc_info())
            return [body]
