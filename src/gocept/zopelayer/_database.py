"""Zope's database: whatever `zodbDB` is in the layer right now."""


class CurrentDB:
    """Stand-in for a `ZODB.DB` that forwards to the layer's `zodbDB`.

    Zope keeps the database it started with (`Zope2.DB`, the application
    wrapper, the Control Panel), while the ZODB layers set `zodbDB` anew
    for every test; forwarding keeps their per-test isolation
    (plone.testing.zope's DBFacade does the same).
    """

    def __init__(self, layer):
        self._layer = layer

    def __getattr__(self, name):
        return getattr(self._layer['zodbDB'], name)

    def __repr__(self):
        return f'<CurrentDB of {self._layer!r}>'


def dbtab(db):
    """A `Zope2.Startup.datatypes.DBTab` with `db` as database `main` at /.

    `main` is the name a zope.conf's `<zodb_db main>` gives it, so the
    Control Panel's `Database/main` (and its Undo tab) work as usual.
    """
    import Zope2.Startup.datatypes
    table = Zope2.Startup.datatypes.DBTab({'main': None}, {'/': 'main'})
    table.databases['main'] = db
    return table
