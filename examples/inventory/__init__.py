"""Inventory: a small Pyramid app keeping stock in the ZODB.

Product names come from an upstream catalog service (a JSON API); the
storage locations from a source registered in ``configure.zcml``.
"""
import zope.configuration.xmlconfig

import inventory.app


def main(global_config, **settings):
    """Paste entry point: ``[app:main] use = egg:inventory``.

    Settings: ``catalog.url`` (base URL of the catalog API),
    ``catalog.timeout`` (seconds, default 2), ``zodb.uri`` (a zodburi URI
    such as ``file:///var/inventory/Data.fs``).
    """
    import zodburi
    import ZODB
    zope.configuration.xmlconfig.file('configure.zcml', package=inventory)
    storage_factory, db_kw = zodburi.resolve_uri(settings['zodb.uri'])
    db = ZODB.DB(storage_factory(), **db_kw)
    return inventory.app.make_app(settings, get_db=lambda: db)
