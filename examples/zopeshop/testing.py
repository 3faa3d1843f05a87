"""Test layers of zopeshop; import them in your tests.

    ZODB      a FileStorage in a temp dir; each test gets its own copy
              (isolation='copy': the Undo tab and zodb-undo need it)
    ZOPE      Zope with zopeshop installed and a shop folder with one
              article, on ZODB (in-process: zope.testbrowser, WebTest)
    SERVER    the same Zope on a real loopback port, for Chromium
"""
import gocept.wsgilayer
import gocept.zodblayer
import gocept.zopelayer


ZODB = gocept.zodblayer.FileStorageLayer(
    name='Zopeshop:ZODB', module=__name__, isolation='copy')


class ShopLayer(gocept.zopelayer.ZopeLayer):
    """Zope with zopeshop and a shop to sell from."""

    products = ('zopeshop',)

    def setUpZope(self, app):
        # Committed into ZODB's layer database: every test starts here.
        app.manage_addFolder('shop', title='The shop')
        app.shop.manage_addProduct['zopeshop'].manage_addArticle(
            'jug', 'Milk jug', '12.50', 'Enamel, holds one litre.')


ZOPE = ShopLayer(bases=(ZODB,), name='Zopeshop:Zope', module=__name__)

SERVER = gocept.wsgilayer.WSGIServerLayer(
    bases=(ZOPE,), name='Zopeshop:Server', module=__name__)
