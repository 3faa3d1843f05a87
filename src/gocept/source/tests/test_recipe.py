"""Ours against the seed recipe (an inner ``source_class``), side by side.

The recipe of the blog post used ``zope.interface.implements()``, which
zope.interface no longer has; ported, it declares the interface with
``@zope.interface.implementer`` on the inner class.
"""

import unittest

import gocept.source
import gocept.source.tests.layers
import zc.sourcefactory.basic
import zc.sourcefactory.contextual
import zc.sourcefactory.source
import zope.browser.interfaces
import zope.component
import zope.interface
import zope.interface.verify
import zope.publisher.browser
import zope.schema
import zope.schema.interfaces


class IMySource(zope.schema.interfaces.IIterableSource):
    """my source"""


VALUES = ['red', 'green', 3, b'blue']
OUTSIDE = ['pink', 4, b'red', None]


class RecipeSource(zc.sourcefactory.basic.BasicSourceFactory):

    @zope.interface.implementer(IMySource)
    class source_class(zc.sourcefactory.source.FactoredSource):
        """It *must* be called source_class."""

    def getValues(self):
        return VALUES


@gocept.source.implementer(IMySource)
class OurSource(zc.sourcefactory.basic.BasicSourceFactory):

    def getValues(self):
        return VALUES


class RecipeContextualSource(
        zc.sourcefactory.contextual.BasicContextualSourceFactory):

    @zope.interface.implementer(IMySource)
    class source_class(zc.sourcefactory.source.FactoredContextualSource):
        """It *must* be called source_class."""

    def getValues(self, context):
        return context


@gocept.source.implementer(IMySource)
class OurContextualSource(
        zc.sourcefactory.contextual.BasicContextualSourceFactory):

    def getValues(self, context):
        return context


def behaviour(source):
    """Everything a caller can observe of `source`, as comparable data."""
    request = zope.publisher.browser.TestRequest()
    terms = zope.component.getMultiAdapter(
        (source, request), zope.browser.interfaces.ITerms)
    field = zope.schema.Choice(source=source)
    validation = []
    for value in VALUES + OUTSIDE:
        try:
            field.validate(value)
        except zope.schema.interfaces.ValidationError as e:
            validation.append(type(e).__name__)
        else:
            validation.append('ok')
    return dict(
        interfaces=set(zope.interface.providedBy(source).flattened()),
        verified=zope.interface.verify.verifyObject(IMySource, source),
        bases=type(source).__bases__,
        class_name=type(source).__qualname__.split('.')[-1],
        values=list(source),
        length=len(source),
        truth=bool(source),
        contains=[value in source for value in VALUES + OUTSIDE],
        terms=[(terms.getTerm(value).title, terms.getTerm(value).token)
               for value in source],
        values_by_token=[terms.getValue(terms.getTerm(value).token)
                         for value in source],
        validation=validation,
    )


class RecipeEquivalenceTests(unittest.TestCase):

    layer = gocept.source.tests.layers.SOURCE_ZCML

    def test_basic_factory_sources_are_equivalent(self):
        recipe = behaviour(RecipeSource())
        self.assertIn(IMySource, recipe['interfaces'])
        self.assertEqual(recipe, behaviour(OurSource()))

    def test_contextual_factory_sources_are_equivalent(self):
        recipe = behaviour(RecipeContextualSource()(VALUES))
        self.assertIn(IMySource, recipe['interfaces'])
        self.assertEqual(recipe, behaviour(OurContextualSource()(VALUES)))

    def test_recipe_with_wrong_base_class_breaks_only_when_bound(self):
        # Why the decorator picks the base: the recipe's base is easy to get
        # wrong, and nothing complains until a context is bound.
        class Wrong(zc.sourcefactory.contextual.BasicContextualSourceFactory):

            @zope.interface.implementer(IMySource)
            class source_class(zc.sourcefactory.source.FactoredSource):
                pass

            def getValues(self, context):
                return context

        binder = Wrong()
        with self.assertRaises(TypeError):
            binder(VALUES)
        self.assertEqual(VALUES, list(OurContextualSource()(VALUES)))
