import json
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

    def test_app_exception_HTTPError_carries_the_traceback(self):
        """With handleErrors on, the failing test shows why the app
        failed, not only `HTTP Error 500: Internal Server Error`."""
        browser = self.layer.browser()
        with unittest.mock.patch('sys.stderr'), \
                self.assertRaises(urllib.error.HTTPError) as caught:
            browser.open('http://localhost/error')
        message = str(caught.exception)
        self.assertIn('HTTP Error 500: Internal Server Error', message)
        self.assertIn('Traceback (most recent call last)', message)
        self.assertIn('RuntimeError: The app failed on purpose.', message)

    def test_body_failing_before_its_first_chunk_is_a_500_page(self):
        """PEP 3333: the iteration of the body is guarded like the call."""
        browser = self.layer.browser()
        browser.raiseHttpErrors = False
        with unittest.mock.patch('sys.stderr'):
            browser.open('http://localhost/raw/fail-before-body')
        self.assertEqual(
            '500 Internal Server Error', browser.headers['status'])
        self.assertIn('RuntimeError: The body failed on purpose.',
                      browser.contents)

    def test_body_failing_reaches_the_test_with_handleErrors_off(self):
        browser = self.layer.browser()
        browser.handleErrors = False
        with self.assertRaisesRegex(RuntimeError, 'body failed on purpose'):
            browser.open('http://localhost/raw/fail-before-body')

    def post_and_follow(self, status):
        browser = self.layer.browser()
        browser.post(f'http://localhost/raw/redirect/{status}',
                     'name=Ada&x=%C3%A4',
                     content_type='application/x-www-form-urlencoded')
        return browser, json.loads(browser.contents)

    def test_307_and_308_repeat_method_and_body(self):
        """RFC 9110 15.4.8 and 15.4.9: the redirected request repeats the
        method and the content, as browsers do (zope.testbrowser sent a
        body-less GET for 307 and did not follow 308)."""
        for status in (307, 308):
            browser, data = self.post_and_follow(status)
            self.assertEqual('http://localhost/raw/echo', browser.url)
            self.assertEqual('POST', data['environ']['REQUEST_METHOD'])
            self.assertEqual('name=Ada&x=%C3%A4', data['body'])
            self.assertEqual('application/x-www-form-urlencoded',
                             data['environ']['CONTENT_TYPE'])

    def test_301_302_303_after_post_are_followed_with_get(self):
        """RFC 9110 15.4.2-4: a user agent may (303: does) change POST to
        GET; browsers do for all three."""
        for status in (301, 302, 303):
            browser, data = self.post_and_follow(status)
            self.assertEqual('GET', data['environ']['REQUEST_METHOD'])
            self.assertEqual('', data['body'])

    def test_redirect_is_not_followed_when_followRedirects_is_off(self):
        browser = self.layer.browser()
        browser.followRedirects = False
        browser.open('http://localhost/raw/redirect/308')
        self.assertEqual('308 Permanent Redirect', browser.headers['status'])

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
