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
