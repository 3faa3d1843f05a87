"""Every route to the app gives it a PEP 3333 environ and server side.

The app is wrapped in `wsgiref.validate.validator` (see tests/app.py);
its warnings are errors, and an error inside the app is a `500`, so a
route that broke PEP 3333 fails these tests. Each route runs the same
tests: in-process by URL (requests, urllib, http.client), `browser()`,
`testapp()`, and the real port of `WSGIServerLayer`.
"""
import http.client
import json
import time
import unittest
import unittest.mock
import urllib.error
import urllib.request

import requests

import gocept.wsgilayer.tests.app
from gocept.wsgilayer.tests import layers


FORM = 'application/x-www-form-urlencoded'


def wait_for(condition, seconds=10):
    """Wait until `condition()` is true; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f'Still not true after {seconds} s.')
        time.sleep(0.01)


def closed():
    return gocept.wsgilayer.tests.app.CLOSED


class Response:
    """What a route answered: status (int), headers (lower name -> list)
    and body (bytes)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {}
        for name, value in headers:
            self.headers.setdefault(name.lower(), []).append(value)
        self.body = body

    def json(self):
        return json.loads(self.body)


class RouteTests:
    """The tests every route runs; subclasses say how to send a request."""

    layer = layers.SERVER
    # The SERVER_PROTOCOL this route gives the app.
    protocol = 'HTTP/1.1'

    def request(self, method, path, body=None, headers=()):
        raise NotImplementedError

    def echo(self, method='GET', path='/raw/echo', body=None, headers=()):
        response = self.request(method, path, body, headers)
        self.assertEqual(200, response.status, response.body[:2000])
        return response.json()

    def test_cgi_variables_are_native_strings(self):
        """PEP 3333 "environ Variables": SERVER_PORT and every other CGI
        variable is a str (wsgi_intercept gave the int 80)."""
        data = self.echo(path='/raw/echo?a=1')
        self.assertEqual('str', data['types']['SERVER_PORT'])
        for key, type_name in data['types'].items():
            if '.' not in key:
                self.assertEqual('str', type_name, key)

    def test_query_string_is_there_without_a_query(self):
        """RFC 3875 4.1.7 and wsgiref.validate: QUERY_STRING is set, empty
        when the URL has none."""
        self.assertEqual('', self.echo()['environ']['QUERY_STRING'])
        self.assertEqual(
            'a=1&b=%C3%A4',
            self.echo(path='/raw/echo?a=1&b=%C3%A4')['environ']
            ['QUERY_STRING'])

    def test_server_protocol_is_the_bare_version(self):
        """PEP 3333 / RFC 3875 4.1.16: SERVER_PROTOCOL is like
        'HTTP/1.1', without the line end wsgi_intercept left on it."""
        self.assertEqual(
            self.protocol, self.echo()['environ']['SERVER_PROTOCOL'])

    def test_path_info_is_decoded_as_latin_1(self):
        """PEP 3333 "Unicode Issues": PATH_INFO holds the URL-decoded
        bytes as latin-1 code points."""
        data = self.echo(path='/raw/echo/%C3%A4%2F%7E?x')
        self.assertEqual('/raw/echo/\xc3\xa4/~', data['environ']['PATH_INFO'])
        self.assertEqual('', data['environ']['SCRIPT_NAME'])

    def test_post_body_reaches_the_app(self):
        data = self.echo('POST', body=b'name=Ada&x=%C3%A4',
                         headers=[('Content-Type', FORM)])
        self.assertEqual('name=Ada&x=%C3%A4', data['body'])
        self.assertEqual('17', data['environ']['CONTENT_LENGTH'])
        self.assertEqual(FORM, data['environ']['CONTENT_TYPE'])
        self.assertNotIn('HTTP_CONTENT_TYPE', data['environ'])
        self.assertNotIn('HTTP_CONTENT_LENGTH', data['environ'])

    def test_pyramid_form_post_reaches_the_view(self):
        response = self.request('POST', '/greet', b'name=Ada',
                                [('Content-Type', FORM)])
        self.assertEqual(200, response.status)
        self.assertIn(b'Hello from Pyramid, Ada!', response.body)

    def test_body_failing_before_its_first_chunk_is_a_500(self):
        """PEP 3333: the app may produce its body lazily, so a server
        guards the iteration too: an exception before the first chunk is
        a 500 with the traceback (not an exception in the client), and
        the iterable's close() is still called."""
        del gocept.wsgilayer.tests.app.CLOSED[:]
        with unittest.mock.patch('sys.stderr'):
            response = self.request('GET', '/raw/fail-before-body')
        self.assertEqual(500, response.status)
        self.assertIn(b'RuntimeError: The body failed on purpose.',
                      response.body)
        # On the port, close() may follow the response out.
        wait_for(lambda: closed() == ['/raw/fail-before-body'])

    def test_close_of_the_body_iterable_is_called(self):
        """PEP 3333: the server calls close() of the app's result."""
        del gocept.wsgilayer.tests.app.CLOSED[:]
        self.echo()
        wait_for(lambda: closed() == ['/raw/echo'])


class HTTPRouteTests(RouteTests):
    """Routes that speak HTTP/1.1 to our request handler."""

    def chunked(self, path, parts, headers=()):
        raise NotImplementedError

    def test_chunked_request_body_is_de_chunked(self):
        """RFC 9112 7.1: a chunked body reaches the app without its chunk
        framing, CONTENT_LENGTH is its length and no Transfer-Encoding is
        left in the environ (the framing is undone)."""
        response = self.chunked(
            '/raw/echo', [b'name=', b'Bob', b'&x=1'],
            [('Content-Type', FORM)])
        self.assertEqual(200, response.status, response.body)
        data = response.json()
        self.assertEqual('name=Bob&x=1', data['body'])
        self.assertEqual('12', data['environ']['CONTENT_LENGTH'])
        self.assertNotIn('HTTP_TRANSFER_ENCODING', data['environ'])

    def test_chunked_form_post_reaches_the_pyramid_view(self):
        """WebOb read an empty body from a chunked request before."""
        response = self.chunked('/greet', [b'name=', b'Bob'],
                                [('Content-Type', FORM)])
        self.assertIn(b'Hello from Pyramid, Bob!', response.body)

    def test_204_and_304_get_no_invented_framing(self):
        """RFC 9110 8.6 and 15.3.5/15.4.5, RFC 9112 6.3: a 204 or 304 has
        no body, and the server adds no Content-Length or
        Transfer-Encoding the app did not set."""
        for path in ['/raw/status/204', '/raw/status/304?etag=v1']:
            response = self.request('GET', path)
            self.assertNotIn('content-length', response.headers, path)
            self.assertNotIn('transfer-encoding', response.headers, path)
            self.assertEqual(b'', response.body)
        self.assertEqual(['"v1"'], response.headers['etag'])

    def test_head_gets_no_invented_length(self):
        """RFC 9110 9.3.2: a HEAD response's Content-Length, if any, is the
        one a GET would have; the server does not invent 0."""
        response = self.request('HEAD', '/raw/status/200')
        self.assertNotIn('content-length', response.headers)
        self.assertEqual(b'', response.body)
        response = self.request('HEAD', '/raw/echo')
        self.assertGreater(int(response.headers['content-length'][0]), 0)
        self.assertEqual(b'', response.body)


class HTTPClientRouteTests(HTTPRouteTests):
    """http.client lets a test send repeated fields."""

    def connect(self):
        raise NotImplementedError

    def request(self, method, path, body=None, headers=(), connect=None):
        conn = (connect or self.connect)()
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader('Content-Length', str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        result = Response(response.status, response.getheaders(),
                          response.read())
        conn.close()
        return result

    def chunked(self, path, parts, headers=()):
        conn = self.connect()
        conn.request('POST', path, body=iter(parts), headers=dict(headers),
                     encode_chunked=True)
        response = conn.getresponse()
        result = Response(response.status, response.getheaders(),
                          response.read())
        conn.close()
        return result

    def test_repeated_fields_are_joined(self):
        """RFC 9110 5.3: repeated fields are one comma-joined list (the
        last one won with wsgi_intercept); RFC 6265 5.4: cookies are
        joined with '; '."""
        data = self.echo(headers=[
            ('Accept', 'text/html'), ('Accept', 'application/json'),
            ('Cookie', 'a=1'), ('Cookie', 'b=2')])
        self.assertEqual('text/html, application/json',
                         data['environ']['HTTP_ACCEPT'])
        self.assertEqual('a=1; b=2', data['environ']['HTTP_COOKIE'])

    def test_field_with_underscore_is_dropped(self):
        """Like waitress: `X_Forwarded_For` would become the same environ
        key as `X-Forwarded-For` (header smuggling past a proxy)."""
        data = self.echo(headers=[('X_Probe', 'smuggled'),
                                  ('X-Other', 'kept')])
        self.assertNotIn('HTTP_X_PROBE', data['environ'])
        self.assertEqual('kept', data['environ']['HTTP_X_OTHER'])

    def test_expect_100_continue_is_answered(self):
        """RFC 9110 10.1.1: the client may wait for `100 Continue` before
        it sends the body; the body still reaches the app."""
        data = self.echo('POST', body=b'name=Eve',
                         headers=[('Content-Type', FORM),
                                  ('Expect', '100-continue')])
        self.assertEqual('name=Eve', data['body'])


class InProcessHTTPClientTest(HTTPClientRouteTests, unittest.TestCase):
    """`http.client` to `wsgi_url`, intercepted in-process."""

    def connect(self):
        return http.client.HTTPConnection(layers.SEED.host, timeout=10)

    def test_environ_is_the_one_of_the_real_port(self):
        """The in-process route builds the environ WSGIServerLayer builds
        (the same code does it)."""
        headers = [('X-Probe', 'yes'), ('Content-Type', FORM)]
        here = self.echo('POST', '/raw/echo?q=1', b'a=1', headers)
        there = self.request(
            'POST', '/raw/echo?q=1', b'a=1', headers,
            connect=lambda: http.client.HTTPConnection(
                self.layer['http_host'], self.layer['http_port'],
                timeout=10)).json()
        for data in (here, there):
            for key in ['SERVER_NAME', 'SERVER_PORT', 'HTTP_HOST']:
                del data['environ'][key]
        self.assertEqual(there['environ'], here['environ'])
        del here['types']['wsgi.multithread']
        del there['types']['wsgi.multithread']
        self.assertEqual(there['types'], here['types'])


class PortHTTPClientTest(HTTPClientRouteTests, unittest.TestCase):
    """`http.client` to WSGIServerLayer's port."""

    def connect(self):
        return http.client.HTTPConnection(
            self.layer['http_host'], self.layer['http_port'], timeout=10)


class RequestsTest(HTTPRouteTests, unittest.TestCase):
    """`requests` to `wsgi_url`, intercepted in-process."""

    def url(self, path):
        return layers.SEED['wsgi_url'] + path

    def request(self, method, path, body=None, headers=()):
        response = requests.request(method, self.url(path), data=body,
                                    headers=dict(headers), timeout=10,
                                    allow_redirects=False)
        return Response(response.status_code, response.headers.items(),
                        response.content)

    def chunked(self, path, parts, headers=()):
        # A generator body is sent chunked by requests.
        return self.request('POST', path, (part for part in parts),
                            headers)


class PortRequestsTest(RequestsTest):
    """`requests` to WSGIServerLayer's port."""

    def url(self, path):
        return self.layer['http_url'] + path


class UrllibTest(HTTPRouteTests, unittest.TestCase):
    """`urllib.request` to `wsgi_url`, intercepted in-process."""

    def request(self, method, path, body=None, headers=()):
        request = urllib.request.Request(
            layers.SEED['wsgi_url'] + path, data=body,
            headers=dict(headers), method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Response(response.status, response.getheaders(),
                                response.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.headers.items(), error.read())

    def chunked(self, path, parts, headers=()):
        # An iterable body without a length is sent chunked by urllib.
        return self.request('POST', path, iter(parts), headers)


class BrowserRouteTest(RouteTests, unittest.TestCase):
    """`layer.browser()`: zope.testbrowser builds the environ (WebTest)."""

    protocol = 'HTTP/1.0'  # WebTest's TestRequest

    def request(self, method, path, body=None, headers=()):
        browser = layers.SEED.browser()
        browser.raiseHttpErrors = False
        for name, value in headers:
            if name == 'Content-Type':
                browser._req_content_type = value
            else:
                browser.addHeader(name, value)
        browser.open('http://localhost' + path, data=body)
        contents = browser.contents
        if isinstance(contents, str):
            contents = contents.encode('utf-8')
        return Response(int(browser.headers['status'].split()[0]),
                        browser.headers.items(), contents)


class TestAppRouteTest(RouteTests, unittest.TestCase):
    """`layer.testapp()`: WebTest builds the environ, raises app errors."""

    protocol = 'HTTP/1.0'

    def request(self, method, path, body=None, headers=()):
        headers = dict(headers)
        testapp = layers.SEED.testapp()
        if method == 'GET':
            response = testapp.get(path, headers=headers, expect_errors=True)
        else:
            response = testapp.post(
                path, body, headers=headers, expect_errors=True,
                content_type=headers.pop('Content-Type', None))
        return Response(response.status_int, response.headerlist,
                        response.body)

    def test_body_failing_before_its_first_chunk_is_a_500(self):
        """WebTest wants app exceptions raised (`paste.throw_errors`)."""
        del gocept.wsgilayer.tests.app.CLOSED[:]
        with self.assertRaisesRegex(RuntimeError, 'failed on purpose'):
            self.request('GET', '/raw/fail-before-body')
