"""zope.testbrowser bound to a layer's app (imported on first use)."""
import urllib.parse

import zope.testbrowser.browser


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


def new_browser(app, host, url=None):
    """A fresh `zope.testbrowser.browser.Browser` (no cookies) for `app`."""
    browser = zope.testbrowser.browser.Browser(wsgi_app=app)
    browser.testapp = TestbrowserApp(app, host)
    if url is not None:
        browser.open(url)
    return browser
