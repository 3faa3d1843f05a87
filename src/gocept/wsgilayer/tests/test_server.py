import http.client
import json
import socket
import textwrap
import threading
import unittest
import unittest.mock

import gocept.wsgilayer
from gocept.wsgilayer.tests import layers
from gocept.wsgilayer.tests.helpers import run_python


def server_threads():
    return [t for t in threading.enumerate()
            if t.name.startswith('gocept.httplayer ')]


class WSGIServerLayerTest(unittest.TestCase):

    layer = layers.SERVER

    def connect(self):
        conn = http.client.HTTPConnection(
            self.layer['http_host'], self.layer['http_port'], timeout=10)
        self.addCleanup(conn.close)
        return conn

    def test_resources_name_the_loopback_address(self):
        port = self.layer['http_port']
        self.assertEqual('127.0.0.1', self.layer['http_host'])
        self.assertIsInstance(port, int)
        self.assertEqual(f'127.0.0.1:{port}', self.layer['http_address'])
        self.assertEqual(f'http://127.0.0.1:{port}', self.layer['http_url'])

    def test_base_resources_stay_reachable(self):
        self.assertIn('wsgi_url', self.layer)

    def test_subprocess_fetches_a_page(self):
        result = run_python(textwrap.dedent(f"""\
            import urllib.request
            with urllib.request.urlopen(
                    {self.layer['http_url'] + '/'!r}, timeout=10) as r:
                print(r.status, r.read().decode('utf-8'))
            """), timeout=60)
        self.assertIn('200', result.stdout, result.stderr)
        self.assertIn('<title>Hello from Pyramid</title>', result.stdout)

    def test_connection_is_kept_alive_between_requests(self):
        conn = self.connect()
        conn.request('GET', '/')
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        conn.request('POST', '/greet', body='name=Ada',
                     headers={'Content-Type':
                              'application/x-www-form-urlencoded'})
        second = conn.getresponse()
        self.assertEqual(11, second.version)
        self.assertIn(b'Hello from Pyramid, Ada!', second.read())
        self.assertIs(sock, conn.sock)

    def test_environ_describes_the_request(self):
        conn = self.connect()
        conn.request('GET', '/environ?a=1&b=%C3%A4',
                      headers={'X-Probe': 'yes'})
        environ = json.loads(conn.getresponse().read())
        self.assertEqual('/environ', environ['PATH_INFO'])
        self.assertEqual('a=1&b=%C3%A4', environ['QUERY_STRING'])
        self.assertEqual('yes', environ['HTTP_X_PROBE'])
        self.assertEqual(str(self.layer['http_port']), environ['SERVER_PORT'])
        self.assertEqual('HTTP/1.1', environ['SERVER_PROTOCOL'])

    def test_chunked_request_body_reaches_the_app(self):
        conn = self.connect()
        conn.request('POST', '/greet', body=iter([b'name=', b'Bob']),
                     headers={'Content-Type':
                              'application/x-www-form-urlencoded'},
                     encode_chunked=True)
        self.assertIn(b'Hello from Pyramid, Bob!', conn.getresponse().read())

    def test_head_response_has_length_but_no_body(self):
        conn = self.connect()
        conn.request('HEAD', '/')
        response = conn.getresponse()
        self.assertGreater(int(response.getheader('Content-Length')), 0)
        self.assertEqual(b'', response.read())
        conn.request('GET', '/')
        self.assertIn(b'Hello', conn.getresponse().read())

    def test_app_exception_is_a_500_with_traceback(self):
        conn = self.connect()
        with unittest.mock.patch('sys.stderr'):
            conn.request('GET', '/error')
            response = conn.getresponse()
        self.assertEqual(500, response.status)
        self.assertIn(b'RuntimeError: The app failed on purpose.',
                      response.read())

    def test_http_1_0_client_gets_connection_closed(self):
        with socket.create_connection(
                (self.layer['http_host'], self.layer['http_port']),
                timeout=10) as sock:
            sock.sendall(b'GET / HTTP/1.0\r\n\r\n')
            data = b''
            while chunk := sock.recv(65536):
                data += chunk
        self.assertTrue(data.startswith(b'HTTP/1.1 200 OK\r\n'), data[:50])
        self.assertIn(b'</html>', data)

    def test_bad_content_length_is_a_400(self):
        with socket.create_connection(
                (self.layer['http_host'], self.layer['http_port']),
                timeout=10) as sock:
            sock.sendall(b'POST /greet HTTP/1.1\r\nHost: x\r\n'
                         b'Content-Length: many\r\n\r\n')
            data = b''
            while chunk := sock.recv(65536):
                data += chunk
        self.assertTrue(data.startswith(b'HTTP/1.1 400 '), data[:50])
        self.assertIn(b"Content-Length", data)

    def test_idle_kept_alive_connection_ends_with_the_test(self):
        threads = threading.active_count()
        conn = self.connect()
        conn.request('GET', '/')
        conn.getresponse().read()
        self.assertEqual(threads + 1, threading.active_count())
        self.layer.testTearDown()
        # The server closed the connection and joined its thread.
        self.assertEqual(b'', conn.sock.recv(1))
        self.assertEqual(threads, threading.active_count())


class WSGIServerLayerLifecycleTest(unittest.TestCase):

    layer = layers.SEED

    def test_tearDown_closes_connections_threads_and_port(self):
        server = gocept.wsgilayer.WSGIServerLayer(
            bases=(layers.SEED,), name='Lifecycle', module=__name__)
        server.setUp()
        try:
            host, port = server['http_host'], server['http_port']
            conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request('GET', '/')
            self.assertEqual(200, conn.getresponse().status)
            # The kept-alive connection is idle in a server thread now.
        finally:
            server.tearDown()
        self.assertEqual([], server_threads())
        self.assertNotIn('http_url', server)
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection((host, port), timeout=10).close()
        # The port is free at once for the next server.
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        conn.close()

    def test_bases_are_required(self):
        with self.assertRaisesRegex(ValueError, '`bases`'):
            gocept.wsgilayer.WSGIServerLayer(name='NoBase', module=__name__)

    def test_base_without_wsgi_app_is_refused_in_setUp(self):
        import plone.testing
        base = plone.testing.Layer(name='Empty', module=__name__)
        server = gocept.wsgilayer.WSGIServerLayer(
            bases=(base,), name='NoApp', module=__name__)
        with self.assertRaisesRegex(ValueError, 'wsgi_app'):
            server.setUp()
        self.assertNotIn('http_url', server)
