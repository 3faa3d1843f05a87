"""A module whose import fails: it declares an interface that is no source.

The ZCML tests point a directive at it to show the decoration error reaches
the user with the ZCML file and line.
"""

import gocept.source
import zc.sourcefactory.basic
import zope.interface


class IColor(zope.interface.Interface):
    """Not a source interface."""


@gocept.source.implementer(IColor)
class ColorSource(zc.sourcefactory.basic.BasicSourceFactory):

    def getValues(self):
        return ['red']
