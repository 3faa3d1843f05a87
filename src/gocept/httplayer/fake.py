"""FakeServer: a loopback HTTP server answering with stubs."""

import functools
import http.server
import socket
import socketserver
import struct
import threading
import time
import traceback

import gocept.httplayer.errors
import gocept.httplayer.http11
import gocept.httplayer.request
import gocept.httplayer.server
import gocept.httplayer.stub


GARBAGE = b'\x00\xff\xfe this is no HTTP response \x00\r\n\r\n'
# How long a connection refused with an error may still send what it had
# started before we close it (RFC 9112 9.6).
LINGER = 1.0


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
        gocept.httplayer.stub.check_status(no_match_status, 'no_match_status')
        self.no_match_status = no_match_status
        self.handler = handler
        self.server = gocept.httplayer.server.Server(
            watched(handler) if handler else FakeRequestHandler,
            host=host, port=port, ssl_context=ssl_context, context=self)
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
            self.server.hung.clear()

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
                (f'{type(e).__name__}: {e}', e) for e in self.server.errors
            ] + [(text, None) for text in self.server.hung]
            self.server.hung.clear()
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
            raise gocept.httplayer.errors.HandlerError(message) from next(
                (error for _, error in handler_errors if error), None)
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

    def refused(self, client_address, head, error):
        """Record a request the server refused as malformed.

        `head` is its `RequestHead`, None if even that was malformed;
        `error` says why (an `http11.ProtocolError` names the status).
        """
        what = f'{head.method} {head.target}' if head else 'A request'
        status = getattr(error, 'status', None)
        answer = f'answered {status}' if status else 'not answered'
        with self._condition:
            self._unexpected.append((None, (
                f'{what} from {client_address[0]} was malformed,'
                f' {answer}: {error}')))
            self._condition.notify_all()

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


def watched(handler):
    """Return a subclass of `handler` whose ``do_*`` methods run watched.

    They run within ``server.running()``, so a method still running when
    the connections are closed is reported, not waited for.
    """
    namespace = {
        name: _watch(name, getattr(handler, name)) for name in dir(handler)
        if name.startswith('do_') and callable(getattr(handler, name))}
    return type(handler.__name__, (handler,), namespace)


def _watch(name, method):
    @functools.wraps(method)
    def call(self):
        with self.server.running(
                f'{self.command} {self.path}'
                f' ({type(self).__name__}.{name})'):
            return method(self)
    return call


class FakeRequestHandler(socketserver.StreamRequestHandler):
    """Serve requests with the stubs of the `FakeServer` in context.

    Requests are read and responses framed by `gocept.httplayer.http11`,
    which keeps the rules of RFC 9110 and RFC 9112; a request it refuses
    is answered with the status a real server gives and reported.
    """

    server_version = 'gocept.httplayer'

    def handle(self):
        fake = self.server.context
        while True:
            head = None
            try:
                head = gocept.httplayer.http11.read_head(self.rfile)
                if head is None:
                    return
                body = gocept.httplayer.http11.read_body(
                    self.rfile, head, self.connection.sendall)
            except gocept.httplayer.http11.ProtocolError as error:
                fake.refused(self.client_address, head, error)
                self.connection.sendall(
                    gocept.httplayer.http11.error_response(error))
                self.linger()
                return
            except gocept.httplayer.http11.Incomplete as error:
                if head is not None:
                    fake.refused(self.client_address, head, error)
                return
            request = gocept.httplayer.request.Request(
                head.method, head.target, head.headers, body,
                self.client_address, trailers=head.trailers)
            if not self.serve(fake, head, request):
                return

    def serve(self, fake, head, request):
        """Answer `request`; return whether the connection persists."""
        stub, response, text = fake.receive(request)
        if stub is None:
            return self.send(head, fake.no_match_status, [
                ('Content-Type', 'text/plain; charset=utf-8')],
                text.encode('utf-8'))
        if response.delay:
            # The server cuts the delay short when it closes connections.
            self.server.sleep(response.delay)
        if response.fault is not None:
            self.break_connection(response.fault)
            return False
        if response.handler is not None:
            with self.server.running(
                    f'{request.method} {request.target}'
                    f' (handler of stub {stub.describe()})'):
                answer = self.call_handler(fake, request, response.handler)
            return self.send(head, *answer)
        return self.send(head, response.status, response.headers,
                         response.body)

    def call_handler(self, fake, request, handler):
        try:
            return gocept.httplayer.stub.handler_answer(handler(request))
        except Exception as error:
            fake.handler_failed(request, error)
            return 500, [('Content-Type', 'text/plain; charset=utf-8')], (
                ''.join(traceback.format_exception(error)).encode('utf-8'))

    def send(self, head, status, fields, body):
        """Send one response; return whether the connection persists."""
        http11 = gocept.httplayer.http11
        chunked = any(name.lower() == 'transfer-encoding'
                      for name, _ in fields)
        if chunked and head.version == 'HTTP/1.0':
            # RFC 9112 6.1: no Transfer-Encoding to an HTTP/1.0 client;
            # the body is delimited by closing the connection instead.
            fields = [(name, value) for name, value in fields
                      if name.lower() != 'transfer-encoding']
            head.keep_alive = chunked = False
        data, close = http11.response_head(
            status, fields, head, len(body), self.server_version)
        if http11.has_body(head, status):
            if chunked and body:
                data += b'%x\r\n%s\r\n0\r\n\r\n' % (len(body), body)
            elif chunked:
                data += b'0\r\n\r\n'
            else:
                data += body
        self.connection.sendall(data)
        return not close

    def linger(self):
        """Close after an error response without losing it to a reset.

        RFC 9112 9.6: closing with unread request bytes would send RST,
        which can destroy the response before the client read it; close
        the writing side and read what is left first.
        """
        gocept.httplayer.server._shutdown(self.connection, socket.SHUT_WR)
        deadline = time.monotonic() + LINGER
        try:
            while time.monotonic() < deadline:
                self.connection.settimeout(deadline - time.monotonic())
                if not self.connection.recv(65536):
                    break
        except OSError:
            pass

    def break_connection(self, fault):
        if fault == 'reset':
            # Linger 0: closing the socket sends RST instead of FIN.
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        elif fault == 'garbage':
            self.connection.sendall(GARBAGE)


def _listing(lines):
    return ''.join(f'\n  {line}' for line in lines)
