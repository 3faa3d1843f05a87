"""Where stock can be kept."""
import zc.sourcefactory.basic
import zope.schema.interfaces

import gocept.source


class ILocationSource(zope.schema.interfaces.IIterableSource):
    """The storage locations of the shop."""


LOCATIONS = {
    'aisle-1': 'Aisle 1',
    'aisle-2': 'Aisle 2',
    'backroom': 'Back room',
}


@gocept.source.implementer(ILocationSource)
class LocationSource(zc.sourcefactory.basic.BasicSourceFactory):

    def getValues(self):
        return list(LOCATIONS)

    def getTitle(self, value):
        return LOCATIONS[value]

    def getToken(self, value):
        # Readable tokens make readable forms and URLs.
        return value
