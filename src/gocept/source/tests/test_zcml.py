import os.path
import unittest

import gocept.source.tests
import gocept.source.tests.layers
import zope.browser.interfaces
import zope.component
import zope.configuration.config
import zope.configuration.exceptions
import zope.configuration.xmlconfig
import zope.interface.verify
import zope.publisher.browser

from gocept.source.tests.sources import IColorSource
from gocept.source.tests.sources import IShapeSource


def path(name):
    return os.path.join(os.path.dirname(__file__), 'zcml', name)


def load(name):
    """Load tests/zcml/`name` with a fresh configuration context."""
    zope.configuration.xmlconfig.file(
        path(name), package=gocept.source.tests)


def directive_lines(name):
    """Line numbers of the ``source:source`` directives in the file."""
    with open(path(name), encoding='utf-8') as f:
        return [number for number, line in enumerate(f, 1)
                if '<source:source' in line]


class RegistrationTests(unittest.TestCase):

    layer = gocept.source.tests.layers.ZCA_ISOLATION

    def setUp(self):
        load('registered.zcml')

    def test_unnamed_source_is_the_utility_for_its_interface(self):
        source = zope.component.getUtility(IColorSource)
        self.assertTrue(zope.interface.verify.verifyObject(
            IColorSource, source))
        self.assertEqual(['red', 'green', 'blue'], list(source))

    def test_named_source_is_found_by_name(self):
        source = zope.component.getUtility(IColorSource, name='other')
        self.assertEqual(['black', 'white'], list(source))

    def test_utility_is_one_shared_source(self):
        self.assertIs(zope.component.getUtility(IColorSource),
                      zope.component.getUtility(IColorSource))

    def test_source_is_registered_for_every_declared_interface(self):
        self.assertIs(
            zope.component.getUtility(IColorSource, name='both'),
            zope.component.getUtility(IShapeSource, name='both'))

    def test_provides_restricts_registration_to_that_interface(self):
        self.assertEqual(
            ['red', 'circle'],
            list(zope.component.getUtility(IShapeSource, name='shape-only')))
        self.assertIsNone(
            zope.component.queryUtility(IColorSource, name='shape-only'))

    def test_provides_registers_a_hand_written_recipe_source(self):
        source = zope.component.getUtility(IColorSource, name='recipe')
        self.assertEqual(['red', 'green', 'blue'], list(source))

    def test_configure_zcml_provides_iterms_for_registered_sources(self):
        source = zope.component.getUtility(IColorSource)
        terms = zope.component.getMultiAdapter(
            (source, zope.publisher.browser.TestRequest()),
            zope.browser.interfaces.ITerms)
        term = terms.getTerm('blue')
        self.assertEqual('Blue', term.title)
        self.assertEqual('blue', terms.getValue(term.token))


class ConfigurationErrorTests(unittest.TestCase):

    layer = gocept.source.tests.layers.ZCA_ISOLATION

    def assertConfigurationError(self, name, message):
        """Loading `name` fails naming `message`, the file and the line."""
        with self.assertRaises(
                zope.configuration.exceptions.ConfigurationError) as err:
            load(name)
        text = str(err.exception)
        self.assertIn(message, text)
        self.assertIn(path(name), text)
        line, = directive_lines(name)
        self.assertIn(f'line {line}.', text)

    def test_factory_that_is_no_source_factory(self):
        self.assertConfigurationError(
            'not_a_factory.zcml',
            'factory=gocept.source.tests.sources.NotAFactory is not a'
            ' zc.sourcefactory factory class')

    def test_factory_without_declared_interface(self):
        self.assertConfigurationError(
            'undeclared.zcml',
            'UndeclaredColorSource declares no interface for its sources')

    def test_contextual_factory(self):
        self.assertConfigurationError(
            'contextual.zcml', 'ContextColorSource is a contextual source'
            ' factory: its sources need a context')

    def test_factory_declared_with_interface_not_extending_isource(self):
        self.assertConfigurationError(
            'bad_interface.zcml',
            'ValueError: gocept.source.tests.badsources.IColor does not'
            ' extend zope.schema.interfaces.ISource')

    def test_provides_interface_the_source_does_not_provide(self):
        self.assertConfigurationError(
            'provides_not_provided.zcml',
            'The sources of gocept.source.tests.sources.ColorSource do not'
            ' provide gocept.source.tests.sources.IShapeSource')

    def test_provides_interface_not_extending_isource(self):
        self.assertConfigurationError(
            'provides_no_source.zcml',
            'provides=zope.interface.Interface does not extend'
            ' zope.schema.interfaces.ISource')

    def test_factory_that_needs_arguments(self):
        self.assertConfigurationError(
            'needs_arguments.zcml',
            'Calling gocept.source.tests.sources.NeedsArguments() to create'
            ' the source failed: TypeError')

    def test_factory_returning_no_source(self):
        self.assertConfigurationError(
            'returns_no_source.zcml',
            'which does not provide gocept.source.tests.sources.IColorSource')

    def test_failed_file_registers_nothing(self):
        with self.assertRaises(
                zope.configuration.exceptions.ConfigurationError):
            load('undeclared.zcml')
        self.assertIsNone(zope.component.queryUtility(IColorSource))


class ConflictTests(unittest.TestCase):

    layer = gocept.source.tests.layers.ZCA_ISOLATION

    def test_two_sources_for_same_interface_and_name_conflict(self):
        with self.assertRaises(
                zope.configuration.config.ConfigurationConflictError) as err:
            load('conflict.zcml')
        text = str(err.exception)
        self.assertIn("'utility', <InterfaceClass"
                      " gocept.source.tests.sources.IColorSource>, 'colors'",
                      text)
        for line in directive_lines('conflict.zcml'):
            self.assertIn(f'line {line}.', text)
        self.assertIsNone(
            zope.component.queryUtility(IColorSource, name='colors'))
