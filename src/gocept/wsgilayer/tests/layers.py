"""Layers the tests share: the test app in several shapes."""
import plone.testing

import gocept.wsgilayer
import gocept.wsgilayer.tests.app


class SeedRecipeLayer(gocept.wsgilayer.WSGILayer):
    """The blog post's recipe, ported: only the base class changed."""

    def make_wsgi_app(self):
        from gocept.wsgilayer.tests.app import make_app
        self.made = make_app()
        return self.made


SEED = SeedRecipeLayer(name='WSGILayer:Seed', module=__name__)

ALPHA = gocept.wsgilayer.WSGILayer(
    app_factory=lambda layer: gocept.wsgilayer.tests.app.make_app(
        'Hello from Alpha'),
    name='WSGILayer:Alpha', module=__name__)

BETA = gocept.wsgilayer.WSGILayer(
    app_factory=lambda layer: gocept.wsgilayer.tests.app.make_app(
        'Hello from Beta'),
    name='WSGILayer:Beta', module=__name__)

ALPHA_AND_BETA = plone.testing.Layer(
    bases=(ALPHA, BETA), name='WSGILayer:AlphaAndBeta', module=__name__)


class GreetingLayer(plone.testing.Layer):
    """Stands for a resource layer such as a ZODB layer's `zodbDB`."""

    def setUp(self):
        self['greeting'] = 'Hello from a base resource'

    def tearDown(self):
        del self['greeting']


GREETING = GreetingLayer(name='WSGILayer:GreetingResource', module=__name__)

FROM_BASE = gocept.wsgilayer.WSGILayer(
    bases=(GREETING,),
    app_factory=lambda layer: gocept.wsgilayer.tests.app.make_app(
        layer['greeting']),
    name='WSGILayer:FromBaseResource', module=__name__)

SERVER = gocept.wsgilayer.WSGIServerLayer(
    bases=(SEED,), name='WSGIServerLayer:Seed', module=__name__)
