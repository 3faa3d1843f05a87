"""Zope layers on each ZODB layer, as a Zope project would write them."""
import gocept.wsgilayer
import gocept.zodblayer
import gocept.zopelayer
import gocept.zopelayer.tests


class TestZopeLayer(gocept.zopelayer.ZopeLayer):
    """Zope with a view from ZCML and a folder made in setUpZope."""

    zcml = ((gocept.zopelayer.tests, 'hello.zcml'),)

    def setUpZope(self, app):
        app.manage_addFolder('shop', title='The shop')


def zope_on(zodb, name):
    return TestZopeLayer(bases=(zodb,), name=f'zopelayer:{name}:Zope',
                         module=__name__)


FILESTORAGE = gocept.zodblayer.FileStorageLayer(
    name='zopelayer:FileStorage', module=__name__, isolation='copy')
ZOPE = zope_on(FILESTORAGE, 'FileStorage')

FILESTORAGE_DEMO = gocept.zodblayer.FileStorageLayer(
    name='zopelayer:FileStorage:demo', module=__name__, isolation='demo')
ZOPE_DEMO = zope_on(FILESTORAGE_DEMO, 'FileStorage:demo')

ZEO = gocept.zodblayer.ZEOLayer(
    name='zopelayer:ZEO', module=__name__, isolation='copy')
ZOPE_ZEO = zope_on(ZEO, 'ZEO')

ZEO_DEMO = gocept.zodblayer.ZEOLayer(
    name='zopelayer:ZEO:demo', module=__name__, isolation='demo')
ZOPE_ZEO_DEMO = zope_on(ZEO_DEMO, 'ZEO:demo')

RELSTORAGE = gocept.zodblayer.RelStorageLayer(
    name='zopelayer:RelStorage', module=__name__, isolation='copy')
ZOPE_RELSTORAGE = zope_on(RELSTORAGE, 'RelStorage')

RELSTORAGE_DEMO = gocept.zodblayer.RelStorageLayer(
    name='zopelayer:RelStorage:demo', module=__name__, isolation='demo')
ZOPE_RELSTORAGE_DEMO = zope_on(RELSTORAGE_DEMO, 'RelStorage:demo')

SERVER = gocept.wsgilayer.WSGIServerLayer(
    bases=(ZOPE,), name='zopelayer:FileStorage:Server', module=__name__)

# For tests that set up and tear down Zope layers themselves.
PLAIN_FILESTORAGE = gocept.zodblayer.FileStorageLayer(
    name='zopelayer:FileStorage:plain', module=__name__)
