import http.client
import json
import os
import socket
import sys
import tempfile
import textwrap
import threading
import time
import unittest
import unittest.mock

import gocept.wsgilayer
import gocept.wsgilayer.server
import gocept.wsgilayer.tests.app
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


def exchange(layer, data, until=None):
    """Send `data` on a new connection; return what came back.

    Reads until the server closes, or until `until` (bytes) arrived.
    """
    with socket.create_connection(
            (layer['http_host'], layer['http_port']), timeout=10) as sock:
        sock.sendall(data)
        received = b''
        while until is None or until not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


def head(request_line, *fields, body=b''):
    lines = [request_line, 'Host: 127.0.0.1'] + list(fields)
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body


class MalformedRequestTest(unittest.TestCase):
    """Malformed requests get the status a real server gives, then the
    connection is closed (RFC 9112 and RFC 9110; each answer is what
    waitress 3.0 answers, unless the RFC asks for another, as noted; the
    limits are gocept.httplayer.http11's, the fake server's too)."""

    layer = layers.SERVER

    CASES = [
        # (name, request bytes, status)
        ('request line over 64 KiB (http.server limit; waitress'
         ' accepts up to its 256 KiB header limit)',
         head('GET /' + 'a' * 70000 + ' HTTP/1.1'), 414),
        ('header section over 64 KiB, or over 100 fields (waitress: 431'
         ' over its max_request_header_size, 256 KiB)',
         head('GET / HTTP/1.1', *[f'X-{i}: {"a" * 100}'
                                  for i in range(3000)]), 431),
        ('one field over 64 KiB',
         head('GET / HTTP/1.1', 'X-Big: ' + 'a' * 70000), 431),
        ('no request line', b'FOO\r\n\r\n', 400),
        ('no HTTP version (HTTP/0.9)', b'GET /\r\n\r\n', 400),
        ('unknown protocol', head('GET / HTTX/1.1'), 400),
        ('HTTP/2.0 in an HTTP/1 request line (RFC 9110 15.6.6;'
         ' waitress answers 200)', head('GET / HTTP/2.0'), 505),
        ('space in the target', head('GET /a b HTTP/1.1'), 400),
        ('Content-Length not a number (RFC 9112 6.3)',
         head('POST / HTTP/1.1', 'Content-Length: many'), 400),
        ('negative Content-Length',
         head('POST / HTTP/1.1', 'Content-Length: -1'), 400),
        ('Content-Length with a sign',
         head('POST / HTTP/1.1', 'Content-Length: +1', body=b'a'), 400),
        ('two different Content-Lengths (RFC 9112 6.3)',
         head('POST / HTTP/1.1', 'Content-Length: 1', 'Content-Length: 2',
              body=b'ab'), 400),
        ('transfer coding that does not end in chunked (RFC 9112 6.3:'
         ' MUST be 400; waitress answers 501)',
         head('POST / HTTP/1.1', 'Transfer-Encoding: gzip'), 400),
        ('unknown transfer coding before chunked (RFC 9112 6.1)',
         head('POST / HTTP/1.1', 'Transfer-Encoding: gzip, chunked',
              body=b'0\r\n\r\n'), 501),
        ('Transfer-Encoding and Content-Length (RFC 9112 6.1: may be'
         ' refused, the connection MUST be closed; waitress de-chunks)',
         head('POST / HTTP/1.1', 'Content-Length: 3',
              'Transfer-Encoding: chunked',
              body=b'3\r\nabc\r\n0\r\n\r\n'), 400),
        ('Transfer-Encoding in an HTTP/1.0 request (RFC 9112 6.1)',
         head('POST / HTTP/1.0', 'Transfer-Encoding: chunked',
              body=b'0\r\n\r\n'), 400),
        ('chunk size not hexadecimal (RFC 9112 7.1)',
         head('POST / HTTP/1.1', 'Transfer-Encoding: chunked',
              body=b'zz\r\nabc\r\n0\r\n\r\n'), 400),
        ('field line without a colon (RFC 9112 5)',
         head('GET / HTTP/1.1', 'NoColon'), 400),
        ('whitespace before the colon (RFC 9112 5.1: MUST be 400)',
         head('GET / HTTP/1.1', 'X-A : b'), 400),
        ('NUL in a field value (RFC 9110 5.5)',
         head('GET / HTTP/1.1', 'X-A: b\x00c'), 400),
        ('control character in a field name',
         head('GET / HTTP/1.1', 'X\x01A: b'), 400),
        ('HTTP/1.1 without Host (RFC 9112 3.2: MUST be 400; waitress'
         ' answers 200)', b'GET / HTTP/1.1\r\n\r\n', 400),
        ('two Host fields (RFC 9112 3.2: MUST be 400; waitress answers'
         ' 200)', head('GET / HTTP/1.1', 'Host: other'), 400),
    ]

    def test_malformed_requests_get_the_status_of_a_real_server(self):
        for name, data, status in self.CASES:
            with self.subTest(name):
                response = exchange(self.layer, data)
                self.assertTrue(
                    response.startswith(f'HTTP/1.1 {status} '.encode()),
                    response[:80])
                self.assertIn(b'\r\nConnection: close\r\n', response)

    def test_request_line_over_64_KiB_in_pieces_is_a_414(self):
        """The limit holds while the line is still arriving."""
        with socket.create_connection(
                (self.layer['http_host'], self.layer['http_port']),
                timeout=10) as sock:
            sock.sendall(b'GET /')
            response = b''
            for _ in range(20):
                try:
                    sock.sendall(b'a' * 8192)
                except OSError:
                    break  # the server answered and closed
            while chunk := sock.recv(65536):
                response += chunk
        self.assertTrue(response.startswith(b'HTTP/1.1 414 '), response[:80])

    def test_chunk_extensions_and_trailers_are_read_past(self):
        """RFC 9112 7.1.1 and 7.1.2: chunk extensions and trailer fields
        are part of the framing, not of the body."""
        response = exchange(self.layer, head(
            'POST /raw/echo HTTP/1.1', 'Transfer-Encoding: chunked',
            'Connection: close',
            body=b'5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n'))
        self.assertTrue(response.startswith(b'HTTP/1.1 200 '), response[:80])
        self.assertIn(b'"body": "hello"', response)

    def test_server_keeps_serving_after_malformed_requests(self):
        exchange(self.layer, b'FOO\r\n\r\n')
        response = exchange(self.layer, head(
            'GET /raw/echo HTTP/1.1', 'Connection: close'))
        self.assertTrue(response.startswith(b'HTTP/1.1 200 '), response[:80])


STREAM = {}


def streaming_app(environ, start_response):
    """Yields a line, waits for the test's go, yields another."""
    start_response('200 OK', [('Content-Type', 'text/plain')])
    yield b'first\n'
    STREAM['go'].wait(10)
    yield b'second\n'


def hung_app(environ, start_response):
    """Does not answer until the test lets it (or 30 s passed)."""
    STREAM['started'].set()
    STREAM['go'].wait(30)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'late']


def _dispatch(environ, start_response):
    app = hung_app if environ['PATH_INFO'] == '/hang' else streaming_app
    return app(environ, start_response)


STREAMING_APP = gocept.wsgilayer.WSGILayer(
    name='Streaming', module=__name__,
    app_factory=lambda layer: gocept.wsgilayer.tests.app.validated(
        _dispatch))
STREAMING_SERVER = gocept.wsgilayer.WSGIServerLayer(
    bases=(STREAMING_APP,), name='Streaming:Server', module=__name__)


class StreamingTest(unittest.TestCase):

    layer = STREAMING_SERVER

    def setUp(self):
        STREAM['go'] = threading.Event()
        STREAM['started'] = threading.Event()
        # Let the app end whatever happens.
        self.addCleanup(STREAM['go'].set)

    def test_response_is_streamed_as_the_app_yields_it(self):
        """Real servers send each chunk as the app yields it (PEP 3333
        "Buffering and Streaming"); without a Content-Length from the app
        the body is chunked (RFC 9112 7.1). The first line arrives while
        the app still waits for the test."""
        with socket.create_connection(
                (self.layer['http_host'], self.layer['http_port']),
                timeout=5) as sock:
            sock.sendall(head('GET /stream HTTP/1.1'))
            received = b''
            while b'first\n' not in received:
                received += sock.recv(65536)
            self.assertIn(b'\r\nTransfer-Encoding: chunked\r\n', received)
            self.assertNotIn(b'second', received)
            STREAM['go'].set()
            while not received.endswith(b'\r\n0\r\n\r\n'):
                received += sock.recv(65536)
        self.assertIn(b'6\r\nfirst\n\r\n7\r\nsecond\n\r\n0\r\n\r\n',
                      received)

    def test_http_1_0_client_gets_the_stream_until_close(self):
        """RFC 9112 6.3 (7.): an HTTP/1.0 client cannot read chunked; the
        end of the body is the end of the connection."""
        STREAM['go'].set()
        response = exchange(self.layer, b'GET /stream HTTP/1.0\r\n\r\n')
        self.assertNotIn(b'Transfer-Encoding', response)
        self.assertIn(b'\r\nConnection: close\r\n', response)
        self.assertTrue(response.endswith(b'\r\n\r\nfirst\nsecond\n'))

    def test_hung_app_is_reported_and_not_waited_for(self):
        """A hung app delayed tearDown by 6 s: now the layer's check cuts
        its connection after the grace (1 s), raises AppStillRunning
        naming the request, and the thread ends when the app returns."""
        server = gocept.wsgilayer.WSGIServerLayer(
            bases=(STREAMING_APP,), name='Hung', module=__name__)
        server.setUp()
        address = server['http_address']
        try:
            sock = socket.create_connection(
                (server['http_host'], server['http_port']), timeout=10)
            self.addCleanup(sock.close)
            sock.sendall(head('GET /hang HTTP/1.1'))
            self.assertTrue(STREAM['started'].wait(10))
            started = time.monotonic()
            with self.assertRaisesRegex(
                    gocept.wsgilayer.server.AppStillRunning,
                    r'GET /hang \(WSGI app\): still running'):
                server.check()
            # Well under the old 6 s; generous for a loaded machine.
            self.assertLess(time.monotonic() - started, 4)
            # The client is not left waiting.
            self.assertEqual(b'', sock.recv(1))
        finally:
            server.tearDown()
        STREAM['go'].set()

        def threads():
            return [t for t in server_threads() if t.name.endswith(address)]
        deadline = time.monotonic() + 10
        while threads() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual([], threads())


class HungAppReportTest(unittest.TestCase):

    def test_without_a_running_test_testTearDown_reports(self):
        """A layer driven by hand (testSetUp called outside any test)
        raises AppStillRunning from testTearDown instead."""
        STREAM['go'] = threading.Event()
        STREAM['started'] = threading.Event()
        self.addCleanup(STREAM['go'].set)
        app = gocept.wsgilayer.WSGILayer(
            name='ByHand', module=__name__, app_factory=lambda layer: hung_app)
        app.setUp()
        self.addCleanup(app.tearDown)
        server = gocept.wsgilayer.WSGIServerLayer(
            bases=(app,), name='ByHand:Server', module=__name__)
        server.setUp()
        self.addCleanup(server.tearDown)
        outside = threading.Thread(target=server.testSetUp)
        outside.start()
        outside.join(10)
        sock = socket.create_connection(
            (server['http_host'], server['http_port']), timeout=10)
        self.addCleanup(sock.close)
        sock.sendall(head('GET /hang HTTP/1.1'))
        self.assertTrue(STREAM['started'].wait(10))
        with self.assertRaisesRegex(
                gocept.wsgilayer.server.AppStillRunning, 'GET /hang'):
            server.testTearDown()

    def test_hung_app_fails_the_test_that_started_it(self):
        """Under zope.testrunner: the test whose request is still being
        answered fails with AppStillRunning; the next test runs as usual
        and the run is not delayed by the join timeout."""
        with tempfile.TemporaryDirectory() as tmp:
            package = os.path.join(tmp, 'probe')
            os.mkdir(package)
            open(os.path.join(package, '__init__.py'), 'w').close()
            with open(os.path.join(package, 'tests.py'), 'w') as f:
                f.write(textwrap.dedent("""\
                    import socket
                    import threading
                    import unittest
                    import gocept.wsgilayer

                    RELEASE = threading.Event()
                    STARTED = threading.Event()

                    def app(environ, start_response):
                        STARTED.set()
                        RELEASE.wait(30)
                        start_response('200 OK', [])
                        return [b'late']

                    APP = gocept.wsgilayer.WSGILayer(
                        name='Probe', module=__name__,
                        app_factory=lambda layer: app)
                    SERVER = gocept.wsgilayer.WSGIServerLayer(
                        bases=(APP,), name='Probe:Server',
                        module=__name__)

                    class Test(unittest.TestCase):
                        layer = SERVER

                        def test_1_starts_a_request(self):
                            sock = socket.create_connection(
                                (self.layer['http_host'],
                                 self.layer['http_port']))
                            self.addCleanup(sock.close)
                            sock.sendall(b'GET /hang HTTP/1.1\\r\\n'
                                         b'Host: x\\r\\n\\r\\n')
                            STARTED.wait(10)

                        def test_2_runs(self):
                            RELEASE.set()
                    """))
            result = run_python(textwrap.dedent(f"""\
                import sys
                sys.path.insert(0, {tmp!r})
                import zope.testrunner
                zope.testrunner.run_internal(['--test-path', {tmp!r}])
                """))
        self.assertIn('Failure in test test_1_starts_a_request',
                      result.stdout, result.stderr)
        self.assertIn('AppStillRunning: The WSGI app was still running',
                      result.stdout)
        self.assertIn('GET /hang (WSGI app)', result.stdout)
        self.assertNotIn('test_2_runs (', result.stdout.split(
            'Tests with failures:')[-1])
        self.assertIn('Ran 2 tests with 1 failures, 0 errors', result.stdout)


def framing_app(environ, start_response):
    """Apps that frame their response in every way PEP 3333 allows."""
    path = environ['PATH_INFO']
    if path == '/write':
        write = start_response('200 OK', [('Content-Type', 'text/plain')])
        write(b'written ')
        return [b'returned']
    if path == '/short':
        start_response('200 OK', [('Content-Type', 'text/plain'),
                                  ('Content-Length', '10')])
        return iter([b'12345'])
    if path == '/long':
        start_response('200 OK', [('Content-Type', 'text/plain'),
                                  ('Content-Length', '3')])
        return iter([b'123', b'4567890'])
    if path == '/fail-after-head':
        def body():
            start_response('200 OK', [('Content-Type', 'text/plain')])
            yield b'partial'
            try:
                raise RuntimeError('Failed after the head on purpose.')
            except RuntimeError:
                start_response('500 Internal Server Error',
                               [('Content-Type', 'text/plain')],
                               sys.exc_info())
            yield b'never'
        return body()
    if path == '/hop-by-hop':
        start_response('200 OK', [('Content-Type', 'text/plain'),
                                  ('Connection', 'close')])
        return [b'bye']
    return gocept.wsgilayer.tests.app.raw_app(environ, start_response)


FRAMING_APP = gocept.wsgilayer.WSGILayer(
    name='Framing', module=__name__,
    app_factory=lambda layer: gocept.wsgilayer.tests.app.validated(
        framing_app))
FRAMING_SERVER = gocept.wsgilayer.WSGIServerLayer(
    bases=(FRAMING_APP,), name='Framing:Server', module=__name__)


class FramingTest(unittest.TestCase):
    """The server frames each response as RFC 9112 6 asks."""

    layer = FRAMING_SERVER

    def get(self, path, *fields):
        return exchange(self.layer, head(f'GET {path} HTTP/1.1', *fields,
                                         'Connection: close'))

    def test_write_callable_output_comes_first(self):
        """PEP 3333 "The write() Callable": written data goes out before
        the returned body; without a Content-Length both are chunked."""
        response = self.get('/write')
        self.assertIn(b'\r\nTransfer-Encoding: chunked\r\n', response)
        self.assertTrue(response.endswith(
            b'\r\n\r\n8\r\nwritten \r\n8\r\nreturned\r\n0\r\n\r\n'),
            response)

    def test_body_shorter_than_its_length_closes_the_connection(self):
        """RFC 9112 8: only closing tells the client the message is
        incomplete; keeping the connection would hang the client."""
        response = self.get('/short')
        self.assertTrue(response.endswith(b'\r\n\r\n12345'), response)

    def test_body_longer_than_its_length_is_cut(self):
        """RFC 9112 6.3: the bytes after Content-Length would be read as
        the next response (response splitting); the server stops at the
        length and closes."""
        response = exchange(self.layer, head('GET /long HTTP/1.1'))
        self.assertTrue(response.endswith(b'\r\n\r\n123'), response)

    def test_exception_after_the_head_cuts_the_response_short(self):
        """PEP 3333: start_response with exc_info after the head went out
        re-raises; the server ends the connection without the last chunk,
        so the client sees an incomplete response, not a complete one."""
        with unittest.mock.patch('sys.stderr'):
            response = exchange(self.layer,
                                head('GET /fail-after-head HTTP/1.1'))
        self.assertIn(b'partial', response)
        self.assertNotIn(b'never', response)
        self.assertFalse(response.endswith(b'0\r\n\r\n'), response)

    def test_app_connection_close_is_honoured_not_copied(self):
        """PEP 3333: hop-by-hop fields are the server's; an app's
        `Connection: close` becomes the server's own close."""
        response = exchange(self.layer, head('GET /hop-by-hop HTTP/1.1'))
        # exchange() returned: the server closed the connection.
        self.assertEqual(1, response.count(b'Connection: close'))
        self.assertIn(b'bye', response)

    def test_interim_status_from_the_app_gets_no_framing(self):
        """RFC 9110 8.6 and 15.2: a 1xx has no body and no framing fields;
        the app has no final response to follow, so the connection ends
        rather than leave the client waiting."""
        response = exchange(self.layer,
                            head('GET /raw/status/103 HTTP/1.1'))
        self.assertTrue(response.startswith(b'HTTP/1.1 103 Early Hints'))
        self.assertNotIn(b'Content-Length', response)
        self.assertNotIn(b'Transfer-Encoding', response)

    def test_streamed_response_keeps_the_connection_alive(self):
        conn = http.client.HTTPConnection(
            self.layer['http_host'], self.layer['http_port'], timeout=10)
        self.addCleanup(conn.close)
        conn.request('GET', '/write')
        self.assertEqual(b'written returned', conn.getresponse().read())
        sock = conn.sock
        conn.request('GET', '/write')
        self.assertEqual(b'written returned', conn.getresponse().read())
        self.assertIs(sock, conn.sock)

    def test_100_continue_goes_out_before_the_body(self):
        """RFC 9110 10.1.1: a client that sent only the head waits for
        `100 Continue`; it arrives at once, the body follows."""
        with socket.create_connection(
                (self.layer['http_host'], self.layer['http_port']),
                timeout=5) as sock:
            sock.sendall(head('POST /raw/echo HTTP/1.1', 'Content-Length: 5',
                              'Expect: 100-continue', 'Connection: close'))
            interim = sock.recv(65536)
            self.assertEqual(b'HTTP/1.1 100 Continue\r\n\r\n', interim)
            sock.sendall(b'hello')
            response = b''
            while chunk := sock.recv(65536):
                response += chunk
        self.assertIn(b'"body": "hello"', response)
