"""Source factories the tests and their ZCML files refer to."""

import gocept.source
import zc.sourcefactory.basic
import zc.sourcefactory.contextual
import zc.sourcefactory.factories
import zc.sourcefactory.source
import zope.interface
import zope.schema.interfaces


class IColorSource(zope.schema.interfaces.IIterableSource):
    """Colors."""


class IShapeSource(zope.schema.interfaces.IIterableSource):
    """Shapes."""


class IContextColorSource(zope.schema.interfaces.IIterableSource):
    """Colors that depend on the context."""


COLORS = ['red', 'green', 'blue']


@gocept.source.implementer(IColorSource)
class ColorSource(zc.sourcefactory.basic.BasicSourceFactory):
    """The basic factory of the docs."""

    def getValues(self):
        return COLORS

    def getTitle(self, value):
        return value.capitalize()


@gocept.source.implementer(IColorSource)
class OtherColorSource(zc.sourcefactory.basic.BasicSourceFactory):
    """A second factory for IColorSource, to provoke conflicts."""

    def getValues(self):
        return ['black', 'white']


@gocept.source.implementer(IColorSource, IShapeSource)
class ColorAndShapeSource(zc.sourcefactory.basic.BasicSourceFactory):
    """Declares two interfaces."""

    def getValues(self):
        return ['red', 'circle']


@gocept.source.implementer(IContextColorSource)
class ContextColorSource(
        zc.sourcefactory.contextual.BasicContextualSourceFactory):
    """Colors listed on the context."""

    def getValues(self, context):
        return context.colors


class UndeclaredColorSource(zc.sourcefactory.basic.BasicSourceFactory):
    """A factory without any declaration."""

    def getValues(self):
        return COLORS


class RecipeColorSource(zc.sourcefactory.basic.BasicSourceFactory):
    """The seed recipe: an inner source_class declaring the interface."""

    @zope.interface.implementer(IColorSource)
    class source_class(zc.sourcefactory.source.FactoredSource):
        """It *must* be called source_class."""

    def getValues(self):
        return COLORS


class NeedsArguments(zc.sourcefactory.basic.BasicSourceFactory):
    """A factory that cannot be called without arguments."""

    def __init__(self, values):
        self.values = values

    def getValues(self):
        return self.values


NeedsArguments = gocept.source.implementer(IColorSource)(NeedsArguments)


class NotAFactory:
    """Has getValues, but is no zc.sourcefactory factory."""

    def getValues(self):
        return COLORS


class BinderFromBasicFactory(zc.sourcefactory.basic.BasicSourceFactory):
    """A basic factory whose __new__ returns a context binder."""

    def __new__(cls):
        factory = object.__new__(cls)
        return zc.sourcefactory.factories.FactoredContextualSourceBinder(
            factory, cls.source_class)


BinderFromBasicFactory = gocept.source.implementer(IColorSource)(
    BinderFromBasicFactory)
