"""HTTP/1.1 request handler that serves a WSGI application.

Used with the httplayer server core, whose `context` is the app.
Keep-alive is the default; the response is sent with a Content-Length,
in one write.
"""
import http.server
import io
import sys
import urllib.parse

import gocept.wsgilayer.errors


# Headers that describe the connection, not the message: the server sets
# them, a WSGI app must not (PEP 3333).
_HOP_BY_HOP = frozenset(['connection', 'keep-alive', 'transfer-encoding'])


class WSGIRequestHandler(http.server.BaseHTTPRequestHandler):
    """Serve `self.server.context` (a WSGI app) over HTTP/1.1."""

    protocol_version = 'HTTP/1.1'
    server_version = 'gocept.wsgilayer'
    sys_version = ''
    # Small responses on a kept-alive connection must not wait for the
    # client's delayed ACK.
    disable_nagle_algorithm = True

    def handle_one_request(self):
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        try:
            self._run_app()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _run_app(self):
        try:
            body = self._read_body()
        except ValueError as e:
            self.send_error(400, str(e))
            self.close_connection = True
            return
        environ = self._environ(body)
        state = {}

        def start_response(status, headers, exc_info=None):
            # The response is sent only once complete, so a later call
            # (with exc_info, PEP 3333) may always replace status and
            # headers.
            state['status'] = status
            state['headers'] = headers
            return state.setdefault('write', []).append

        app = self.server.context
        try:
            result = app(environ, start_response)
            try:
                chunks = [c for c in result if c]
            finally:
                close = getattr(result, 'close', None)
                if close is not None:
                    close()
        except Exception:
            # Like a real server: log and answer 500, the connection lives.
            text = gocept.wsgilayer.errors.format_exception(
                sys.exc_info()[1])
            sys.stderr.write(text)
            self._send(
                '500 Internal Server Error',
                [('Content-Type', 'text/plain; charset=utf-8')],
                [text.encode('utf-8', 'replace')])
            return
        if 'status' not in state:
            self._send('500 Internal Server Error',
                       [('Content-Type', 'text/plain')],
                       [b'The application did not call start_response.'])
            return
        self._send(state['status'], state['headers'],
                   state.get('write', []) + chunks)

    def _send(self, status, headers, chunks):
        """Write status line, headers and body in one send call."""
        lines = [f'{self.protocol_version} {status}']
        names = set()
        for name, value in headers:
            lower = name.lower()
            if lower in _HOP_BY_HOP:
                continue
            names.add(lower)
            lines.append(f'{name}: {value}')
        if 'content-length' not in names:
            lines.append(f'Content-Length: {sum(map(len, chunks))}')
        if 'date' not in names:
            lines.append('Date: ' + self.date_time_string())
        if self.close_connection:
            lines.append('Connection: close')
        head = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
        if self.command == 'HEAD' or status[:3] in ('204', '304'):
            chunks = []
        self.wfile.write(b''.join([head] + chunks))

    def _read_body(self):
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            return self._read_chunked()
        length = self.headers.get('Content-Length')
        if not length:
            return b''
        try:
            length = int(length)
        except ValueError:
            raise ValueError(f'Bad Content-Length: {length!r}') from None
        return self.rfile.read(length)

    def _read_chunked(self):
        parts = []
        while True:
            size_line = self.rfile.readline(65537)
            try:
                size = int(size_line.split(b';')[0], 16)
            except ValueError:
                raise ValueError(f'Bad chunk size: {size_line!r}') from None
            if size == 0:
                # Skip trailers up to the blank line.
                while self.rfile.readline(65537) not in (b'\r\n', b'\n', b''):
                    pass
                return b''.join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(3)

    def _environ(self, body):
        path, _, query = self.path.partition('?')
        if '://' in path:
            # Absolute request target (a proxy-style request line).
            path = urllib.parse.urlsplit(path).path or '/'
        server = self.server
        environ = {
            'wsgi.version': (1, 0),
            'wsgi.url_scheme': (
                'https' if getattr(server, 'ssl_context', None) else 'http'),
            'wsgi.input': io.BytesIO(body),
            'wsgi.input_terminated': True,
            'wsgi.errors': sys.stderr,
            'wsgi.multithread': True,
            'wsgi.multiprocess': False,
            'wsgi.run_once': False,
            'REQUEST_METHOD': self.command,
            'SCRIPT_NAME': '',
            'PATH_INFO': urllib.parse.unquote(path, 'latin-1'),
            'QUERY_STRING': query,
            'SERVER_NAME': str(server.host),
            'SERVER_PORT': str(server.port),
            'SERVER_PROTOCOL': self.request_version,
            'SERVER_SOFTWARE': self.server_version,
            'REMOTE_ADDR': self.client_address[0],
            'CONTENT_LENGTH': str(len(body)) if body else '',
        }
        for name, value in self.headers.items():
            key = name.upper().replace('-', '_')
            if key in ('CONTENT_LENGTH', 'TRANSFER_ENCODING'):
                continue
            if key == 'CONTENT_TYPE':
                environ[key] = value
                continue
            key = 'HTTP_' + key
            if key in environ:
                # Repeated headers are joined, as RFC 9110 allows.
                environ[key] += ',' + value
            else:
                environ[key] = value
        return environ

    def log_message(self, format, *args):
        """Keep test output clean: no access log."""
