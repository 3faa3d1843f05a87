import gocept.source
import zc.sourcefactory.basic
import zope.schema.interfaces


class ICitySource(zope.schema.interfaces.IIterableSource):
    """The cities the app knows."""


@gocept.source.implementer(ICitySource)
class CitySource(zc.sourcefactory.basic.BasicSourceFactory):

    def getValues(self):
        return ['Berlin', 'Halle']
