import http.client
import http.server
import os
import socket
import ssl
import threading
import unittest

import gocept.httplayer.server
import gocept.httplayer.tests.test_layer
import trustme


class Handler(http.server.BaseHTTPRequestHandler):
    """Answer GET with a body; /block waits for the test to release it."""

    protocol_version = 'HTTP/1.1'

    def do_GET(self):
        if self.path == '/block':
            self.server.context['entered'].set()
            self.server.context['release'].wait(30)
        if self.path == '/huge':
            body = b'x' * (64 * 1024 * 1024)
        else:
            body = b'hello ' + self.path.encode('ascii')
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


def open_fds():
    return len(os.listdir('/proc/self/fd'))


def connection_threads():
    return [t for t in threading.enumerate()
            if t.name.startswith('gocept.httplayer')]


class ServerTests(unittest.TestCase):

    def setUp(self):
        self.context = {
            'entered': threading.Event(), 'release': threading.Event()}
        self.server = gocept.httplayer.server.Server(
            Handler, context=self.context)
        self.addCleanup(self.server.stop)
        self.addCleanup(self.context['release'].set)

    def get(self, conn, path='/'):
        conn.request('GET', path)
        response = conn.getresponse()
        return response.status, response.read()

    def test_listens_as_soon_as_start_returns(self):
        self.server.start()
        conn = http.client.HTTPConnection(
            self.server.host, self.server.port, timeout=10)
        self.addCleanup(conn.close)
        self.assertEqual((200, b'hello /'), self.get(conn))

    def test_port_0_picks_a_free_port_reported_in_resources(self):
        self.server.start()
        self.assertNotEqual(0, self.server.port)
        port = self.server.port
        self.assertEqual({
            'http_host': '127.0.0.1',
            'http_port': port,
            'http_address': f'127.0.0.1:{port}',
            'http_url': f'http://127.0.0.1:{port}',
        }, self.server.resources())

    def test_handler_reads_context_from_server(self):
        self.server.start()
        self.assertIs(self.context, self.server.context)

    def test_stop_ends_idle_keep_alive_connection_without_force(self):
        self.server.start()
        conn = http.client.HTTPConnection(
            self.server.host, self.server.port, timeout=10)
        self.addCleanup(conn.close)
        self.assertEqual((200, b'hello /'), self.get(conn))
        self.assertEqual(2, len(connection_threads()))  # accept + conn
        self.server.request_grace = 600  # a wait here would show
        gocept.httplayer.tests.test_layer.finishes_within(
            self, self.server.stop)
        self.assertEqual([], connection_threads())
        self.assertEqual(0, self.server.forced_shutdowns)
        # The client sees the connection closed.
        self.assertEqual(b'', conn.sock.recv(1))

    def test_stop_lets_request_in_flight_finish(self):
        self.server.start()
        conn = http.client.HTTPConnection(
            self.server.host, self.server.port, timeout=10)
        self.addCleanup(conn.close)
        conn.request('GET', '/block')
        self.assertTrue(self.context['entered'].wait(10))
        stopper = threading.Thread(target=self.server.stop)
        stopper.start()
        self.context['release'].set()
        response = conn.getresponse()
        self.assertEqual(b'hello /block', response.read())
        stopper.join(30)
        self.assertFalse(stopper.is_alive())
        self.assertEqual([], connection_threads())
        self.assertEqual(0, self.server.forced_shutdowns)

    def test_stop_cuts_off_request_stuck_after_grace(self):
        self.server.start()
        # The client asks for a huge body and never reads it, so the handler
        # blocks in sendall until stop() shuts its socket down.
        client = socket.create_connection(
            (self.server.host, self.server.port), timeout=10)
        self.addCleanup(client.close)
        client.sendall(b'GET /huge HTTP/1.1\r\nHost: x\r\n\r\n')
        client.recv(1)  # the response has started
        self.server.request_grace = 0
        self.server.stop()
        self.assertEqual([], connection_threads())
        self.assertEqual(1, self.server.forced_shutdowns)

    def test_port_can_be_bound_again_at_once_after_stop(self):
        self.server.start()
        conn = http.client.HTTPConnection(
            self.server.host, self.server.port, timeout=10)
        self.addCleanup(conn.close)
        self.get(conn)
        self.server.stop()
        again = gocept.httplayer.server.Server(
            Handler, port=self.server.port)
        again.start()
        self.addCleanup(again.stop)
        self.assertEqual(self.server.port, again.port)

    def test_stop_is_idempotent_and_allowed_before_start(self):
        self.server.stop()
        self.server.stop()
        self.assertEqual([], connection_threads())

    def test_start_twice_raises(self):
        self.server.start()
        with self.assertRaises(RuntimeError):
            self.server.start()

    def test_failed_start_cleans_up_and_raises(self):
        self.server.start()
        before = open_fds()
        taken = gocept.httplayer.server.Server(
            Handler, port=self.server.port)
        with self.assertRaises(OSError):
            taken.start()
        self.assertEqual(before, open_fds())
        self.assertEqual(1, len(connection_threads()))  # the first server's

    def test_address_in_use_error_names_the_address(self):
        self.server.start()
        taken = gocept.httplayer.server.Server(
            Handler, port=self.server.port)
        with self.assertRaisesRegex(
                OSError, f'Cannot listen on 127.0.0.1:{self.server.port}:'
                         ' .*already in use') as caught:
            taken.start()
        self.assertEqual(98, caught.exception.errno)  # EADDRINUSE

    def test_unknown_host_error_names_the_host(self):
        server = gocept.httplayer.server.Server(
            Handler, host='no-such-host.invalid')
        with self.assertRaisesRegex(
                socket.gaierror, 'Cannot listen on no-such-host.invalid:0'):
            server.start()

    def test_serves_ipv6_loopback(self):
        server = gocept.httplayer.server.Server(Handler, host='::1')
        server.start()
        self.addCleanup(server.stop)
        self.assertEqual(f'[::1]:{server.port}', server.address)
        self.assertEqual(f'http://[::1]:{server.port}', server.url)
        conn = http.client.HTTPConnection('::1', server.port, timeout=10)
        self.addCleanup(conn.close)
        self.assertEqual((200, b'hello /'), self.get(conn))
        self.assertEqual(socket.AF_INET6, conn.sock.family)

    def test_cycles_leak_no_fd_and_no_thread(self):
        before_fds = open_fds()
        before_threads = set(threading.enumerate())
        for i in range(50):
            server = gocept.httplayer.server.Server(Handler)
            server.start()
            conn = http.client.HTTPConnection(
                server.host, server.port, timeout=10)
            self.get(conn)
            server.stop()
            conn.close()
        self.assertEqual(before_fds, open_fds())
        self.assertEqual(before_threads, set(threading.enumerate()))

    def test_handler_error_is_recorded(self):
        class Failing(Handler):
            def do_GET(self):
                raise ZeroDivisionError('boom')
        server = gocept.httplayer.server.Server(Failing)
        server.start()
        self.addCleanup(server.stop)
        conn = http.client.HTTPConnection(
            server.host, server.port, timeout=10)
        self.addCleanup(conn.close)
        conn.request('GET', '/')
        with self.assertRaises(http.client.RemoteDisconnected):
            conn.getresponse()
        server.stop()
        self.assertEqual(['boom'], [str(e) for e in server.errors])

    def test_bad_arguments_raise_value_error_naming_them(self):
        with self.assertRaisesRegex(ValueError, '`port`'):
            gocept.httplayer.server.Server(Handler, port=-1)
        with self.assertRaisesRegex(ValueError, '`handler_class`'):
            gocept.httplayer.server.Server(None)


class TLSServerTests(unittest.TestCase):

    def setUp(self):
        ca = trustme.CA()
        self.server_context = ssl.create_default_context(
            ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert('127.0.0.1').configure_cert(self.server_context)
        self.client_context = ssl.create_default_context()
        ca.configure_trust(self.client_context)
        self.server = gocept.httplayer.server.Server(
            Handler, ssl_context=self.server_context)
        self.server.start()
        self.addCleanup(self.server.stop)

    def test_serves_https(self):
        self.assertEqual(f'https://127.0.0.1:{self.server.port}',
                         self.server.url)
        conn = http.client.HTTPSConnection(
            '127.0.0.1', self.server.port, timeout=10,
            context=self.client_context)
        self.addCleanup(conn.close)
        conn.request('GET', '/tls')
        self.assertEqual(b'hello /tls', conn.getresponse().read())
        self.server.stop()
        self.assertEqual([], connection_threads())

    def test_plain_http_client_gets_a_clear_answer(self):
        conn = http.client.HTTPConnection(
            '127.0.0.1', self.server.port, timeout=10)
        self.addCleanup(conn.close)
        conn.request('GET', '/')
        response = conn.getresponse()
        self.assertEqual(400, response.status)
        self.assertIn(b'https only', response.read())

    def test_failed_handshakes_leak_no_fd(self):
        self.server.stop()
        fds = open_fds()
        server = gocept.httplayer.server.Server(
            Handler, ssl_context=self.server_context)
        server.start()
        untrusting = ssl.create_default_context()
        for i in range(5):
            conn = http.client.HTTPSConnection(
                '127.0.0.1', server.port, timeout=10, context=untrusting)
            with self.assertRaises(ssl.SSLCertVerificationError):
                conn.request('GET', '/')
            conn.close()
        server.stop()
        self.assertEqual([], server.errors)
        self.assertEqual(fds, open_fds())
