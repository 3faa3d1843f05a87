import unittest

import gocept.source
import gocept.source.declaration
import gocept.source.tests.layers
import zc.sourcefactory.basic
import zc.sourcefactory.browser.token
import zc.sourcefactory.interfaces
import zc.sourcefactory.named
import zc.sourcefactory.source
import zope.browser.interfaces
import zope.component
import zope.interface
import zope.interface.verify
import zope.publisher.browser
import zope.schema
import zope.schema.interfaces

from gocept.source.tests.sources import ColorSource
from gocept.source.tests.sources import ContextColorSource
from gocept.source.tests.sources import IColorSource
from gocept.source.tests.sources import IContextColorSource
from gocept.source.tests.sources import IShapeSource


class IPaint(zope.interface.Interface):
    """A schema with choices from our sources."""

    color = zope.schema.Choice(title='Color', source=ColorSource())
    tint = zope.schema.Choice(title='Tint', source=ContextColorSource())
    named = zope.schema.Choice(
        title='Named', source=zc.sourcefactory.named.NamedSource('colors'))


@zope.interface.implementer(IPaint)
class Paint:
    """The context contextual sources are bound to."""

    colors = ['cyan', 'magenta']


def terms(source):
    return zope.component.getMultiAdapter(
        (source, zope.publisher.browser.TestRequest()),
        zope.browser.interfaces.ITerms)


class BasicFactoryTests(unittest.TestCase):

    layer = gocept.source.tests.layers.SOURCE_ZCML

    def test_source_provides_declared_interface(self):
        source = ColorSource()
        self.assertTrue(IColorSource.providedBy(source))
        self.assertTrue(zope.interface.verify.verifyObject(
            IColorSource, source))

    def test_source_keeps_zc_sourcefactory_interface(self):
        self.assertTrue(
            zc.sourcefactory.interfaces.IFactoredSource.providedBy(
                ColorSource()))

    def test_source_class_subclasses_factory_source_class(self):
        self.assertEqual(
            (zc.sourcefactory.source.FactoredSource,),
            ColorSource.source_class.__bases__)

    def test_source_class_is_named_like_the_recipe_inner_class(self):
        self.assertEqual(
            'gocept.source.tests.sources.ColorSource.source_class',
            f'{ColorSource.source_class.__module__}.'
            f'{ColorSource.source_class.__qualname__}')

    def test_values_and_contains_are_the_factory_s(self):
        source = ColorSource()
        self.assertEqual(['red', 'green', 'blue'], list(source))
        self.assertEqual(3, len(source))
        self.assertIn('green', source)
        self.assertNotIn('pink', source)

    def test_titles_and_tokens_are_the_factory_s(self):
        source = ColorSource()
        self.assertEqual('Red', source.factory.getTitle('red'))
        self.assertEqual(
            zc.sourcefactory.browser.token.fromUnicode('red'),
            source.factory.getToken('red'))

    def test_iterms_adapter_renders_terms(self):
        source = ColorSource()
        term = terms(source).getTerm('green')
        self.assertEqual('Green', term.title)
        self.assertEqual('green', terms(source).getValue(term.token))

    def test_choice_field_accepts_values_of_the_source(self):
        IPaint['color'].validate('blue')

    def test_choice_field_rejects_values_outside_the_source(self):
        with self.assertRaises(zope.schema.interfaces.ConstraintNotSatisfied):
            IPaint['color'].validate('pink')

    def test_every_call_creates_a_new_source_providing_interface(self):
        first, second = ColorSource(), ColorSource()
        self.assertIsNot(first, second)
        self.assertTrue(IColorSource.providedBy(second))


class ContextualFactoryTests(unittest.TestCase):

    layer = gocept.source.tests.layers.SOURCE_ZCML

    def test_factory_still_returns_a_context_binder(self):
        self.assertTrue(
            zope.schema.interfaces.IContextSourceBinder.providedBy(
                ContextColorSource()))

    def test_bound_source_provides_declared_interface(self):
        source = ContextColorSource()(Paint())
        self.assertTrue(IContextColorSource.providedBy(source))
        self.assertTrue(zope.interface.verify.verifyObject(
            IContextColorSource, source))
        self.assertTrue(
            zc.sourcefactory.interfaces.IContextualSource.providedBy(source))

    def test_source_class_subclasses_contextual_source_class(self):
        self.assertEqual(
            (zc.sourcefactory.source.FactoredContextualSource,),
            ContextColorSource.source_class.__bases__)

    def test_values_come_from_the_context(self):
        context = Paint()
        source = ContextColorSource()(context)
        self.assertEqual(['cyan', 'magenta'], list(source))
        self.assertIn('cyan', source)
        self.assertNotIn('red', source)
        self.assertIs(context, source.context)

    def test_iterms_adapter_renders_contextual_terms(self):
        source = ContextColorSource()(Paint())
        term = terms(source).getTerm('cyan')
        self.assertEqual('cyan', term.title)
        self.assertEqual('cyan', terms(source).getValue(term.token))

    def test_choice_field_validates_against_bound_source(self):
        field = IPaint['tint'].bind(Paint())
        self.assertTrue(IContextColorSource.providedBy(field.source))
        field.validate('magenta')
        with self.assertRaises(zope.schema.interfaces.ConstraintNotSatisfied):
            field.validate('red')


class NamedFactoryTests(unittest.TestCase):
    """Factories registered for zc.sourcefactory.named.NamedSource."""

    layer = gocept.source.tests.layers.SOURCE_ZCML

    def register(self, factory, name):
        zope.component.provideUtility(
            factory, zc.sourcefactory.interfaces.INamedSource, name)

    def test_named_basic_factory_source_provides_interface(self):
        self.register(ColorSource, 'colors')
        source = zc.sourcefactory.named.NamedSource('colors')(Paint())
        self.assertTrue(IColorSource.providedBy(source))
        self.assertTrue(zope.interface.verify.verifyObject(
            IColorSource, source))
        self.assertEqual(['red', 'green', 'blue'], list(source))

    def test_named_contextual_factory_source_provides_interface(self):
        self.register(ContextColorSource, 'tints')
        source = zc.sourcefactory.named.NamedSource('tints')(Paint())
        self.assertTrue(IContextColorSource.providedBy(source))
        self.assertEqual(['cyan', 'magenta'], list(source))

    def test_choice_field_validates_against_named_source(self):
        self.register(ColorSource, 'colors')
        field = IPaint['named'].bind(Paint())
        self.assertTrue(IColorSource.providedBy(field.source))
        field.validate('red')
        with self.assertRaises(zope.schema.interfaces.ConstraintNotSatisfied):
            field.validate('pink')

    def test_iterms_adapter_renders_named_source_terms(self):
        self.register(ColorSource, 'colors')
        source = zc.sourcefactory.named.NamedSource('colors')(Paint())
        self.assertEqual('Blue', terms(source).getTerm('blue').title)


class IExtendedColorSource(IColorSource):
    """A source interface with a method of its own."""

    def favourite():
        """Return the favourite color."""


class CustomisedSourceClassTests(unittest.TestCase):

    def test_customised_source_class_is_kept_as_base(self):
        class MySourceClass(zc.sourcefactory.source.FactoredSource):
            def favourite(self):
                return 'green'

        @gocept.source.implementer(IExtendedColorSource)
        class Factory(zc.sourcefactory.basic.BasicSourceFactory):
            source_class = MySourceClass

            def getValues(self):
                return ['red', 'green']

        source = Factory()
        self.assertIsInstance(source, MySourceClass)
        self.assertEqual('green', source.favourite())
        self.assertTrue(zope.interface.verify.verifyObject(
            IExtendedColorSource, source))

    def test_undecorated_subclass_inherits_declaration(self):
        class Sub(ColorSource):
            pass

        self.assertTrue(IColorSource.providedBy(Sub()))
        self.assertEqual(
            (IColorSource,),
            gocept.source.declaration.declared_interfaces(Sub))

    def test_decorated_subclass_adds_interface_and_declares_its_own(self):
        @gocept.source.implementer(IShapeSource)
        class Sub(ColorSource):
            pass

        source = Sub()
        self.assertTrue(IColorSource.providedBy(source))
        self.assertTrue(IShapeSource.providedBy(source))
        self.assertEqual(
            (IShapeSource,),
            gocept.source.declaration.declared_interfaces(Sub))

    def test_decorating_a_subclass_leaves_the_base_factory_alone(self):
        @gocept.source.implementer(IShapeSource)
        class Sub(ColorSource):
            pass

        self.assertFalse(IShapeSource.providedBy(ColorSource()))

    def test_several_interfaces_at_once(self):
        @gocept.source.implementer(IColorSource, IShapeSource)
        class Factory(zc.sourcefactory.basic.BasicSourceFactory):
            def getValues(self):
                return []

        source = Factory()
        self.assertTrue(IColorSource.providedBy(source))
        self.assertTrue(IShapeSource.providedBy(source))


class IColor(zope.interface.Interface):
    """Not a source interface."""


class DecorationErrorTests(unittest.TestCase):

    def decorate(self, factory, *interfaces):
        return gocept.source.implementer(*interfaces)(factory)

    def test_interface_not_extending_isource_is_a_value_error(self):
        with self.assertRaisesRegex(
                ValueError,
                r'IColor does not extend zope\.schema\.interfaces\.ISource'):
            gocept.source.implementer(IColor)

    def test_non_interface_is_a_type_error(self):
        with self.assertRaisesRegex(TypeError, r"takes interfaces, got 'x'"):
            gocept.source.implementer('x')

    def test_missing_interface_is_a_type_error(self):
        with self.assertRaisesRegex(TypeError, 'needs at least one'):
            gocept.source.implementer()

    def test_plain_class_is_a_type_error(self):
        class NoFactory:
            def getValues(self):
                return []

        with self.assertRaisesRegex(
                TypeError, 'decorates zc.sourcefactory factory classes'):
            self.decorate(NoFactory, IColorSource)

    def test_function_is_a_type_error(self):
        def getValues():
            return []

        with self.assertRaisesRegex(TypeError, 'got <function'):
            self.decorate(getValues, IColorSource)

    def test_source_instead_of_factory_is_a_type_error(self):
        with self.assertRaisesRegex(
                TypeError, 'got a source .*decorate the factory class'):
            self.decorate(ColorSource(), IColorSource)

    def test_source_class_that_is_no_class_is_a_type_error(self):
        class Factory(zc.sourcefactory.basic.BasicSourceFactory):
            # A callable making sources, but nothing to subclass.
            source_class = staticmethod(
                lambda factory: zc.sourcefactory.source.FactoredSource(
                    factory))

        with self.assertRaisesRegex(
                TypeError, 'source_class is .*not a class'):
            self.decorate(Factory, IColorSource)

    def test_failed_decoration_leaves_factory_unchanged(self):
        class Factory(zc.sourcefactory.basic.BasicSourceFactory):
            pass

        with self.assertRaises(ValueError):
            self.decorate(Factory, IColor)
        self.assertIs(
            zc.sourcefactory.source.FactoredSource, Factory.source_class)
