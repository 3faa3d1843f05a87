"""Working with the Zope application outside a request (plone.testing names).
"""
import contextlib

import transaction


SITE_OWNER_NAME = 'admin'
SITE_OWNER_PASSWORD = 'secret'


def make_test_request(environ=None):
    """A `ZPublisher.HTTPRequest.HTTPRequest` for views outside a request.

    `environ` (a dict) overrides the defaults `SERVER_NAME='nohost'`,
    `SERVER_PORT='80'`, `REQUEST_METHOD='GET'` (plone.testing's request).
    """
    import io
    import sys

    import zope.publisher.browser
    import ZPublisher.HTTPRequest
    import ZPublisher.HTTPResponse
    environ = dict(environ or {})
    environ.setdefault('SERVER_NAME', 'nohost')
    environ.setdefault('SERVER_PORT', '80')
    environ.setdefault('REQUEST_METHOD', 'GET')
    response = ZPublisher.HTTPResponse.HTTPResponse(stdout=io.BytesIO())
    request = ZPublisher.HTTPRequest.HTTPRequest(
        sys.stdin, environ, response)
    request._steps = ['noobject']  # a published object, as views expect
    request['ACTUAL_URL'] = request.get('URL')
    zope.publisher.browser.setDefaultSkin(request)
    return request


def add_request_container(app, environ=None):
    """`app` wrapped in a request container, so `app.REQUEST` works."""
    import ZPublisher.BaseRequest
    request = make_test_request(environ)
    request['PARENTS'] = [app]
    return app.__of__(ZPublisher.BaseRequest.RequestContainer(REQUEST=request))


@contextlib.contextmanager
def zopeApp(db=None, connection=None, environ=None):
    """Yield the Zope application root with a request container.

    ``with zopeApp() as app: ...`` commits the thread's transaction on a
    clean exit and aborts it when the block raises (the exception is
    re-raised); a failing commit raises too.  By default it opens a
    connection to the database Zope runs on (a ZopeLayer's base layer's
    current `zodbDB`) and closes it afterwards; pass `db` (a `ZODB.DB`) to
    open one there, or an open `connection`, which is left open.
    `environ` (a dict) goes into the request.  Raises RuntimeError when no
    Zope is started (no ZopeLayer set up).
    """
    import Zope2
    if not Zope2._began_startup and connection is None and db is None:
        raise RuntimeError(
            'zopeApp(): Zope is not started; use it in a test or layer'
            ' whose bases include a gocept.zopelayer.ZopeLayer.')
    close = connection is None
    if connection is None:
        connection = (db or Zope2.DB).open()
    try:
        app = add_request_container(
            connection.root()['Application'], environ=environ)
        try:
            yield app
        except BaseException:
            transaction.abort()
            raise
        else:
            transaction.commit()
        finally:
            app.REQUEST.close()
    finally:
        if close:
            transaction.abort()
            connection.close()
