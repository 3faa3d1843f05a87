"""ZopeLayer's life cycle: start, reset, refusals, cleanup after failures."""
import glob
import locale
import os
import re
import shutil
import tempfile
import unittest

import transaction
import zope.testbrowser.browser

import gocept.zopelayer
import gocept.zopelayer.tests
import gocept.zopelayer.tests.layers as layers


def process_state():
    """What Zope's start-up changes in the process, for comparisons."""
    import App.config
    import chameleon.template
    import Products
    import Zope2
    import Zope2.App.zcml
    import zope.component.globalregistry
    import ZPublisher.WSGIPublisher
    return {
        'Zope2.DB': Zope2.DB,
        'Zope2._began_startup': Zope2._began_startup,
        'Zope2.bobo_application': Zope2.bobo_application,
        'Zope2.opened': list(Zope2.opened),
        'zcml': (Zope2.App.zcml._initialized, Zope2.App.zcml._context),
        'publisher modules': dict(ZPublisher.WSGIPublisher._MODULES),
        'configuration': App.config._config,
        'INSTANCE_HOME': os.environ.get('INSTANCE_HOME'),
        'registry': zope.component.globalregistry.base,
        'meta_types': getattr(Products, 'meta_types', ()),
        'locale': locale.setlocale(locale.LC_ALL),
        'template loader': chameleon.template.BaseTemplate.loader,
    }


def hello_view():
    """The view hello.zcml registers, or None."""
    import OFS.Application
    import zope.component
    import zope.publisher.browser
    return zope.component.queryMultiAdapter(
        (OFS.Application.Application(), zope.publisher.browser.TestRequest()),
        name='zopelayer-hello')


def temp_dirs():
    return set(glob.glob(
        os.path.join(tempfile.gettempdir(), 'gocept.zopelayer.*')))


def private_tempdir(test):
    """Give `test` a temp dir of its own for tempfile's functions.

    Tests running in parallel (bin/test -j2) create and remove theirs in
    the system's one meanwhile.
    """
    directory = tempfile.mkdtemp(prefix='zopelayer-test-')
    test.addCleanup(shutil.rmtree, directory, ignore_errors=True)
    test.addCleanup(setattr, tempfile, 'tempdir', tempfile.tempdir)
    tempfile.tempdir = directory


class Failing(layers.TestZopeLayer):

    def setUpZope(self, app):
        super().setUpZope(app)
        raise ValueError('setUpZope failed on purpose')


class LifeCycleTests(unittest.TestCase):
    """Zope layers set up and torn down by the test itself."""

    layer = layers.PLAIN_FILESTORAGE

    def make(self, cls=layers.TestZopeLayer, **kw):
        return cls(bases=(self.layer,), name=f'zopelayer:{self.id()}',
                   module=__name__, **kw)

    def test_tearDown_removes_the_zcml_registrations(self):
        zope_layer = self.make()
        self.assertIsNone(hello_view())
        zope_layer.setUp()
        try:
            self.assertIsNotNone(hello_view())
        finally:
            zope_layer.tearDown()
        self.assertIsNone(hello_view())

    def test_tearDown_restores_zopes_process_globals(self):
        before = process_state()
        zope_layer = self.make()
        zope_layer.setUp()
        try:
            self.assertNotEqual(before, process_state())
        finally:
            zope_layer.tearDown()
        self.assertEqual(before, process_state())

    def test_two_zope_layers_one_after_the_other(self):
        import gocept.zodblayer
        for number in (1, 2):
            name = f'zopelayer:{self.id()}:{number}'
            zodb = gocept.zodblayer.FileStorageLayer(
                name=name, module=__name__)
            zope_layer = layers.TestZopeLayer(
                bases=(zodb,), name=f'{name}:Zope', module=__name__)
            zodb.setUp()
            try:
                zope_layer.setUp()
                try:
                    browser = zope_layer.browser(
                        zope_layer['wsgi_url'] + '/zopelayer-hello')
                    self.assertEqual(
                        'Hello from the layer ZCML', browser.contents)
                    with gocept.zopelayer.zopeApp() as app:
                        self.assertEqual('The shop', app.shop.title)
                finally:
                    zope_layer.tearDown()
            finally:
                zodb.tearDown()

    def test_failing_setUp_undoes_what_it_did(self):
        private_tempdir(self)
        before, dirs = process_state(), temp_dirs()
        with self.assertRaisesRegex(ValueError, 'on purpose'):
            self.make(Failing).setUp()
        self.assertEqual(before, process_state())
        self.assertEqual(dirs, temp_dirs())
        self.assertIsNone(hello_view())
        # Nothing is left claiming the process: the next one starts.
        zope_layer = self.make()
        zope_layer.setUp()
        zope_layer.tearDown()

    def test_broken_zcml_fails_setUp_and_undoes_it(self):
        private_tempdir(self)
        before, dirs = process_state(), temp_dirs()
        zope_layer = self.make(
            zcml=((gocept.zopelayer.tests, 'nothere.zcml'),))
        with self.assertRaisesRegex(Exception, 'nothere.zcml'):
            zope_layer.setUp()
        self.assertEqual(before, process_state())
        self.assertEqual(dirs, temp_dirs())

    def test_missing_product_is_a_clear_error(self):
        zope_layer = self.make(products=('Products.NoSuchProduct',))
        with self.assertRaisesRegex(
                RuntimeError, "cannot import product 'Products.NoSuchProduct'"
                " listed in `products`"):
            zope_layer.setUp()

    def test_installed_products_are_accepted(self):
        zope_layer = self.make(products=('Products.OFSP',))
        zope_layer.setUp()
        zope_layer.tearDown()

    def test_base_without_zodbDB_is_a_clear_error(self):
        zope_layer = layers.TestZopeLayer(
            name='zopelayer:alone', module=__name__)
        with self.assertRaisesRegex(RuntimeError, 'needs a base layer'
                                    ' providing `zodbDB`'):
            zope_layer.setUp()

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, '`products`'):
            self.make(products='Products.OFSP')
        with self.assertRaisesRegex(ValueError, '`zcml`'):
            self.make(zcml=('configure.zcml',))
        with self.assertRaisesRegex(ValueError, '`zope_conf`'):
            self.make(zope_conf=['debug-mode on'])

    def test_zope_conf_lines_reach_zope(self):
        import App.config
        zope_layer = self.make(zope_conf='debug-mode on')
        zope_layer.setUp()
        try:
            self.assertTrue(App.config.getConfiguration().debug_mode)
        finally:
            zope_layer.tearDown()

    def test_zopeApp_without_zope_is_a_clear_error(self):
        with self.assertRaisesRegex(RuntimeError, 'Zope is not started'):
            with gocept.zopelayer.zopeApp():
                pass


class SetUpLayerTests(unittest.TestCase):

    layer = layers.ZOPE

    def test_second_zope_layer_at_once_is_an_error_naming_both(self):
        other = layers.TestZopeLayer(
            bases=(layers.FILESTORAGE,), name='zopelayer:Other',
            module=__name__)
        with self.assertRaisesRegex(
                RuntimeError, re.escape(
                    f"Cannot set up '{__name__}.zopelayer:Other': the Zope"
                    f" layer '{layers.__name__}.zopelayer:FileStorage:Zope'"
                    " is set up")):
            other.setUp()
        # The running one is untouched.
        self.assertEqual(
            'Hello from the layer ZCML',
            self.layer.browser(self.layer['wsgi_url'] + '/zopelayer-hello')
            .contents)

    def test_site_owner_logs_in_with_basic_auth(self):
        browser = self.layer.browser()
        browser.addHeader(
            'Authorization', f'Basic {gocept.zopelayer.SITE_OWNER_NAME}:'
            f'{gocept.zopelayer.SITE_OWNER_PASSWORD}')
        browser.open(self.layer['wsgi_url'] + '/manage_main')
        self.assertIn('shop', browser.contents)

    def test_zmi_needs_login_401_not_500(self):
        """Zope's WSGI pipeline (httpexceptions) answers 401, 404."""
        for handle_errors in (True, False):
            browser = self.layer.browser()
            browser.handleErrors = handle_errors
            with self.assertRaisesRegex(
                    zope.testbrowser.browser.HTTPError, '401'):
                browser.open(self.layer['wsgi_url'] + '/manage_main')
            with self.assertRaisesRegex(
                    zope.testbrowser.browser.HTTPError, '404'):
                browser.open(self.layer['wsgi_url'] + '/no-such-thing')

    def test_requests_to_wsgi_url_reach_zope(self):
        import requests
        response = requests.get(
            self.layer['wsgi_url'] + '/manage_main',
            auth=(gocept.zopelayer.SITE_OWNER_NAME,
                  gocept.zopelayer.SITE_OWNER_PASSWORD), timeout=30)
        self.assertEqual(200, response.status_code)
        self.assertIn('shop', response.text)

    def test_zopeApp_commits_on_clean_exit(self):
        with gocept.zopelayer.zopeApp() as app:
            app.manage_addFolder('committed')
        transaction.begin()
        self.assertIn('committed', self.layer['app'].objectIds())

    def test_zopeApp_aborts_on_error(self):
        with self.assertRaises(KeyError):
            with gocept.zopelayer.zopeApp() as app:
                app.manage_addFolder('aborted')
                raise KeyError('x')
        transaction.begin()
        self.assertNotIn('aborted', self.layer['app'].objectIds())

    def test_app_and_request_resources(self):
        import zope.globalrequest
        app, request = self.layer['app'], self.layer['request']
        self.assertIs(request, app.REQUEST)
        self.assertIs(request, zope.globalrequest.getRequest())
        self.assertEqual('http://nohost', request['SERVER_URL'])
        self.assertIsNotNone(
            app.acl_users.getUser(gocept.zopelayer.SITE_OWNER_NAME))

    def test_edited_page_template_shows_its_new_text(self):
        """Compiled templates are kept by source digest, not by object."""
        from Products.PageTemplates.ZopePageTemplate import \
            manage_addPageTemplate
        app = self.layer['app']
        manage_addPageTemplate(app, 'page', text='<p>first</p>')
        transaction.commit()
        url = self.layer['wsgi_url'] + '/page'
        self.assertIn('first', self.layer.browser(url).contents)
        app.page.pt_edit('<p>second</p>', 'text/html')
        transaction.commit()
        self.assertIn('second', self.layer.browser(url).contents)
