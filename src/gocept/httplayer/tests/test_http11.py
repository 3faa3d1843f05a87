"""The fake server keeps the message rules of RFC 9110 and RFC 9112.

Each test sends raw bytes over a socket, so that nothing a client library
adds or forgives hides what the server does.
"""

import http.client
import socket
import unittest

import gocept.httplayer
import gocept.httplayer.tests.layers


class _Unclosable:
    """A file several HTTPResponse objects read one after another."""

    def __init__(self, file):
        self._file = file

    def __getattr__(self, name):
        return getattr(self._file, name)

    def close(self):
        pass


class _Socket:

    def __init__(self, file):
        self.file = _Unclosable(file)

    def makefile(self, *args, **kw):
        return self.file


class ConformanceTests(unittest.TestCase):

    layer = gocept.httplayer.tests.layers.HTTP_LAYER

    def setUp(self):
        self.server = self.layer['http_server']

    def connect(self):
        sock = socket.create_connection(
            (self.layer['http_host'], self.layer['http_port']), timeout=10)
        self.addCleanup(sock.close)
        self.file = sock.makefile('rb')
        self.addCleanup(self.file.close)
        return sock

    def exchange(self, data, method='GET'):
        """Send raw `data` on a new connection; return the response."""
        sock = self.connect()
        sock.sendall(data)
        return self.response(method)

    def response(self, method='GET'):
        response = http.client.HTTPResponse(
            _Socket(self.file), method=method)
        response.begin()
        response.body = response.read()
        return response

    def assertClosed(self):
        self.assertEqual(b'', self.file.read(1))

    def assertRefused(self, status, data, reason):
        response = self.exchange(data)
        self.assertEqual(status, response.status)
        self.assertEqual('close', response.headers['Connection'])
        self.assertClosed()
        with self.assertRaisesRegex(gocept.httplayer.UnexpectedRequests,
                                    f'malformed, answered {status}') as cm:
            self.server.check()
        self.assertRegex(str(cm.exception), reason)

    # response fields

    def test_repeated_fields_go_out_once_a_value_in_order(self):
        """RFC 9110 5.3: Set-Cookie may not be combined into one line."""
        self.server.expect('GET', '/pairs').respond(headers=[
            ('Set-Cookie', 'a=1'), ('Set-Cookie', 'b=2')])
        self.server.expect('GET', '/dict').respond(headers={
            'Set-Cookie': ['a=1', 'b=2']})
        self.server.expect('GET', '/handler').respond(
            handler=lambda request: (200, [
                ('Set-Cookie', 'a=1'), ('Set-Cookie', 'b=2')], b''))
        for path in ('/pairs', '/dict', '/handler'):
            response = self.exchange(
                f'GET {path} HTTP/1.1\r\nHost: x\r\n\r\n'.encode())
            self.assertEqual(['a=1', 'b=2'],
                             response.headers.get_all('Set-Cookie'), path)

    def test_headers_that_cannot_be_sent_are_refused_by_respond(self):
        """RFC 9110 5.5: no CR, LF or NUL in a field value; names are
        tokens (5.1)."""
        stub = self.server.expect('GET', '/')
        for headers in ({'X': {'a': 1}}, {'X': None}, {'X': 'a\r\nY: b'},
                        {'Bad Name': 'x'}, [('X',)], {'X': 'ä€'}, 'X: y'):
            with self.assertRaises(ValueError, msg=headers):
                stub.respond(headers=headers)

    def test_handler_returning_unsendable_headers_is_a_handler_error(self):
        """A shape that cannot be sent is never silently lost."""
        self.server.expect('GET', '/').respond(
            handler=lambda request: (200, {'X': object()}, b''))
        response = self.exchange(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
        self.assertEqual(500, response.status)
        with self.assertRaisesRegex(gocept.httplayer.HandlerError,
                                    'neither str nor int'):
            self.server.check()

    def test_204_and_304_get_no_invented_framing_fields(self):
        """RFC 9110 8.6: no Content-Length in 1xx and 204; a 304 may only
        repeat the one a GET would get, so none is invented."""
        self.server.expect('GET', '/204').respond(status=204)
        self.server.expect('GET', '/304').respond(
            status=304, headers={'ETag': '"v1"'})
        for path in ('/204', '/304'):
            response = self.exchange(
                f'GET {path} HTTP/1.1\r\nHost: x\r\n\r\n'.encode())
            self.assertIsNone(response.headers['Content-Length'], path)
            self.assertIsNone(response.headers['Transfer-Encoding'], path)
            self.assertEqual(b'', response.body)
        self.assertEqual('"v1"', response.headers['ETag'])

    def test_204_or_304_with_a_body_is_refused(self):
        """RFC 9110 15.3.5, 15.4.5: these responses have no content."""
        stub = self.server.expect('GET', '/')
        for status in (204, 304):
            with self.assertRaisesRegex(ValueError, f'{status} cannot'):
                stub.respond(status=status, body=b'x')

    def test_interim_status_is_refused_as_an_answer(self):
        """RFC 9110 15.2: a 1xx response is interim, never the answer."""
        with self.assertRaisesRegex(ValueError, '`status`.*200..599'):
            self.server.expect('GET', '/').respond(status=100)

    def test_head_gets_the_fields_of_get_and_no_body(self):
        """RFC 9110 9.3.2: same header fields as GET, no content."""
        self.server.expect('HEAD', '/').respond(body=b'hello')
        self.server.expect('GET', '/next').respond(body=b'next')
        sock = self.connect()
        sock.sendall(b'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n')
        head = self.response('HEAD')
        self.assertEqual('5', head.headers['Content-Length'])
        # Had a body gone out, it would be read as the next response.
        sock.sendall(b'GET /next HTTP/1.1\r\nHost: x\r\n\r\n')
        self.assertEqual(b'next', self.response().body)

    def test_every_response_has_a_date(self):
        """RFC 9110 6.6.1: an origin server with a clock sends Date."""
        self.server.expect('GET', '/')
        response = self.exchange(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
        self.assertRegex(response.headers['Date'], r' GMT$')

    def test_stub_asking_for_chunked_gets_a_chunked_body(self):
        """RFC 9112 7.1: the body is sent as chunks, no Content-Length."""
        self.server.expect('GET', '/').respond(
            body=b'chunks', headers={'Transfer-Encoding': 'chunked'})
        response = self.exchange(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
        self.assertIsNone(response.headers['Content-Length'])
        self.assertEqual(b'chunks', response.body)

    def test_no_transfer_encoding_to_an_http_1_0_client(self):
        """RFC 9112 6.1: a chunked answer to HTTP/1.0 is delimited by
        closing the connection."""
        self.server.expect('GET', '/').respond(
            body=b'whole', headers={'Transfer-Encoding': 'chunked'})
        response = self.exchange(b'GET / HTTP/1.0\r\n\r\n')
        self.assertIsNone(response.headers['Transfer-Encoding'])
        self.assertEqual(b'whole', response.body)
        self.assertClosed()

    # connection management

    def test_100_continue_goes_out_before_the_body_arrives(self):
        """RFC 9110 10.1.1: the client waits for 100 before the body."""
        self.server.expect('POST', '/upload').respond(status=201)
        sock = self.connect()
        sock.sendall(b'POST /upload HTTP/1.1\r\nHost: x\r\n'
                     b'Content-Length: 5\r\nExpect: 100-continue\r\n\r\n')
        self.assertEqual(b'HTTP/1.1 100 Continue\r\n',
                         self.file.readline())
        self.assertEqual(b'\r\n', self.file.readline())
        sock.sendall(b'hello')
        self.assertEqual(201, self.response().status)
        self.assertEqual(b'hello', self.server.requests[0].body)

    def test_unknown_expectation_is_answered_417(self):
        """RFC 9110 10.1.1: a server may answer 417 to other Expect."""
        self.assertRefused(
            417, b'GET / HTTP/1.1\r\nHost: x\r\nExpect: gold\r\n\r\n',
            'gold')

    def test_connection_close_closes_after_the_response(self):
        """RFC 9112 9.6: the server closes after answering "close"."""
        self.server.expect('GET', '/')
        response = self.exchange(
            b'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        self.assertEqual('close', response.headers['Connection'])
        self.assertClosed()

    def test_http_1_0_keep_alive_persists(self):
        """RFC 9112 9.3: HTTP/1.0 with "keep-alive" persists, without it
        the connection closes."""
        self.server.expect('GET', '/')
        sock = self.connect()
        for i in range(2):
            sock.sendall(b'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')
            response = self.response()
            self.assertEqual(200, response.status)
            self.assertEqual('keep-alive', response.headers['Connection'])
        sock.sendall(b'GET / HTTP/1.0\r\n\r\n')
        self.assertEqual('close', self.response().headers['Connection'])
        self.assertClosed()

    def test_pipelined_requests_are_answered_in_order(self):
        """RFC 9112 9.3.2: responses go out in the order of requests."""
        self.server.expect('GET', '/1').respond(body=b'one')
        self.server.expect('POST', '/2').respond(body=b'two')
        self.server.expect('GET', '/3').respond(body=b'three')
        sock = self.connect()
        sock.sendall(b'GET /1 HTTP/1.1\r\nHost: x\r\n\r\n'
                     b'POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n'
                     b'\r\nabc'
                     b'GET /3 HTTP/1.1\r\nHost: x\r\n\r\n')
        self.assertEqual([b'one', b'two', b'three'],
                         [self.response().body for i in range(3)])
        self.assertEqual(b'abc', self.server.requests[1].body)

    # request framing

    def test_chunked_body_is_decoded_and_trailers_recorded(self):
        """RFC 9112 7.1: chunk extensions are ignored; 7.1.2: trailer
        fields are kept apart from the header fields."""
        self.server.expect('POST', '/', body=b'hello world')
        response = self.exchange(
            b'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n'
            b'\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n'
            b'Checksum: abc\r\n\r\n')
        self.assertEqual(200, response.status)
        request, = self.server.requests
        self.assertEqual('abc', request.trailers['Checksum'])
        self.assertIsNone(request.headers['Checksum'])

    def test_identical_duplicate_content_lengths_are_one(self):
        """RFC 9110 8.6: a list of identical values may be taken as one."""
        self.server.expect('POST', '/', body=b'ab')
        response = self.exchange(
            b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n'
            b'Content-Length: 2, 2\r\n\r\nab')
        self.assertEqual(200, response.status)

    def test_differing_content_lengths_are_refused(self):
        """RFC 9112 6.3: an unrecoverable error, answered 400."""
        self.assertRefused(
            400, b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n'
            b'Content-Length: 3\r\n\r\nabc', 'Bad Content-Length')

    def test_invalid_content_length_is_answered_400_and_reported(self):
        """RFC 9112 6.3: an invalid Content-Length is answered 400."""
        for value in (b'x', b'-1', b'+5', b'1 2', b'0x10'):
            self.assertRefused(
                400, b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: '
                + value + b'\r\n\r\n', 'Bad Content-Length')

    def test_invalid_chunk_size_is_answered_400_and_reported(self):
        """RFC 9112 7.1: chunk-size is 1*HEXDIG."""
        for size in (b'zz', b'-1', b'', b'0x5'):
            self.assertRefused(
                400, b'POST /up HTTP/1.1\r\nHost: x\r\n'
                b'Transfer-Encoding: chunked\r\n\r\n' + size + b'\r\nabc\r\n'
                b'0\r\n\r\n', 'POST /up .*Bad chunk size')

    def test_chunk_longer_than_its_size_is_refused(self):
        """RFC 9112 7.1: chunk-data is followed by CRLF."""
        self.assertRefused(
            400, b'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:'
            b' chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n', 'longer than its size')

    def test_transfer_encoding_with_content_length_is_refused(self):
        """RFC 9112 6.1: a request smuggling pattern; a server may reject
        it and must close the connection."""
        self.assertRefused(
            400, b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n'
            b'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
            'Both Transfer-Encoding and Content-Length')

    def test_transfer_encoding_not_ending_in_chunked_is_refused(self):
        """RFC 9112 6.3: the length cannot be determined: 400."""
        self.assertRefused(
            400, b'POST / HTTP/1.1\r\nHost: x\r\n'
            b'Transfer-Encoding: chunked, gzip\r\n\r\n', 'does not end in')

    def test_unknown_transfer_coding_is_answered_501(self):
        """RFC 9112 6.1: a coding the server does not understand."""
        self.assertRefused(
            501, b'POST / HTTP/1.1\r\nHost: x\r\n'
            b'Transfer-Encoding: gzip, chunked\r\n\r\n', 'only chunked')

    def test_transfer_encoding_in_http_1_0_is_refused(self):
        """RFC 9112 6.1: faulty framing in an HTTP/1.0 message."""
        self.assertRefused(
            400, b'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n'
            b'0\r\n\r\n', 'HTTP/1.0')

    def test_truncated_body_is_reported(self):
        """RFC 9112 8: an incomplete message is no request to answer."""
        sock = self.connect()
        sock.sendall(b'POST /cut HTTP/1.1\r\nHost: x\r\n'
                     b'Content-Length: 5\r\n\r\nabc')
        sock.shutdown(socket.SHUT_WR)
        self.assertClosed()
        with self.assertRaisesRegex(
                gocept.httplayer.UnexpectedRequests,
                'POST /cut .*not answered.*3 of 5 bytes'):
            self.server.check()

    # request line and header section

    def test_missing_host_in_http_1_1_is_refused(self):
        """RFC 9112 3.2: an HTTP/1.1 request without Host gets 400."""
        self.assertRefused(400, b'GET / HTTP/1.1\r\n\r\n', 'Host')

    def test_two_host_fields_are_refused(self):
        """RFC 9112 3.2: more than one Host field gets 400."""
        self.assertRefused(
            400, b'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'Host')

    def test_http_1_0_needs_no_host(self):
        """RFC 9112 3.2 asks Host of HTTP/1.1 requests only."""
        self.server.expect('GET', '/')
        self.assertEqual(200, self.exchange(b'GET / HTTP/1.0\r\n\r\n').status)

    def test_obs_fold_is_replaced_by_a_space(self):
        """RFC 9112 5.2: a server replaces each obs-fold with SP."""
        self.server.expect('GET', '/', headers={'X-Folded': 'a b'})
        response = self.exchange(
            b'GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n\t b\r\n\r\n')
        self.assertEqual(200, response.status)

    def test_whitespace_before_the_colon_is_refused(self):
        """RFC 9112 5.1: whitespace between name and colon gets 400."""
        self.assertRefused(
            400, b'GET / HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n',
            'Bad header field')

    def test_whitespace_before_the_first_field_is_refused(self):
        """RFC 9112 2.2: a whitespace-preceded first line is invalid."""
        self.assertRefused(
            400, b'GET / HTTP/1.1\r\n Host: x\r\n\r\n', 'Whitespace')

    def test_bad_request_line_is_refused(self):
        """RFC 9112 3: method SP request-target SP HTTP-version."""
        for line in (b'GET  / HTTP/1.1', b'GET /', b'GET / HTTP/1.1 x',
                     b'G(T / HTTP/1.1', b'GET / HTTQ/1.1'):
            self.assertRefused(400, line + b'\r\nHost: x\r\n\r\n', 'Bad')

    def test_unsupported_major_version_is_answered_505(self):
        """RFC 9110 15.6.6: the server does not support that version."""
        self.assertRefused(
            505, b'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 'HTTP/2.0')

    def test_higher_minor_version_is_served_as_1_1(self):
        """RFC 9110 2.5: a higher minor version is served as ours."""
        self.server.expect('GET', '/')
        response = self.exchange(b'GET / HTTP/1.9\r\nHost: x\r\n\r\n')
        self.assertEqual((200, 11), (response.status, response.version))

    def test_request_line_over_64_kib_is_answered_414(self):
        """RFC 9112 3: a server answers 414 to a too long target."""
        self.assertRefused(
            414, b'GET /' + b'a' * 70000 + b' HTTP/1.1\r\nHost: x\r\n\r\n',
            'longer than 64 KiB')

    def test_header_section_over_64_kib_is_answered_431(self):
        """RFC 6585 5: header fields too large."""
        self.assertRefused(
            431, b'GET / HTTP/1.1\r\nHost: x\r\n'
            + (b'X-A: ' + b'a' * 40000 + b'\r\n') * 2 + b'\r\n', '64 KiB')

    def test_more_than_100_header_fields_are_answered_431(self):
        """RFC 6585 5: too many fields, as http.client counts them."""
        self.assertRefused(
            431, b'GET / HTTP/1.1\r\nHost: x\r\n' + b'X-A: a\r\n' * 101
            + b'\r\n', 'More than 100')

    def test_absolute_form_target_is_accepted(self):
        """RFC 9112 3.2.2: a server must accept the absolute-form."""
        self.server.expect('GET', '/abs', query={'q': '1'})
        response = self.exchange(
            b'GET http://x/abs?q=1 HTTP/1.1\r\nHost: x\r\n\r\n')
        self.assertEqual(200, response.status)

    def test_https_client_gets_an_answer_not_a_hang(self):
        """A TLS handshake has no line end: say so instead of waiting."""
        self.assertRefused(400, b'\x16\x03\x01\x02\x00\x01\x00',
                           'TLS handshake reached a plain HTTP server')

    def test_empty_line_before_the_request_is_ignored(self):
        """RFC 9112 2.2: a server should ignore one leading CRLF."""
        self.server.expect('GET', '/')
        response = self.exchange(b'\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n')
        self.assertEqual(200, response.status)


class PathTests(unittest.TestCase):
    """Percent-decoding keeps the meaning of the path (RFC 3986 6.2.2)."""

    layer = gocept.httplayer.tests.layers.HTTP_LAYER

    def setUp(self):
        self.server = self.layer['http_server']

    def status(self, target):
        conn = http.client.HTTPConnection(
            self.layer['http_host'], self.layer['http_port'], timeout=10)
        self.addCleanup(conn.close)
        conn.request('GET', target)
        response = conn.getresponse()
        response.read()
        return response.status

    def test_escaped_slash_is_part_of_one_segment(self):
        """RFC 3986 2.2: %2F is data, not a segment delimiter."""
        self.server.expect('GET', '/topics/a/b').respond(status=201)
        self.server.expect('GET', '/topics/a%2Fb').respond(status=202)
        self.assertEqual(202, self.status('/topics/a%2Fb'))
        self.assertEqual(202, self.status('/topics/a%2fb'))
        self.assertEqual(201, self.status('/topics/a/b'))
        self.assertEqual(['/topics/a%2Fb', '/topics/a%2Fb', '/topics/a/b'],
                         [r.path for r in self.server.requests])

    def test_reserved_escapes_stay_and_do_not_match_literals(self):
        """RFC 3986 6.2.2.2: only escapes that do not change the meaning
        may be decoded; reserved ones (and %25) do change it."""
        self.server.expect('GET', '/a;b').respond(status=201)
        self.assertEqual(500, self.status('/a%3Bb'))
        self.assertEqual(201, self.status('/a;b'))
        self.assertEqual('/a%3Bb', self.server.requests[0].path)
        self.server.reset()
        self.server.expect('GET', '/100%25').respond(status=201)
        self.assertEqual(201, self.status('/100%25'))

    def test_unreserved_and_non_ascii_escapes_match_decoded(self):
        """RFC 3986 6.2.2.2: %7E is ~; non-ASCII is UTF-8 (3.3)."""
        self.server.expect('GET', '/~user/ä b').respond(status=201)
        self.assertEqual(201, self.status('/%7Euser/%C3%A4%20b'))
        self.assertEqual('/~user/ä b', self.server.requests[0].path)

    def test_invalid_utf_8_stays_escaped(self):
        """RFC 3986 3.3 gives no meaning to it: it is kept as sent."""
        self.server.expect('GET', '/%FF').respond(status=201)
        self.assertEqual(201, self.status('/%ff'))
