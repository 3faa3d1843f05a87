import contextlib
import http.client
import json
import os
import ssl
import tempfile
import textwrap
import unittest
import unittest.mock
import urllib.error
import urllib.request

import plone.testing
import requests

import gocept.httplayer
import gocept.wsgilayer
import gocept.wsgilayer.intercept
import gocept.wsgilayer.tests.app
from gocept.wsgilayer.tests import layers
from gocept.wsgilayer.tests.helpers import run_python


class SocketUsed(OSError):
    """A client tried to open a real connection."""


@contextlib.contextmanager
def no_sockets():
    """Make every attempt to resolve a name or open a socket fail loudly.

    Yields the list of (function, args) attempts, to show where a request
    went when it was not intercepted; no packet leaves the process.
    """
    attempts = []

    def refuse(name):
        def refused(*args, **kw):
            attempts.append((name, args))
            raise SocketUsed(f'{name}{args!r}')
        return refused

    with unittest.mock.patch('socket.socket', refuse('socket')), \
            unittest.mock.patch('socket.getaddrinfo', refuse('getaddrinfo')), \
            unittest.mock.patch('socket.create_connection',
                                refuse('create_connection')):
        yield attempts


def make_layer(name):
    return gocept.wsgilayer.WSGILayer(
        name=name, module=__name__,
        app_factory=lambda layer: gocept.wsgilayer.tests.app.make_app(name))


class InterceptTest(unittest.TestCase):

    layer = layers.ALPHA

    def setUp(self):
        self.url = self.layer['wsgi_url']

    def test_wsgi_url_is_a_fake_host_named_after_the_layer(self):
        self.assertEqual('http://wsgilayer-alpha.test', self.url)

    def test_requests_reaches_the_app_without_a_socket(self):
        with no_sockets() as attempts:
            response = requests.get(self.url + '/', timeout=5)
        self.assertEqual(200, response.status_code)
        self.assertIn('Hello from Alpha', response.text)
        self.assertEqual([], attempts)

    def test_requests_posts_a_form_to_the_app(self):
        with no_sockets():
            response = requests.post(
                self.url + '/greet', data={'name': 'Ada'}, timeout=5)
        self.assertIn('Hello from Alpha, Ada!', response.text)

    def test_urllib_reaches_the_app_without_a_socket(self):
        with no_sockets() as attempts:
            with urllib.request.urlopen(self.url + '/', timeout=5) as r:
                body = r.read().decode('utf-8')
        self.assertIn('Hello from Alpha', body)
        self.assertEqual([], attempts)

    def test_http_client_reaches_the_app_without_a_socket(self):
        with no_sockets() as attempts:
            conn = http.client.HTTPConnection(
                'wsgilayer-alpha.test', timeout=5)
            conn.request('GET', '/environ')
            response = conn.getresponse()
            environ = json.loads(response.read())
            conn.close()
        self.assertEqual(200, response.status)
        self.assertEqual('wsgilayer-alpha.test', environ['SERVER_NAME'])
        self.assertEqual([], attempts)

    def test_app_exception_is_a_500_with_traceback_for_http_clients(self):
        with unittest.mock.patch('sys.stderr'):
            response = requests.get(self.url + '/error', timeout=5)
        self.assertEqual(500, response.status_code)
        self.assertIn('RuntimeError: The app failed on purpose.',
                      response.text)

    def test_other_hosts_are_not_intercepted(self):
        with no_sockets() as attempts:
            with self.assertRaises(requests.ConnectionError):
                requests.get('http://elsewhere.test/', timeout=5)
        self.assertIn('elsewhere.test', repr(attempts))

    def test_proxy_of_the_environment_is_bypassed(self):
        proxy = {name: 'http://proxy.invalid:3128'
                 for name in ('http_proxy', 'HTTP_PROXY')}
        with unittest.mock.patch.dict(os.environ, proxy), \
                no_sockets() as attempts:
            response = requests.get(self.url + '/', timeout=5)
            # A new opener: urllib's default one read the environment
            # before the proxy was set.
            with urllib.request.build_opener().open(
                    self.url + '/', timeout=5) as r:
                body = r.read().decode('utf-8')
        self.assertIn('Hello from Alpha', response.text)
        self.assertIn('Hello from Alpha', body)
        self.assertEqual([], attempts)

    def test_tearDown_removes_the_interception(self):
        layer = make_layer('Intercept:TornDown')
        layer.setUp()
        url = layer['wsgi_url']
        self.assertEqual(200, requests.get(url + '/', timeout=5).status_code)
        layer.tearDown()
        with no_sockets() as attempts:
            with self.assertRaises(requests.ConnectionError):
                requests.get(url + '/', timeout=5)
            with self.assertRaises((urllib.error.URLError, SocketUsed)):
                urllib.request.urlopen(url + '/', timeout=5)
            conn = http.client.HTTPConnection('intercept-torndown.test')
            with self.assertRaises(SocketUsed):
                conn.request('GET', '/')
        self.assertIn('intercept-torndown.test', repr(attempts))
        self.assertNotIn('wsgi_url', layer)

    def test_tearDown_of_one_layer_keeps_the_others_interception(self):
        layer = make_layer('Intercept:Other')
        layer.setUp()
        layer.tearDown()
        with no_sockets():
            response = requests.get(self.url + '/', timeout=5)
        self.assertIn('Hello from Alpha', response.text)


TLS_SERVER = gocept.httplayer.HTTPServerLayer(
    tls=True, name='Intercept:TLSServer', module=__name__)
ALPHA_AND_TLS_SERVER = plone.testing.Layer(
    bases=(layers.ALPHA, TLS_SERVER), name='Intercept:AlphaAndTLSServer',
    module=__name__)


class NoProxyTest(unittest.TestCase):

    def test_intercepted_hosts_are_in_no_proxy_until_removed(self):
        before = {name: os.environ.get(name)
                  for name in ('no_proxy', 'NO_PROXY')}
        gocept.wsgilayer.intercept.add('no-proxy.test', object())
        try:
            for name in before:
                self.assertIn('no-proxy.test', os.environ[name].split(','))
        finally:
            gocept.wsgilayer.intercept.remove('no-proxy.test')
        self.assertEqual(before, {name: os.environ.get(name)
                                  for name in ('no_proxy', 'NO_PROXY')})

    def test_no_proxy_of_the_environment_is_kept(self):
        with unittest.mock.patch.dict(
                os.environ, {'no_proxy': 'corp.example'}):
            gocept.wsgilayer.intercept.add('kept.test', object())
            try:
                self.assertEqual(
                    'corp.example', os.environ['no_proxy'].split(',')[0])
            finally:
                gocept.wsgilayer.intercept.remove('kept.test')
            self.assertEqual('corp.example', os.environ['no_proxy'])


class InterceptAndHTTPSTest(unittest.TestCase):
    """Only plain HTTP is patched: https requests work as without it."""

    layer = ALPHA_AND_TLS_SERVER

    def setUp(self):
        self.layer['http_server'].expect('GET', '/ping').respond(
            json={'pong': True})
        self.url = self.layer['http_url'] + '/ping'

    def test_requests_reaches_an_https_server_and_verifies_it(self):
        response = requests.get(
            self.url, verify=self.layer['http_ca_pem'], timeout=5)
        self.assertEqual({'pong': True}, response.json())
        with self.assertRaises(requests.exceptions.SSLError):
            requests.get(self.url, timeout=5)

    def test_urllib_reaches_an_https_server_and_verifies_it(self):
        context = ssl.create_default_context(
            cafile=self.layer['http_ca_pem'])
        with urllib.request.urlopen(
                self.url, context=context, timeout=5) as response:
            self.assertEqual(b'{"pong": true}', response.read())
        with self.assertRaises(urllib.error.URLError):
            urllib.request.urlopen(self.url, timeout=5)


class InterceptAfterFailedTestTest(unittest.TestCase):

    def test_interception_is_gone_after_a_run_with_a_failing_test(self):
        with tempfile.TemporaryDirectory() as tmp:
            package = os.path.join(tmp, 'probe')
            os.mkdir(package)
            open(os.path.join(package, '__init__.py'), 'w').close()
            with open(os.path.join(package, 'tests.py'), 'w') as f:
                f.write(textwrap.dedent("""\
                    import unittest
                    import gocept.wsgilayer
                    import gocept.wsgilayer.tests.app

                    APP = gocept.wsgilayer.WSGILayer(
                        name='Probe', module=__name__,
                        app_factory=lambda layer:
                            gocept.wsgilayer.tests.app.make_app())

                    class FailingTest(unittest.TestCase):
                        layer = APP

                        def test_fails(self):
                            self.fail('on purpose')
                    """))
            result = run_python(textwrap.dedent(f"""\
                import sys
                sys.path.insert(0, {tmp!r})
                import http.client
                import urllib.request
                import urllib3.connection
                import urllib3.connectionpool
                import zope.testrunner
                import gocept.wsgilayer.intercept
                original = http.client.HTTPConnection
                failed = zope.testrunner.run_internal(
                    ['--test-path', {tmp!r}])
                print('failed:', failed)
                print('intercepted hosts:', gocept.wsgilayer.intercept._apps)
                print('http.client restored:',
                      http.client.HTTPConnection is original)
                print('urllib3 restored:',
                      urllib3.connectionpool.HTTPConnectionPool.ConnectionCls
                      is urllib3.connection.HTTPConnection)
                print('urllib restored:', urllib.request._opener is None)
                """))
        self.assertIn('failed: True', result.stdout, result.stderr)
        self.assertIn('Failure in test test_fails', result.stdout)
        self.assertIn('intercepted hosts: {}', result.stdout)
        self.assertIn('http.client restored: True', result.stdout)
        self.assertIn('urllib3 restored: True', result.stdout)
        self.assertIn('urllib restored: True', result.stdout)
