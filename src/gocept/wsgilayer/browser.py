"""zope.testbrowser bound to a layer's app (imported on first use)."""
import io
import urllib.parse

import zope.testbrowser.browser
import zope.testbrowser.wsgi

import gocept.wsgilayer.errors


# Redirects a browser follows with a GET (RFC 9110 15.4.2-4: what browsers
# do for 301 and 302 after a POST), and those that repeat the request's
# method and body (RFC 9110 15.4.8, 15.4.9).
_REDIRECT_AS_GET = frozenset([301, 302, 303])
_REDIRECT_SAME_METHOD = frozenset([307, 308])
_MAX_REDIRECTS = 100


class TestbrowserApp(zope.testbrowser.browser.TestbrowserApp):
    """zope.testbrowser's app that also accepts the layer's fake host."""

    restricted = True

    def __init__(self, app, host):
        super().__init__(app)
        self.layer_host = host

    def _assertAllowed(self, url):
        if urllib.parse.urlsplit(url).hostname == self.layer_host:
            return
        super()._assertAllowed(url)


class Browser(zope.testbrowser.browser.Browser):
    """zope.testbrowser's Browser, closer to a real browser.

    - `addHeader('Authorization', 'Basic user:password')` is encoded, as
      zope.testbrowser's own WSGI layer does in its AuthorizationMiddleware
      (the zope.app.testing convention users write in tests); the header
      then reaches the app base64-encoded as RFC 7617 asks. An already
      encoded value is left alone.
    - 307 and 308 are followed repeating the method and body (RFC 9110
      15.4.8/9); zope.testbrowser follows 307 with a GET and not 308.
    - The `HTTPError` of a `500` the layer made from an app exception
      carries the app's traceback in its message, so the failing test
      shows why.
    """

    def addHeader(self, key, value):
        if key.lower() == 'authorization':
            value = zope.testbrowser.wsgi.auth_header(value)
        super().addHeader(key, value)

    def _processRequest(self, url, make_request):
        with self._preparedRequest(url) as reqargs:
            self._history.add(self._response)
            resp = make_request(reqargs)
            if self.followRedirects:
                resp = self._follow_redirects(url, resp)
            self._setResponse(resp)
            self._checkStatus()

    def _follow_redirects(self, url, resp):
        for _ in range(_MAX_REDIRECTS):
            status = resp.status_int
            if status not in _REDIRECT_AS_GET | _REDIRECT_SAME_METHOD:
                return resp
            self._req_referrer = url
            url = urllib.parse.urljoin(url, resp.headers['location'])
            with self._preparedRequest(url) as reqargs:
                if status in _REDIRECT_AS_GET:
                    resp = self.testapp.get(url, **reqargs)
                else:
                    resp = self._repeat(resp.request, url, reqargs)
        raise AssertionError(
            f'More than {_MAX_REDIRECTS} redirects, the last to {url}:'
            ' the chain looks infinite.')

    def _repeat(self, request, url, reqargs):
        app = self.testapp
        headers = dict(reqargs['headers'])
        if request.content_type:
            headers['Content-Type'] = request.headers['Content-Type']
        body = request.body if request.method not in ('GET', 'HEAD') else b''
        environ = app._make_environ(reqargs['extra_environ'])
        # A plain input stream, as WebTest's own post() sets it: WebOb's
        # `body` setter would mark it seekable, which an app wrapped in a
        # validator's input wrapper is not.
        environ['wsgi.input'] = io.BytesIO(body)
        environ['CONTENT_LENGTH'] = str(len(body))
        repeated = app.RequestClass.blank(
            url, environ, headers=headers, method=request.method)
        return app.do_request(repeated, status=None, expect_errors=True)

    def _checkStatus(self):
        try:
            super()._checkStatus()
        except zope.testbrowser.browser.HTTPError as error:
            traceback = self._response.request.environ.get(
                gocept.wsgilayer.errors.TRACEBACK_KEY)
            if traceback:
                error.msg = (f'{error.msg}; the app raised:\n\n'
                             f'{traceback.rstrip()}')
            raise


def new_browser(app, host, url=None):
    """A fresh `Browser` (no cookies) for `app`."""
    browser = Browser(wsgi_app=app)
    browser.testapp = TestbrowserApp(app, host)
    if url is not None:
        browser.open(url)
    return browser
