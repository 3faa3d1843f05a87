"""The ITerms adapters keep zope.browser's ITerms contract.

``zope.browser.interfaces.ITerms``: ``getTerm(value)`` raises LookupError
"if the value isn't in the source", ``getValue(token)`` "if the token
isn't valid"; z3c.form's SourceTerms rely on both to mark missing values.
"""

import unittest

import gocept.source
import gocept.source.tests.layers
import zc.sourcefactory.basic
import zc.sourcefactory.browser.source
import zc.sourcefactory.interfaces
import zc.sourcefactory.named
import zc.sourcefactory.source
import zope.browser.interfaces
import zope.component
import zope.configuration.xmlconfig
import zope.publisher.browser

from gocept.source.tests import sources


REQUEST = zope.publisher.browser.TestRequest()


def terms_of(source):
    return zope.component.getMultiAdapter(
        (source, REQUEST), zope.browser.interfaces.ITerms)


class Paint:
    """A context offering its own colors."""

    def __init__(self, *colors):
        self.colors = list(colors)


VALUES = ['red', 'grün', 'café', '日本', b'blue', 3]
OUTSIDE = ['pink', 'gruen', 'cafe\u0301', b'red', 4, None, ['red']]


@gocept.source.implementer(sources.IColorSource)
class ManyKindsSource(zc.sourcefactory.basic.BasicSourceFactory):
    """Values of several types, non-ASCII ones included."""

    def getValues(self):
        return VALUES


@gocept.source.implementer(sources.IColorSource)
class FilteredSource(zc.sourcefactory.basic.BasicSourceFactory):
    """getValues offers 'hidden', filterValue takes it out."""

    def getValues(self):
        return ['red', 'hidden']

    def filterValue(self, value):
        return value != 'hidden'


@gocept.source.implementer(sources.IColorSource)
class LenientTokenSource(zc.sourcefactory.basic.BasicSourceFactory):
    """A token policy of its own that finds values beyond the source (as
    zc.sourcefactory's IntIdTokenPolicy finds any object with an intid)."""

    def getValues(self):
        return ['red']

    def getToken(self, value):
        return f'token-{value}'

    def getValue(self, source, token):
        return token[len('token-'):]


class UnhashableSource(zc.sourcefactory.basic.BasicSourceFactory):
    """Values that cannot go into a set, from a generator."""

    def getValues(self):
        yield from [['red'], {'color': 'green'}, 'blue']

    def getToken(self, value):
        return repr(value)


@gocept.source.implementer(sources.IColorSource)
class OwnMembershipSource(zc.sourcefactory.basic.BasicSourceFactory):
    """A source_class answering membership itself, without iterating."""

    class source_class(zc.sourcefactory.source.FactoredSource):
        asked = 0

        def __contains__(self, value):
            type(self).asked += 1
            return value in ('red', 'green')

    def getValues(self):
        raise AssertionError('membership must not iterate the values')


class ContractTests:
    """Mixin: `source()` returns the source under test, `members` its
    values, `outside` values it does not hold."""

    outside = OUTSIDE

    def test_getTerm_of_a_value_not_in_the_source_raises_LookupError(self):
        terms = terms_of(self.source())
        for value in self.outside:
            with self.subTest(value=value):
                with self.assertRaises(LookupError):
                    terms.getTerm(value)

    def test_getValue_of_an_unknown_token_raises_LookupError(self):
        terms = terms_of(self.source())
        for token in ['forged', '', 'pink', terms_of(self.source()).getTerm(
                self.members[0]).token + 'x']:
            with self.subTest(token=token):
                with self.assertRaises(LookupError):
                    terms.getValue(token)

    def test_values_in_the_source_round_trip_through_their_tokens(self):
        terms = terms_of(self.source())
        tokens = []
        for value in self.members:
            term = terms.getTerm(value)
            self.assertEqual(value, term.value)
            self.assertEqual(value, terms.getValue(term.token))
            tokens.append(term.token)
        self.assertEqual(len(tokens), len(set(tokens)))


class BasicSourceUsedDirectlyTest(ContractTests, unittest.TestCase):

    layer = gocept.source.tests.layers.SOURCE_ZCML
    members = VALUES

    def source(self):
        return ManyKindsSource()


class BasicSourceRegisteredWithZCMLTest(ContractTests, unittest.TestCase):
    """The issue's first input: ``<source:source factory=".ColorSource"/>``.
    """

    layer = gocept.source.tests.layers.ZCA_ISOLATION
    members = sources.COLORS

    def setUp(self):
        zope.configuration.xmlconfig.file(
            'zcml/registered.zcml', package=gocept.source.tests)

    def source(self):
        return zope.component.getUtility(sources.IColorSource)

    def test_recipe_source_registered_with_provides_keeps_the_contract(self):
        terms = terms_of(
            zope.component.getUtility(sources.IColorSource, name='recipe'))
        with self.assertRaises(LookupError):
            terms.getTerm('pink')
        self.assertEqual('red', terms.getTerm('red').value)


class ContextualSourceTest(ContractTests, unittest.TestCase):
    """The issue's second input: a value the context does not offer."""

    layer = gocept.source.tests.layers.SOURCE_ZCML
    members = ['cyan', 'grün']
    outside = OUTSIDE + ['magenta']  # offered by another context only

    def source(self):
        return sources.ContextColorSource()(Paint('cyan', 'grün'))

    def test_the_same_value_is_in_the_source_of_another_context(self):
        other = terms_of(sources.ContextColorSource()(Paint('magenta')))
        self.assertEqual('magenta', other.getTerm('magenta').value)


class NamedSourceTest(ContractTests, unittest.TestCase):
    """A factory registered as INamedSource, bound by NamedSource(name)."""

    layer = gocept.source.tests.layers.SOURCE_ZCML
    members = VALUES

    def setUp(self):
        zope.component.provideUtility(
            ManyKindsSource, zc.sourcefactory.interfaces.INamedSource,
            name='many')
        zope.component.provideUtility(
            sources.ContextColorSource,
            zc.sourcefactory.interfaces.INamedSource, name='paint')

    def source(self):
        return zc.sourcefactory.named.NamedSource('many')(object())

    def test_named_contextual_source_keeps_the_contract(self):
        source = zc.sourcefactory.named.NamedSource('paint')(Paint('cyan'))
        terms = terms_of(source)
        self.assertEqual('cyan', terms.getTerm('cyan').value)
        with self.assertRaises(LookupError):
            terms.getTerm('red')


class UndecoratedFactoryTest(ContractTests, unittest.TestCase):
    """zc.sourcefactory's own factories get the same adapters."""

    layer = gocept.source.tests.layers.SOURCE_ZCML
    members = sources.COLORS

    def source(self):
        return sources.UndeclaredColorSource()


class PolicyTest(unittest.TestCase):

    layer = gocept.source.tests.layers.SOURCE_ZCML

    def test_value_taken_out_by_filterValue_is_not_in_the_source(self):
        terms = terms_of(FilteredSource())
        self.assertEqual('red', terms.getTerm('red').value)
        with self.assertRaises(LookupError):
            terms.getTerm('hidden')

    def test_getValue_refuses_a_value_the_token_policy_finds_outside(self):
        terms = terms_of(LenientTokenSource())
        self.assertEqual('red', terms.getValue('token-red'))
        with self.assertRaises(LookupError):
            terms.getValue('token-pink')

    def test_unhashable_values_keep_the_contract(self):
        terms = terms_of(UnhashableSource())
        for value in [['red'], {'color': 'green'}, 'blue']:
            self.assertEqual(value, terms.getTerm(value).value)
        for value in [['pink'], {'color': 'red'}, 'red']:
            with self.assertRaises(LookupError):
                terms.getTerm(value)

    def test_membership_test_of_the_source_class_is_used(self):
        terms = terms_of(OwnMembershipSource())
        self.assertEqual('red', terms.getTerm('red').value)
        with self.assertRaises(LookupError):
            terms.getTerm('pink')
        self.assertEqual(2, OwnMembershipSource.source_class.asked)

    def test_getTerm_does_not_compute_title_or_token_of_a_foreign_value(self):
        # A value of a type without IToken adapter must not end in the
        # TypeError of the token lookup, but in LookupError.
        with self.assertRaises(LookupError):
            terms_of(sources.ColorSource()).getTerm(object())


class RegistrationOrderTest(unittest.TestCase):

    layer = gocept.source.tests.layers.ZCA_ISOLATION

    def test_zc_sourcefactory_registered_later_does_not_win(self):
        zope.configuration.xmlconfig.string('''
            <configure xmlns="http://namespaces.zope.org/zope">
              <include package="gocept.source" />
              <adapter
                  factory="zc.sourcefactory.browser.source.FactoredTerms" />
              <adapter factory=
                  "zc.sourcefactory.browser.source.FactoredContextualTerms"
                  />
            </configure>
        ''')
        terms = terms_of(sources.ColorSource())
        self.assertIsInstance(terms, gocept.source.terms.Terms)
        with self.assertRaises(LookupError):
            terms.getTerm('pink')
        contextual = terms_of(sources.ContextColorSource()(Paint('cyan')))
        self.assertIsInstance(contextual, gocept.source.terms.ContextualTerms)


class UpstreamBehaviourTest(unittest.TestCase):
    """zc.sourcefactory's own adapters, as the gocept.source.terms module
    docstring describes them: the gap is theirs. If one of these fails,
    zc.sourcefactory has fixed it and our override can go."""

    layer = gocept.source.tests.layers.SOURCE_ZCML

    def test_FactoredTerms_gives_a_term_for_a_value_not_in_the_source(self):
        terms = zc.sourcefactory.browser.source.FactoredTerms(
            sources.ColorSource(), REQUEST)
        self.assertEqual('pink', terms.getTerm('pink').value)

    def test_FactoredContextualTerms_gives_a_term_the_context_lacks(self):
        terms = zc.sourcefactory.browser.source.FactoredContextualTerms(
            sources.ContextColorSource()(Paint('cyan')), REQUEST)
        self.assertEqual('red', terms.getTerm('red').value)
