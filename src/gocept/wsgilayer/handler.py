"""HTTP/1.1 connections serving a WSGI application (PEP 3333).

gocept.httplayer's RFC 9112 parser (`gocept.httplayer.http11`, the one
the fake server uses) reads the requests, so a malformed one gets the
status a real server gives; the response is written here, streamed as the
app yields it. The same `Connection` serves a socket of the loopback
server (`WSGIRequestHandler`) and the bytes an intercepted client wrote
(`respond_in_process`), so every route builds the same environ and frames
the response the same way.
"""
import contextlib
import email.utils
import io
import socket
import sys
import time

import gocept.httplayer.http11
import gocept.wsgilayer.environ
import gocept.wsgilayer.errors


http11 = gocept.httplayer.http11
RECEIVE_SIZE = 65536
# After refusing a request, how long and how much of the rest of it to read
# and discard before closing (see `_linger`).
LINGER_SECONDS = 2.0
LINGER_BYTES = 1 << 22

# Headers that describe the connection, not the message: the server sets
# them, a WSGI app must not (PEP 3333, RFC 9110 7.6.1).
_HOP_BY_HOP = frozenset([
    'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
    'te', 'trailer', 'transfer-encoding', 'upgrade'])


class _Gone(Exception):
    """The client went away while the response was being sent."""


class _Date:
    """The Date field value (RFC 9110 6.6.1), formatted once a second."""

    second = None
    value = None

    def __call__(self):
        now = int(time.time())
        if now != self.second:
            self.value = email.utils.formatdate(now, usegmt=True)
            self.second = now
        return self.value


_date = _Date()


class Connection:
    """Serve the requests read from `rfile` with `app`.

    `rfile` is a buffered binary stream (``socket.makefile('rb')``),
    `send(bytes)` writes. `running(description)` returns a context manager
    the app runs in (the server core's, which reports an app still running
    at the end of a test instead of waiting for it). `refused()` is called
    after a malformed request was answered, before the connection closes.
    """

    def __init__(self, app, rfile, send, *, server_name, server_port,
                 remote_addr, url_scheme='http', multithread=True,
                 running=lambda description: contextlib.nullcontext(),
                 keep_alive=True, refused=lambda: None):
        self.app = app
        self.rfile = rfile
        self.send = send
        self.keep_alive = keep_alive
        self.refused = refused
        self.environ_args = dict(
            server_name=server_name, server_port=server_port,
            remote_addr=remote_addr, url_scheme=url_scheme,
            multithread=multithread)
        self.running = running

    def serve(self):
        while True:
            try:
                head = http11.read_head(self.rfile)
                if head is None:
                    return
                # Sends 100 Continue at once if the client waits for it
                # (RFC 9110 10.1.1).
                body = http11.read_body(self.rfile, head, write=self.send)
            except http11.ProtocolError as error:
                self.send(http11.error_response(error))
                self.refused()
                return
            except http11.Incomplete:
                return
            try:
                if not self._respond(head, body):
                    return
            except _Gone:
                return

    def _send_response(self, data):
        try:
            self.send(data)
        except OSError as error:
            raise _Gone() from error

    def _respond(self, head, body):
        """Run the app for `head`; return whether to keep alive."""
        environ = gocept.wsgilayer.environ.build(
            head, body, **self.environ_args)
        response = _Response(self._send_response, head, self.keep_alive)
        with self.running(f'{head.method} {head.target} (WSGI app)'):
            response.run(self.app, environ)
        return response.keep_alive


class _Response:
    """One response: start_response, write and the app's iterable."""

    def __init__(self, send, head, keep_alive):
        self._send = send
        self.status = self.headers = None
        self.head_sent = False
        self.http_1_0 = head.version == 'HTTP/1.0'
        # An HTTP/1.0 connection is closed after each response, even when
        # the client asked to keep it (simpler, and allowed: RFC 9112 9.3).
        self.keep_alive = (
            keep_alive and head.keep_alive and not self.http_1_0)
        self.is_head = head.method == 'HEAD'
        self.has_body = True
        self.length = None  # the Content-Length the app set
        self.chunked = False
        self.sent = 0

    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError(
                'start_response() called a second time without exc_info'
                ' (PEP 3333).')
        self.status, self.headers = status, headers
        return self.write

    def run(self, app, environ):
        result = None
        try:
            result = app(environ, self.start_response)
            if isinstance(result, (list, tuple)) and not self.head_sent:
                # The whole body is known: send it with its length.
                self._send_all([chunk for chunk in result if chunk])
                return
            for chunk in result:
                if chunk:
                    self.write(chunk)
                    if not self.has_body:
                        break
            if not self.head_sent:
                self._send_all([])
            else:
                self._end()
        except Exception as error:
            self._failed(error)
        finally:
            close = getattr(result, 'close', None)
            if close is not None:
                close()

    def _failed(self, error):
        """Answer 500 like a real server; log the traceback to stderr."""
        if isinstance(error, _Gone):
            raise error
        text = gocept.wsgilayer.errors.format_exception(error)
        sys.stderr.write(text)
        self.keep_alive = False
        if self.head_sent:
            # Too late for a status: cut the response short, so the
            # client sees it is incomplete.
            return
        body = text.encode('utf-8', 'replace')
        self.status = '500 Internal Server Error'
        self.headers = [('Content-Type', 'text/plain; charset=utf-8')]
        self._send_all([body])

    def write(self, data):
        """PEP 3333's write(): send `data` now (the head first)."""
        if not self.head_sent:
            self._send_head(None, data)
            return
        self._send_body(data)

    def _send_all(self, chunks):
        self._send_head(sum(map(len, chunks)), b''.join(chunks))
        self._end()

    def _send_head(self, total, first):
        """Send the head and `first` body bytes.

        `total` is the body's length when known (all of it is `first`),
        None while streaming. Framing is added only where RFC 9110 8.6
        and RFC 9112 6 ask for it: never to 1xx, 204 and 304, nor to a
        HEAD response the app did not frame itself.
        """
        if self.status is None:
            raise AssertionError(
                'The application did not call start_response() (PEP 3333).')
        status = self.status
        code = int(status[:3])
        self.length = None
        lines = [f'HTTP/1.1 {status}']
        names = set()
        for name, value in self.headers:
            lower = name.lower()
            if '\n' in value or '\r' in value or '\n' in name:
                raise ValueError(
                    f'The header {name!r} has a line break in its name or'
                    f' value {value!r} (PEP 3333, RFC 9110 5.5).')
            if lower in _HOP_BY_HOP:
                if lower == 'connection' and 'close' in value.lower():
                    self.keep_alive = False
                continue
            if lower == 'content-length':
                self.length = int(value)
            names.add(lower)
            lines.append(f'{name}: {value}')
        no_body_status = code < 200 or code in (204, 304)
        self.has_body = not (no_body_status or self.is_head)
        if no_body_status and code < 200:
            # A final response must follow an interim one, but the app
            # has finished: the client must not wait for it.
            self.keep_alive = False
        if self.has_body and self.length is None:
            if total is not None:
                lines.append(f'Content-Length: {total}')
                self.length = total
            elif self.http_1_0:
                self.keep_alive = False  # the end of the body is the close
            else:
                lines.append('Transfer-Encoding: chunked')
                self.chunked = True
        if 'date' not in names:
            lines.append(f'Date: {_date()}')
        if not self.keep_alive:
            lines.append('Connection: close')
        head = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
        self.head_sent = True
        self._send_body(first, head)

    def _send_body(self, data, head=b''):
        if not self.has_body or not data:
            if head:
                self._send(head)
            return
        if self.chunked:
            data = b'%x\r\n%s\r\n' % (len(data), data)
        elif self.length is not None:
            room = self.length - self.sent
            if len(data) > room:
                # More than the app's Content-Length: the rest would be
                # read as the next response.
                data = data[:room]
                self.keep_alive = False
            self.sent += len(data)
        self._send(head + data)

    def _end(self):
        if self.chunked:
            self._send(b'0\r\n\r\n')
        elif (self.has_body and self.length is not None
              and self.sent < self.length):
            # Shorter than its Content-Length: only closing tells the
            # client the response is incomplete (RFC 9112 8).
            self.keep_alive = False


class WSGIRequestHandler:
    """Serve the WSGI app `server.context` on one connection.

    Instantiated by gocept.httplayer's server core like a socketserver
    handler, as ``WSGIRequestHandler(socket, client_address, server)``.
    """

    def __init__(self, request, client_address, server):
        with request.makefile('rb') as rfile:
            self._serve(request, rfile, client_address, server)

    def _serve(self, request, rfile, client_address, server):
        Connection(
            server.context, rfile, request.sendall,
            refused=lambda: _linger(request),
            server_name=str(server.host), server_port=server.port,
            remote_addr=client_address[0],
            url_scheme=('https' if getattr(server, 'ssl_context', None)
                        else 'http'),
            running=server.running).serve()


def _linger(sock):
    """Close the sending side, then read and drop what the client still
    sends, for a while.

    Closing a socket with unread input makes the kernel send a reset,
    which can destroy the error response before the client read it; so
    the server closes in stages (RFC 9112 9.6), as waitress and Apache
    do.
    """
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(LINGER_SECONDS)
        deadline = time.monotonic() + LINGER_SECONDS
        drained = 0
        while drained < LINGER_BYTES and time.monotonic() < deadline:
            data = sock.recv(RECEIVE_SIZE)
            if not data:
                break
            drained += len(data)
    except OSError:
        pass


def respond_in_process(app, request, host, port):
    """Answer the request bytes `request` with `app`; return the response.

    The connection is closed after one response (``Connection: close``),
    so a client sends its next request on a new (fake) socket.
    """
    output = []
    Connection(
        app, io.BufferedReader(io.BytesIO(request)), output.append,
        server_name=host, server_port=port, remote_addr='127.0.0.1',
        multithread=False, keep_alive=False).serve()
    return b''.join(output)
