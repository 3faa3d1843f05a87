import unittest
import unittest.mock
import urllib.error

import webtest

from gocept.wsgilayer.tests import layers


class BrowserTest(unittest.TestCase):

    layer = layers.SEED

    def test_browser_opens_the_wsgi_url(self):
        browser = self.layer.browser(self.layer['wsgi_url'] + '/')
        self.assertEqual('Hello from Pyramid', browser.title)

    def test_browser_submits_a_form_to_the_app(self):
        browser = self.layer.browser('http://localhost/')
        browser.getControl('Name').value = 'Ada'
        browser.getControl('Greet').click()
        self.assertEqual('http://localhost/greet', browser.url)
        self.assertIn('Hello from Pyramid, Ada!', browser.contents)

    def test_app_exception_reaches_the_test_with_handleErrors_off(self):
        browser = self.layer.browser()
        browser.handleErrors = False
        with self.assertRaisesRegex(RuntimeError, 'failed on purpose'):
            browser.open('http://localhost/error')

    def test_app_exception_is_a_500_page_with_handleErrors_on(self):
        browser = self.layer.browser()
        browser.raiseHttpErrors = False
        with unittest.mock.patch('sys.stderr'):
            browser.open('http://localhost/error')
        self.assertEqual(
            '500 Internal Server Error', browser.headers['status'])
        self.assertIn('RuntimeError: The app failed on purpose.',
                      browser.contents)

    def test_app_exception_raises_HTTPError_by_default(self):
        browser = self.layer.browser()
        with unittest.mock.patch('sys.stderr'), \
                self.assertRaisesRegex(urllib.error.HTTPError, '500'):
            browser.open('http://localhost/error')

    def test_each_browser_starts_without_cookies(self):
        first = self.layer.browser('http://localhost/cookie/set')
        first.open('http://localhost/cookie/show')
        self.assertIn('flavour=chocolate', first.contents)
        second = self.layer.browser('http://localhost/cookie/show')
        self.assertIn('<p id="cookies">none</p>', second.contents)

    def test_browser_encodes_basic_user_and_password(self):
        """`Basic user:password` reaches the app base64-encoded (RFC 7617),
        as zope.testbrowser's WSGI layer does it."""
        browser = self.layer.browser()
        browser.addHeader('Authorization', 'Basic admin:sécret')
        browser.open('http://localhost/authorization')
        self.assertEqual('Basic YWRtaW46c8OpY3JldA==', browser.contents)

    def test_browser_keeps_an_encoded_authorization(self):
        browser = self.layer.browser()
        browser.addHeader('Authorization', 'Basic YWRtaW46c2VjcmV0')
        browser.open('http://localhost/authorization')
        self.assertIn('YWRtaW46c2VjcmV0', browser.contents)

    def test_browser_refuses_hosts_that_are_not_the_app(self):
        import zope.testbrowser.browser
        browser = self.layer.browser()
        with self.assertRaises(zope.testbrowser.browser.HostNotAllowed):
            browser.open('http://elsewhere.test/')


class TestAppTest(unittest.TestCase):

    layer = layers.SEED

    def test_testapp_is_a_webtest_app_bound_to_the_app(self):
        app = self.layer.testapp()
        self.assertIsInstance(app, webtest.TestApp)
        self.assertIn('Hello from Pyramid', app.get('/').text)

    def test_testapp_raises_app_exceptions(self):
        with self.assertRaisesRegex(RuntimeError, 'failed on purpose'):
            self.layer.testapp().get('/error')

    def test_each_testapp_starts_without_cookies(self):
        first = self.layer.testapp()
        first.get('/cookie/set')
        self.assertIn('flavour=chocolate', first.get('/cookie/show').text)
        second = self.layer.testapp()
        self.assertIn('none', second.get('/cookie/show').text)
