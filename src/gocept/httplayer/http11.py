"""HTTP/1.1 message framing on the server side (RFC 9110, RFC 9112).

The rules for reading a request and for framing a response live here in
one place, each with the section it comes from, so that the fake server
keeps them structurally rather than case by case. It is small and
stdlib-only on purpose: h11 keeps the same rules, but takes about four
times as long per request as this module and twice as long as
http.server (``bin/python bench/httplayer.py``, (d)), and a fake server's
new-connection rate is one of the things it is chosen for.
"""

import email.utils
import http
import http.client
import re
import time


# RFC 9112 3 and 5: we answer 414 for a longer request line and 431 for a
# longer header section or more fields; http.server and waitress use the
# same 64 KiB line limit.
MAX_LINE = 65536
MAX_HEADER_SECTION = 65536
MAX_FIELDS = 100
# A body the fake server is willing to hold in memory (RFC 9110 15.5.14).
MAX_BODY = 1 << 30

# RFC 9110 5.6.2: token = 1*tchar
TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
TOKEN_STR = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# RFC 9112 2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT
VERSION = re.compile(rb'HTTP/([0-9])\.([0-9])\Z')
HEXDIGITS = re.compile(rb'[0-9A-Fa-f]+\Z')
DIGITS = re.compile(r'[0-9]+\Z')
# RFC 9110 5.5: CR, LF and NUL are invalid in a field value.
INVALID_IN_VALUE = re.compile(r'[\r\n\x00]')
OWS = b' \t'
CONTINUE = b'HTTP/1.1 100 Continue\r\n\r\n'
# The first byte of a TLS connection: a handshake record.
TLS_HANDSHAKE = b'\x16'


class ProtocolError(Exception):
    """A request a server must answer with an error `status`.

    ``status`` is the int status code, ``str(error)`` says what was wrong.
    """

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Incomplete(ConnectionError):
    """The client closed its side before the request was complete."""


class RequestHead:
    """The request line and header section of one request.

    ``method``, ``target`` (as sent, decoded as latin-1) and ``version``
    (``'HTTP/1.1'``) are str; ``headers`` and, after `read_body()`,
    ``trailers`` are ``http.client.HTTPMessage`` objects. ``keep_alive``
    tells whether the connection persists (RFC 9112 9.3),
    ``expects_continue`` whether the client waits for ``100 Continue``
    (RFC 9110 10.1.1), ``length`` is the body length in bytes or None for
    a chunked body (RFC 9112 6.3).
    """

    def __init__(self, method, target, version, headers):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.trailers = http.client.HTTPMessage()
        self.keep_alive = True
        self.expects_continue = False
        self.length = 0


def read_head(rfile):
    """Read a request head from `rfile`; None if it ends before one.

    Raises `ProtocolError` for a request a server must refuse and
    `Incomplete` when the stream ends within the head.
    """
    first = rfile.peek(1)[:1]
    if first == TLS_HANDSHAKE:
        # Waiting for the end of the line would hang both sides: the
        # client waits for the server's handshake.
        raise ProtocolError(
            400, 'A TLS handshake reached a plain HTTP server; use http://.')
    line = rfile.readline(MAX_LINE + 1)
    if line in (b'\r\n', b'\n'):
        # RFC 9112 2.2: ignore at least one empty line before a request.
        line = rfile.readline(MAX_LINE + 1)
    if not line:
        return None
    if len(line) > MAX_LINE:
        raise ProtocolError(414, 'The request line is longer than 64 KiB.')
    if not line.endswith(b'\n'):
        raise Incomplete('The connection ended within the request line.')
    method, target, version = _request_line(line)
    fields = {}
    head = RequestHead(method, target, version, _fields(rfile, fields))
    _check_head(head, fields)
    return head


def _request_line(line):
    # RFC 9112 3: method SP request-target SP HTTP-version, single spaces.
    parts = line.rstrip(b'\r\n').split(b' ')
    if len(parts) != 3 or not TOKEN.match(parts[0]) or not parts[1] or (
            re.search(rb'[\x00-\x20\x7f]', parts[1])):
        raise ProtocolError(
            400, f'Bad request line {line[:200]!r} (RFC 9112 3).')
    match = VERSION.match(parts[2])
    if match is None:
        raise ProtocolError(
            400, f'Bad HTTP version {parts[2][:20]!r} (RFC 9112 2.3).')
    if match.group(1) != b'1':
        raise ProtocolError(
            505, f'HTTP version {parts[2].decode("ascii")} is not supported'
            f' here; use HTTP/1.1 (RFC 9110 15.6.6).')
    # RFC 9110 2.5: a higher minor version is served as the highest we
    # implement.
    version = 'HTTP/1.0' if match.group(2) == b'0' else 'HTTP/1.1'
    return parts[0].decode('ascii'), parts[1].decode('latin-1'), version


def _fields(rfile, index=None, limit=MAX_HEADER_SECTION):
    """Read a field section (headers or trailers) up to the empty line.

    Return an HTTPMessage; `index` (a dict) also gets each lowercased
    name's list of values, which is quicker to ask than the message.
    """
    if index is None:
        index = {}
    message = http.client.HTTPMessage()
    name = value = None
    size = count = 0
    while True:
        line = rfile.readline(MAX_LINE + 1)
        size += len(line)
        if size > limit or len(line) > MAX_LINE:
            raise ProtocolError(
                431, 'The header section is larger than 64 KiB.')
        if not line.endswith(b'\n'):
            raise Incomplete('The connection ended within the headers.')
        line = line.rstrip(b'\r\n')
        if line[:1] in (b' ', b'\t'):
            if name is None:
                # RFC 9112 2.2: whitespace between the start-line and the
                # first field.
                raise ProtocolError(
                    400, 'Whitespace before the first header field'
                    ' (RFC 9112 2.2).')
            # RFC 9112 5.2: replace obs-fold with SP.
            value += ' ' + line.strip(OWS).decode('latin-1')
            continue
        if name is not None:
            _add(message, name, value)
            index.setdefault(name.lower(), []).append(value)
        if not line:
            return message
        count += 1
        if count > MAX_FIELDS:
            raise ProtocolError(
                431, f'More than {MAX_FIELDS} header fields.')
        raw_name, colon, raw_value = line.partition(b':')
        if not colon or not TOKEN.match(raw_name):
            # RFC 9112 5.1: no whitespace between name and colon.
            raise ProtocolError(
                400, f'Bad header field {line[:200]!r} (RFC 9112 5.1).')
        name = raw_name.decode('ascii')
        value = raw_value.strip(OWS).decode('latin-1')


def _add(message, name, value):
    if INVALID_IN_VALUE.search(value):
        raise ProtocolError(
            400, f'Header field {name} has CR, LF or NUL in its value'
            f' (RFC 9110 5.5).')
    message[name] = value


def _check_head(head, fields):
    hosts = fields.get('host', [])
    if len(hosts) > 1 or (head.version == 'HTTP/1.1' and not hosts):
        raise ProtocolError(
            400, f'An HTTP/1.1 request needs exactly one Host header field,'
            f' got {len(hosts)} (RFC 9112 3.2).')
    options = _tokens(fields.get('connection'))
    if 'close' in options:
        head.keep_alive = False
    else:
        # RFC 9112 9.3: HTTP/1.0 persists only with "keep-alive".
        head.keep_alive = (
            head.version == 'HTTP/1.1' or 'keep-alive' in options)
    codings = _tokens(fields.get('transfer-encoding'))
    lengths = fields.get('content-length')
    if codings:
        _check_codings(head, codings, lengths)
        head.length = None
    elif lengths:
        head.length = _content_length(lengths)
    expect = _tokens(fields.get('expect'))
    if expect:
        if expect != ['100-continue']:
            raise ProtocolError(
                417, f'Cannot meet the expectation'
                f' {", ".join(expect)!r} (RFC 9110 10.1.1).')
        # RFC 9110 10.1.1: ignore it from an HTTP/1.0 client.
        head.expects_continue = head.version == 'HTTP/1.1'


def _check_codings(head, codings, lengths):
    head.keep_alive = head.keep_alive and not lengths
    if head.version == 'HTTP/1.0':
        raise ProtocolError(
            400, 'Transfer-Encoding in an HTTP/1.0 request (RFC 9112 6.1).')
    if lengths:
        # RFC 9112 6.1 and 6.3: a request smuggling pattern; a server may
        # reject it and must close the connection.
        raise ProtocolError(
            400, 'Both Transfer-Encoding and Content-Length'
            ' (RFC 9112 6.1).')
    if codings[-1] != 'chunked' or codings.count('chunked') > 1:
        # RFC 9112 6.3: chunked must be the final coding, applied once.
        raise ProtocolError(
            400, f'Transfer-Encoding {", ".join(codings)} does not end in'
            f' chunked once (RFC 9112 6.3).')
    if len(codings) > 1:
        raise ProtocolError(
            501, f'Transfer-Encoding {", ".join(codings)}: only chunked is'
            f' implemented (RFC 9112 6.1).')


def _content_length(lengths):
    # RFC 9110 8.6: a list of identical values may be taken as one; any
    # other list is an unrecoverable framing error (RFC 9112 6.3).
    members = {member.strip() for value in lengths
               for member in value.split(',')}
    if len(members) != 1 or not DIGITS.match(next(iter(members))):
        raise ProtocolError(
            400, f'Bad Content-Length {", ".join(lengths)!r}'
            f' (RFC 9112 6.3).')
    length = int(members.pop())
    if length > MAX_BODY:
        raise ProtocolError(413, f'A body of {length} bytes is too large.')
    return length


def _tokens(values):
    """Return the lowercased members of comma-separated field values."""
    tokens = [token.strip().lower() for value in values or ()
              for token in value.split(',')]
    return [token for token in tokens if token]


def read_body(rfile, head, write=None):
    """Return the body of the request `head` introduces, as bytes.

    Sends ``100 Continue`` with `write` first when the client waits for it
    (RFC 9110 10.1.1). A chunked body is decoded and its trailer fields go
    to ``head.trailers`` (RFC 9112 7.1). Raises `ProtocolError` for bad
    chunk framing and `Incomplete` when the stream ends within the body.
    """
    if head.length == 0:
        return b''
    if head.expects_continue and write is not None:
        write(CONTINUE)
    if head.length is not None:
        body = rfile.read(head.length)
        if len(body) < head.length:
            raise Incomplete(
                f'The connection ended after {len(body)} of'
                f' {head.length} bytes of the body (Content-Length).')
        return body
    return _read_chunked(rfile, head)


def _read_chunked(rfile, head):
    chunks = []
    total = 0
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if not line.endswith(b'\n'):
            raise Incomplete('The connection ended within a chunked body.')
        # RFC 9112 7.1: chunk-size [ chunk-ext ] CRLF; extensions ignored.
        size = line.split(b';', 1)[0].strip(OWS + b'\r\n')
        if not HEXDIGITS.match(size):
            raise ProtocolError(
                400, f'Bad chunk size line {line[:100]!r} (RFC 9112 7.1).')
        size = int(size, 16)
        total += size
        if total > MAX_BODY:
            raise ProtocolError(413, 'The chunked body is too large.')
        if not size:
            head.trailers = _fields(rfile)
            return b''.join(chunks)
        chunk = rfile.read(size)
        if len(chunk) < size:
            raise Incomplete('The connection ended within a chunk.')
        chunks.append(chunk)
        if rfile.readline(3) not in (b'\r\n', b'\n'):
            raise ProtocolError(
                400, 'A chunk is longer than its size says (RFC 9112 7.1).')


def error_response(error):
    """Return the bytes answering a `ProtocolError`; the server closes."""
    body = f'{error.status} {_reason(error.status)}: {error}\n'.encode(
        'utf-8')
    return (
        f'HTTP/1.1 {error.status} {_reason(error.status)}\r\n'
        f'Date: {http_date()}\r\n'
        f'Content-Type: text/plain; charset=utf-8\r\n'
        f'Content-Length: {len(body)}\r\n'
        f'Connection: close\r\n\r\n').encode('latin-1') + body


def has_body(head, status):
    """Tell whether a response of `status` to `head` carries content.

    RFC 9110 9.3.2 (HEAD), 15.2 (1xx), 15.3.5 (204), 15.4.5 (304).
    """
    return not (head.method == 'HEAD' or status < 200
                or status in (204, 304))


def response_head(status, fields, head, length, server):
    """Return (bytes of the response head, whether to close afterwards).

    `fields` is a list of (name, value) str pairs sent as they are, once a
    pair and in order (RFC 9110 5.3), `head` the `RequestHead` answered,
    `length` the body length in bytes (for HEAD: the length a GET would
    get), `server` the Server field's value. Added unless given: Date
    (RFC 9110 6.6.1), Server, Content-Length (never for 1xx and 204, nor
    invented for 304: RFC 9110 8.6), and Connection: close when the
    connection ends after this response (RFC 9112 9.6) or keep-alive for
    a persistent HTTP/1.0 connection (RFC 9112 9.3).
    """
    names = {name.lower() for name, _ in fields}
    close = not head.keep_alive or 'close' in _tokens(
        [value for name, value in fields if name.lower() == 'connection'])
    lines = [f'HTTP/1.1 {status} {_reason(status)}']
    lines.extend(f'{name}: {value}' for name, value in fields)
    if 'date' not in names:
        lines.append(f'Date: {http_date()}')
    if 'server' not in names:
        lines.append(f'Server: {server}')
    if 'content-length' not in names and 'transfer-encoding' not in names \
            and status >= 200 and status not in (204, 304):
        lines.append(f'Content-Length: {length}')
    if 'connection' not in names:
        if close:
            lines.append('Connection: close')
        elif head.version == 'HTTP/1.0':
            lines.append('Connection: keep-alive')
    lines.append('\r\n')
    return '\r\n'.join(lines).encode('latin-1'), close


def _reason(status):
    # RFC 9112 4: the reason phrase may be empty.
    return REASONS.get(status, '')


REASONS = {status.value: status.phrase for status in http.HTTPStatus}


_date = [0, '']


def http_date():
    """Return the current time as an IMF-fixdate (RFC 9110 5.6.7)."""
    now = int(time.time())
    if _date[0] != now:
        _date[:] = [now, email.utils.formatdate(now, usegmt=True)]
    return _date[1]


def check_fields(fields, argument):
    """Return `fields` as a list of (name, value) str pairs to send.

    `fields` is a dict, a list of pairs or an ``http.client.HTTPMessage``;
    a list or tuple value gives one field line per item (Set-Cookie, say,
    RFC 9110 5.3). Values may be str or int. Raises ValueError naming
    `argument` for anything that cannot be sent as it is.
    """
    if fields is None:
        return []
    if hasattr(fields, 'items'):
        items = list(fields.items())
    elif isinstance(fields, (list, tuple)):
        items = list(fields)
    else:
        raise ValueError(
            f'The `{argument}` argument must be a dict or a list of'
            f' (name, value) pairs, got {fields!r}.')
    result = []
    for item in items:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ValueError(
                f'The `{argument}` argument must hold (name, value) pairs,'
                f' got {item!r}.')
        name, value = item
        if not isinstance(name, str) or not TOKEN_STR.match(name):
            raise ValueError(
                f'The `{argument}` argument has a bad header name {name!r}'
                f' (RFC 9110 5.1: a token).')
        values = value if isinstance(value, (list, tuple)) else [value]
        for one in values:
            result.append((name, _field_value(name, one, argument)))
    return result


def _field_value(name, value, argument):
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(
            f'The `{argument}` argument has a value for {name} that is'
            f' neither str nor int (nor a list of them): {value!r}.')
    text = str(value)
    if INVALID_IN_VALUE.search(text):
        raise ValueError(
            f'The `{argument}` argument has CR, LF or NUL in the value of'
            f' {name}: {text!r} (RFC 9110 5.5).')
    try:
        text.encode('latin-1')
    except UnicodeEncodeError:
        raise ValueError(
            f'The `{argument}` argument has a value for {name} that is not'
            f' latin-1; percent-encode it: {text!r} (RFC 9110 5.5).'
        ) from None
    return text
