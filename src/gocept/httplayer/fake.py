"""FakeServer: a loopback HTTP server answering with stubs."""

import http.server
import socket
import struct
import threading
import traceback

import gocept.httplayer.errors
import gocept.httplayer.request
import gocept.httplayer.server
import gocept.httplayer.stub


GARBAGE = b'\x00\xff\xfe this is no HTTP response \x00\r\n\r\n'


class FakeServer:
    """A loopback HTTP server that answers requests with stubs.

    `expect()` adds a `Stub`; requests are matched against the stubs in the
    order they were added and recorded in ``requests``. A request no stub
    matches is answered with status `no_match_status` (500) and a body
    naming the nearest stub. `check()` raises what went wrong.

    With `handler` (a ``BaseHTTPRequestHandler`` subclass) every request
    goes to that handler instead; there are no stubs and no journal, but
    exceptions the handler raises are still reported by `check()`.
    """

    def __init__(self, host='127.0.0.1', port=0, ssl_context=None,
                 handler=None, no_match_status=500):
        validate_handler(handler)
        if (not isinstance(no_match_status, int)
                or not 100 <= no_match_status <= 599):
            raise ValueError(
                f'The `no_match_status` argument must be an int in 100..599,'
                f' got {no_match_status!r}.')
        self.no_match_status = no_match_status
        self.handler = handler
        self.server = gocept.httplayer.server.Server(
            handler or FakeRequestHandler, host=host, port=port,
            ssl_context=ssl_context, context=self)
        self._condition = threading.Condition()
        self.stubs = []
        self.requests = []
        self._unexpected = []  # (request, text)
        self._handler_errors = []  # (text, exception)
        self._reported_stubs = set()  # unmet stubs check() raised for

    @property
    def host(self):
        return self.server.host

    @property
    def port(self):
        return self.server.port

    @property
    def address(self):
        return self.server.address

    @property
    def url(self):
        return self.server.url

    def start(self):
        """Start serving; listening when this returns."""
        self.server.start()

    def stop(self):
        """Stop serving and join every thread; idempotent."""
        self.server.stop()

    def expect(self, method, path, query=None, headers=None, json=None,
               json_subset=False, body=None, times=None):
        """Add and return a `Stub`; see there for the arguments."""
        if self.handler is not None:
            raise RuntimeError(
                'This server passes every request to its `handler`;'
                ' stubs are not used.')
        stub = gocept.httplayer.stub.Stub(
            method, path, query=query, headers=headers, json=json,
            json_subset=json_subset, body=body, times=times)
        with self._condition:
            self.stubs.append(stub)
        return stub

    def reset(self):
        """Forget stubs, requests and problems."""
        with self._condition:
            self.stubs = []
            self.requests = []
            self._unexpected = []
            self._handler_errors = []
            self._reported_stubs = set()
            self.server.errors.clear()

    def wait_for(self, count=1, timeout=5.0):
        """Block until `count` requests arrived in all; return them.

        Raises `WaitTimeout` listing the requests that did arrive when they
        are fewer after `timeout` seconds.
        """
        with self._condition:
            arrived = self._condition.wait_for(
                lambda: len(self.requests) >= count, timeout)
            if not arrived:
                raise gocept.httplayer.errors.WaitTimeout(
                    f'Waited {timeout} s for {count} request(s) at'
                    f' {self.url}, {len(self.requests)} arrived'
                    + _listing([r.describe() for r in self.requests]))
            return list(self.requests)

    def check(self):
        """Raise what went wrong since the last reset or check().

        `HandlerError` if a handler raised, else `UnexpectedRequests` if a
        request matched no stub, else `UnmetExpectations` if a stub with
        `times=` got fewer requests; the message lists every problem. What
        was raised once is not raised again.
        """
        with self._condition:
            handler_errors = self._handler_errors + [
                (f'{type(e).__name__}: {e}', e) for e in self.server.errors]
            unexpected = self._unexpected
            unmet = [stub for stub in self.stubs
                     if stub.unmet and stub not in self._reported_stubs]
            self._handler_errors = []
            self.server.errors.clear()
            self._unexpected = []
            self._reported_stubs.update(unmet)
        parts = []
        if handler_errors:
            parts.append(f'{len(handler_errors)} handler error(s)' + _listing(
                [text for text, _ in handler_errors]))
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected request(s)'
                         + _listing([text for _, text in unexpected]))
        if unmet:
            parts.append(f'{len(unmet)} unmet expectation(s)' + _listing(
                [f'{stub.describe()}: got {len(stub.calls)} request(s)'
                 for stub in unmet]))
        if not parts:
            return
        message = f'Fake HTTP server {self.url}: ' + '\n'.join(parts)
        if handler_errors:
            raise gocept.httplayer.errors.HandlerError(
                message) from handler_errors[0][1]
        if unexpected:
            raise gocept.httplayer.errors.UnexpectedRequests(message)
        raise gocept.httplayer.errors.UnmetExpectations(message)

    def receive(self, request):
        """Match and record `request`; return (stub, response, text).

        Called by the request handler thread. `text` explains a mismatch.
        """
        with self._condition:
            self.requests.append(request)
            for stub in self.stubs:
                if not stub.mismatches(request):
                    stub.calls.append(request)
                    request.stub = stub
                    response = stub.response_for_call(len(stub.calls))
                    self._condition.notify_all()
                    return stub, response, None
            text = self._describe_unmatched(request)
            self._unexpected.append((request, text))
            self._condition.notify_all()
            return None, None, text

    def _describe_unmatched(self, request):
        stub, reasons = gocept.httplayer.stub.nearest(self.stubs, request)
        text = f'{request.describe()} matched no stub; '
        if stub is None:
            return text + 'there are no stubs'
        return text + f'nearest stub: {stub.describe()} ({"; ".join(reasons)})'

    def handler_failed(self, request, error):
        """Record that a `handler=` callable raised `error`."""
        text = ''.join(traceback.format_exception_only(error)).strip()
        stub = request.stub.describe() if request.stub else 'no stub'
        with self._condition:
            self._handler_errors.append(
                (f'{request.method} {request.target} (stub {stub}): {text}',
                 error))


def validate_handler(handler):
    """Raise ValueError unless `handler` is None or a request handler."""
    if handler is not None and not (
            isinstance(handler, type)
            and issubclass(handler, http.server.BaseHTTPRequestHandler)):
        raise ValueError(
            f'The `handler` argument must be a subclass of'
            f' http.server.BaseHTTPRequestHandler, got {handler!r}.')


class FakeRequestHandler(http.server.BaseHTTPRequestHandler):
    """Serve a request with the stubs of the `FakeServer` in context."""

    protocol_version = 'HTTP/1.1'
    server_version = 'gocept.httplayer'
    # Buffered: head and body leave in one send when handle_one_request()
    # flushes after the response.
    wbufsize = -1

    def log_message(self, format, *args):
        pass  # the journal records requests; errors go to check()

    def serve(self):
        fake = self.server.context
        request = gocept.httplayer.request.Request(
            self.command, self.path, self.headers, self.read_body(),
            self.client_address)
        stub, response, text = fake.receive(request)
        if stub is None:
            self.send(fake.no_match_status,
                      {'Content-Type': 'text/plain; charset=utf-8'},
                      text.encode('utf-8'))
            return
        if response.delay:
            # The server cuts the delay short when it closes connections.
            self.server.sleep(response.delay)
        if response.fault is not None:
            self.break_connection(response.fault)
        elif response.handler is not None:
            self.send(*self.call_handler(fake, request, response.handler))
        else:
            self.send(response.status, response.headers, response.body)

    def __getattr__(self, name):
        # Every method goes to serve(), also one no stub can expect
        # (PROPFIND, say): BaseHTTPRequestHandler would answer it with 501
        # itself, unrecorded, and the test would not learn about it.
        if name.startswith('do_'):
            return self.serve
        raise AttributeError(
            f'{type(self).__name__!r} object has no attribute {name!r}')

    def read_body(self):
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b';')[0], 16)
                if not size:
                    while self.rfile.readline().strip():
                        pass  # trailer fields
                    return b''.join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length else b''

    def call_handler(self, fake, request, handler):
        try:
            status, headers, body = handler(request)
            if isinstance(body, str):
                body = body.encode('utf-8')
            elif body is None:
                body = b''
            elif not isinstance(body, bytes):
                raise TypeError(
                    f'The handler must return a body of bytes, str or None,'
                    f' got {body!r}.')
            return int(status), dict(headers or {}), body
        except Exception as error:
            fake.handler_failed(request, error)
            return 500, {'Content-Type': 'text/plain; charset=utf-8'}, (
                ''.join(traceback.format_exception(error)).encode('utf-8'))

    def send(self, status, headers, body):
        self.send_response(status)
        names = set()
        for name, value in headers.items():
            names.add(name.lower())
            self.send_header(name, str(value))
        if 'content-length' not in names:
            self.send_header('Content-Length', str(len(body)))
        if self.close_connection and 'connection' not in names:
            # Without it an HTTP/1.1 client would reuse the connection we
            # are about to close, and its next request would meet a reset.
            self.send_header('Connection', 'close')
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def break_connection(self, fault):
        self.close_connection = True
        if fault == 'reset':
            # Linger 0: closing the socket sends RST instead of FIN.
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        elif fault == 'garbage':
            self.wfile.write(GARBAGE)


def _listing(lines):
    return ''.join(f'\n  {line}' for line in lines)
