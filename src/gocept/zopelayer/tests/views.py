"""A view registered by the test ZCML."""
import Products.Five.browser


class Hello(Products.Five.browser.BrowserView):

    def __call__(self):
        return 'Hello from the layer ZCML'
