"""zope.testbrowser bound to a layer's app (imported on first use)."""
import urllib.parse

import zope.testbrowser.browser
import zope.testbrowser.wsgi


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
    """zope.testbrowser's Browser that encodes `Basic user:password`.

    zope.testbrowser's own WSGI layer does this in its
    AuthorizationMiddleware (the zope.app.testing convention users write
    in tests); the header then reaches the app base64-encoded as RFC 7617
    asks. An already encoded value is left alone.
    """

    def addHeader(self, key, value):
        if key.lower() == 'authorization':
            value = zope.testbrowser.wsgi.auth_header(value)
        super().addHeader(key, value)


def new_browser(app, host, url=None):
    """A fresh `Browser` (no cookies) for `app`."""
    browser = Browser(wsgi_app=app)
    browser.testapp = TestbrowserApp(app, host)
    if url is not None:
        browser.open(url)
    return browser
