"""Test layers: a global component registry of its own for every test."""

import gocept.source
import plone.testing
import plone.testing.zca
import zope.configuration.xmlconfig


class ZCAIsolation(plone.testing.Layer):
    """Stack a fresh global component registry for every test.

    Registrations a test makes (through ZCML or the API) go into it and are
    gone after the test. Resource: ``zca_registry``.
    """

    def testSetUp(self):
        self['zca_registry'] = plone.testing.zca.pushGlobalRegistry()

    def testTearDown(self):
        plone.testing.zca.popGlobalRegistry()
        del self['zca_registry']


ZCA_ISOLATION = ZCAIsolation(
    name='gocept.source:ZCAIsolation', module=__name__)


class SourceZCML(plone.testing.Layer):
    """Load gocept.source's configure.zcml into the test's registry.

    That registers zc.sourcefactory's ITerms and token adapters.
    """

    defaultBases = (ZCA_ISOLATION,)

    def testSetUp(self):
        zope.configuration.xmlconfig.file('configure.zcml', gocept.source)


SOURCE_ZCML = SourceZCML(name='gocept.source:SourceZCML', module=__name__)


class Z3CForm(plone.testing.Layer):
    """z3c.form as a Zope project configures it, and gocept.source.

    Loads z3c.form's configure.zcml (widgets, templates, its
    ``MissingChoiceTermsSource``) and gocept.source's into a global
    registry of the layer's own, removed in tearDown.
    """

    def setUp(self):
        import zope.traversing.testing
        plone.testing.zca.pushGlobalRegistry()
        # Path traversal in page templates (what zope.traversing's
        # configure.zcml would register, without its dependencies).
        zope.traversing.testing.setUp()
        zope.configuration.xmlconfig.string('''
            <configure xmlns="http://namespaces.zope.org/zope">
              <include package="zope.component" file="meta.zcml" />
              <include package="zope.security" file="meta.zcml" />
              <include package="zope.i18n" file="meta.zcml" />
              <include package="zope.browserresource" file="meta.zcml" />
              <include package="z3c.form" file="meta.zcml" />
              <include package="z3c.form" />
              <include package="gocept.source" />
            </configure>
        ''')

    def tearDown(self):
        plone.testing.zca.popGlobalRegistry()


Z3C_FORM = Z3CForm(name='gocept.source:Z3CForm', module=__name__)
