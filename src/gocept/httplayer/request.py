"""The journal entry of one request the fake server received."""

import http.client
import json as jsonlib
import re
import urllib.parse


# RFC 3986 2.2: reserved characters mean something in a URI when literal,
# so their escapes must stay escapes; so must the escape of "%" itself.
RESERVED = frozenset(b":/?#[]@!$&'()*+,;=%")
ESCAPES = re.compile(r'(?:%[0-9A-Fa-f]{2})+')


class Request:
    """One request as the fake server received it.

    ``method`` and ``path`` are strings, ``query`` a dict of name to value
    (a list of values for a name given more than once), ``headers`` and
    ``trailers`` (the trailer fields of a chunked body) are
    ``http.client.HTTPMessage`` objects (case-insensitive names), ``body``
    bytes (de-chunked). ``stub`` is the `Stub` that answered it, None when
    none matched. ``path`` is decoded by `normalize_path()`.
    """

    def __init__(self, method, target, headers, body, client_address,
                 trailers=None):
        self.method = method
        self.target = target
        split = urllib.parse.urlsplit(target)
        self.path = normalize_path(split.path)
        self.query_string = split.query
        self.query = parse_query(split.query)
        self.headers = headers
        self.body = body
        self.trailers = (
            trailers if trailers is not None else http.client.HTTPMessage())
        self.client_address = client_address
        self.stub = None

    def json(self):
        """Return the body decoded as JSON; ValueError if it is not."""
        return jsonlib.loads(self.body)

    def __repr__(self):
        return f'<Request {self.method} {self.target}>'

    def describe(self):
        """Return method and target, plus the body's start if there is one."""
        text = f'{self.method} {self.target}'
        if self.body:
            body = self.body[:80]
            more = '...' if len(self.body) > 80 else ''
            text += f' body={body!r}{more}'
        return text


def parse_query(query_string):
    """Return a query string as a dict; repeated names map to a list."""
    query = {}
    for name, value in urllib.parse.parse_qsl(
            query_string, keep_blank_values=True):
        if name in query:
            if not isinstance(query[name], list):
                query[name] = [query[name]]
            query[name].append(value)
        else:
            query[name] = value
    return query


def normalize_path(path):
    """Return `path` with the escapes decoded that do not change its meaning.

    RFC 3986 6.2.2: escapes of reserved characters (and of "%") stay, in
    upper case (``/a%2fb`` is ``/a%2Fb``, one segment); every other escape
    is decoded: unreserved characters (``%7E`` is ``~``), non-ASCII UTF-8
    (``%C3%A4`` is ``ä``) and characters that cannot appear unescaped
    (``%20`` is a space). Invalid UTF-8 stays escaped.
    """
    if '%' not in path:
        return path
    return ESCAPES.sub(_decode_escapes, path)


def _decode_escapes(match):
    raw = bytes.fromhex(match.group().replace('%', ''))
    parts = []
    start = 0
    for index, byte in enumerate(raw):
        if byte in RESERVED:
            parts.append(_decode_utf8(raw[start:index]))
            parts.append(f'%{byte:02X}')
            start = index + 1
    parts.append(_decode_utf8(raw[start:]))
    return ''.join(parts)


def _decode_utf8(raw):
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError:
        return ''.join(f'%{byte:02X}' for byte in raw)
