"""Test layers of the inventory app; import them in your tests.

    ZCML      loads configure.zcml into a sandboxed component registry
    ZODB      a FileStorage in a temp dir; each test sees it fresh
    CATALOG   a fake catalog service (gocept.httplayer) on a loopback port
    APP       the app, built from the three above (in-process)
    SERVER    the app on a real loopback port, for a real browser
"""
import plone.testing.zca

import gocept.httplayer
import gocept.wsgilayer
import gocept.zodblayer
import inventory
import inventory.app


ZCML = plone.testing.zca.ZCMLSandbox(
    filename='configure.zcml', package=inventory,
    name='Inventory:ZCML', module=__name__)

ZODB = gocept.zodblayer.FileStorageLayer(
    name='Inventory:ZODB', module=__name__)

CATALOG = gocept.httplayer.HTTPServerLayer(
    name='Inventory:Catalog', module=__name__)

# Short, so the timeout test is quick; the fake catalog's `delay=` in that
# test is longer.
CATALOG_TIMEOUT = 0.5


class InventoryLayer(gocept.wsgilayer.WSGILayer):
    """The app, with the resources of its base layers."""

    def make_wsgi_app(self):
        settings = {
            'catalog.url': self['http_url'] + '/api',
            'catalog.timeout': CATALOG_TIMEOUT,
        }
        # The ZODB layer gives each test a database of its own (zodbDB
        # changes in testSetUp): the app asks for the current one.
        return inventory.app.make_app(
            settings, get_db=lambda: self['zodbDB'])


APP = InventoryLayer(
    bases=(ZCML, ZODB, CATALOG), name='Inventory:App', module=__name__)

# While SERVER is set up, its http_* resources (the app's address) shadow
# those of CATALOG; the fake catalog stays reachable as `http_server`.
SERVER = gocept.wsgilayer.WSGIServerLayer(
    bases=(APP,), name='Inventory:Server', module=__name__)
