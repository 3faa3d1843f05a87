import os
import textwrap
import unittest

import zope.testbrowser.browser

import gocept.wsgilayer
import gocept.wsgilayer.tests.app
from gocept.wsgilayer.tests import layers
from gocept.wsgilayer.tests.helpers import run_python


SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


class SeedRecipeTest(unittest.TestCase):

    layer = layers.SEED

    def test_browser_finds_the_apps_text_at_localhost(self):
        browser = self.layer.browser()
        browser.open('http://localhost/')
        self.assertIn('Hello from Pyramid', browser.contents)

    def test_browser_is_a_zope_testbrowser(self):
        self.assertIsInstance(
            self.layer.browser(), zope.testbrowser.browser.Browser)

    def test_wsgi_app_resource_is_the_app_made_by_make_wsgi_app(self):
        response = self.layer.testapp().get('/')
        self.assertIs(self.layer.made, self.layer['wsgi_app'])
        self.assertIn('Hello from Pyramid', response.text)


class AppFactoryTest(unittest.TestCase):

    layer = layers.ALPHA

    def test_app_factory_builds_the_app(self):
        browser = self.layer.browser('http://localhost/')
        self.assertEqual('Hello from Alpha', browser.title)


class AppFactoryArgumentTest(unittest.TestCase):

    def test_name_is_required(self):
        with self.assertRaisesRegex(ValueError, '`name`'):
            gocept.wsgilayer.WSGILayer(app_factory=lambda layer: None)

    def test_app_factory_must_be_callable(self):
        with self.assertRaisesRegex(ValueError, '`app_factory`'):
            gocept.wsgilayer.WSGILayer(
                name='Bad', module=__name__, app_factory='myapp.main')

    def test_setUp_refuses_a_factory_returning_no_app(self):
        layer = gocept.wsgilayer.WSGILayer(
            name='NoApp', module=__name__, app_factory=lambda layer: None)
        with self.assertRaisesRegex(ValueError, 'must return a WSGI'):
            layer.setUp()
        self.assertNotIn('wsgi_url', layer)

    def test_layer_without_factory_says_what_to_do(self):
        layer = gocept.wsgilayer.WSGILayer(name='NoFactory', module=__name__)
        with self.assertRaisesRegex(NotImplementedError, 'app_factory'):
            layer.setUp()

    def test_browser_of_a_layer_not_set_up_fails_clearly(self):
        layer = gocept.wsgilayer.WSGILayer(
            name='NotSetUp', module=__name__, app_factory=lambda layer: None)
        with self.assertRaisesRegex(RuntimeError, 'not set up'):
            layer.browser()

    def test_module_defaults_to_the_callers(self):
        layer = gocept.wsgilayer.WSGILayer(name='NoModule')
        server = gocept.wsgilayer.WSGIServerLayer(
            bases=(layer,), name='NoModule:Server')
        self.assertEqual(__name__, layer.__module__)
        self.assertEqual(__name__, server.__module__)

    def test_wsgi_url_host_is_a_slug_of_the_name_under_test_domain(self):
        layer = gocept.wsgilayer.WSGILayer(
            name='My App:Functional', module=__name__)
        self.assertEqual('my-app-functional.test', layer.host)


class BaseResourceTest(unittest.TestCase):

    layer = layers.FROM_BASE

    def test_app_factory_reads_a_base_layers_resource(self):
        browser = self.layer.browser('http://localhost/')
        self.assertEqual('Hello from a base resource', browser.title)


class TwoLayersTest(unittest.TestCase):

    layer = layers.ALPHA_AND_BETA

    def test_each_layer_reaches_its_own_app_by_browser(self):
        alpha = layers.ALPHA.browser('http://localhost/')
        beta = layers.BETA.browser('http://localhost/')
        self.assertEqual('Hello from Alpha', alpha.title)
        self.assertEqual('Hello from Beta', beta.title)

    def test_each_layer_reaches_its_own_app_by_wsgi_url(self):
        import requests
        alpha = requests.get(layers.ALPHA['wsgi_url'] + '/', timeout=5)
        beta = requests.get(layers.BETA['wsgi_url'] + '/', timeout=5)
        self.assertIn('Hello from Alpha', alpha.text)
        self.assertIn('Hello from Beta', beta.text)
        self.assertNotEqual(layers.ALPHA['wsgi_url'], layers.BETA['wsgi_url'])

    def test_same_host_twice_is_refused(self):
        twin = gocept.wsgilayer.WSGILayer(
            name='WSGILayer:Alpha', module='elsewhere',
            app_factory=lambda layer: gocept.wsgilayer.tests.app.make_app())
        with self.assertRaisesRegex(ValueError, 'unique `name`'):
            twin.setUp()
        self.assertNotIn('wsgi_app', twin)


class LayerSelectionTest(unittest.TestCase):

    def test_layer_option_selects_one_wsgi_layer_by_name(self):
        result = run_python(textwrap.dedent(f"""\
            import zope.testrunner
            zope.testrunner.run_internal([
                '--test-path', {SRC!r}, '--package', 'gocept.wsgilayer',
                '--layer', 'WSGILayer:Alpha$', '--list-tests'])
            """))
        self.assertIn('AppFactoryTest', result.stdout, result.stderr)
        self.assertNotIn('TwoLayersTest', result.stdout)
        self.assertNotIn('SeedRecipeTest', result.stdout)
