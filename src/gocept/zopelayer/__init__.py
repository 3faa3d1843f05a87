"""A Zope application as a zope.testrunner layer, on the gocept ZODB layers."""
try:
    import Zope2  # noqa: F401
except ModuleNotFoundError as e:
    raise ImportError(
        'gocept.zopelayer needs the extra "zope":'
        ' pip install "gocept.layerkit[zope]"') from e

from gocept.zopelayer.app import SITE_OWNER_NAME
from gocept.zopelayer.app import SITE_OWNER_PASSWORD
from gocept.zopelayer.app import zopeApp
from gocept.zopelayer.layer import ZopeLayer


__all__ = ['SITE_OWNER_NAME', 'SITE_OWNER_PASSWORD', 'ZopeLayer', 'zopeApp']
