"""Stubs: what the fake server expects and how it answers."""

import json as jsonlib
import numbers
import re

import gocept.httplayer.http11
import gocept.httplayer.request


METHODS = frozenset([
    'GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'])
FAULTS = frozenset(['reset', 'close', 'garbage'])


class Response:
    """One answer of a stub; see `Stub.respond()` for the arguments.

    ``headers`` is the list of (name, value) pairs to send, in order.
    """

    def __init__(self, status=200, body=None, json=None, headers=None,
                 delay=0, fault=None, handler=None):
        check_status(status, 'status')
        if body is not None and json is not None:
            raise ValueError(
                'The `body` and `json` arguments exclude each other.')
        if body is not None and not isinstance(body, (bytes, str)):
            raise ValueError(
                f'The `body` argument must be bytes or str, got {body!r}.')
        if not isinstance(delay, numbers.Real) or delay < 0:
            raise ValueError(
                f'The `delay` argument must be a number of seconds >= 0,'
                f' got {delay!r}.')
        if fault is not None and fault not in FAULTS:
            raise ValueError(
                f'The `fault` argument must be one of'
                f' {", ".join(sorted(FAULTS))}, got {fault!r}.')
        if handler is not None and not callable(handler):
            raise ValueError(
                f'The `handler` argument must be callable, got {handler!r}.')
        self.status = status
        self.headers = gocept.httplayer.http11.check_fields(
            headers, 'headers')
        if json is not None:
            self.body = jsonlib.dumps(json).encode('utf-8')
            content_type = 'application/json'
        elif isinstance(body, str):
            self.body = body.encode('utf-8')
            content_type = 'text/plain; charset=utf-8'
        else:
            self.body = body or b''
            content_type = None
        check_no_content(status, self.body, 'status')
        if content_type and not any(
                name.lower() == 'content-type' for name, _ in self.headers):
            self.headers.append(('Content-Type', content_type))
        self.delay = delay
        self.fault = fault
        self.handler = handler


def check_status(status, argument):
    """Raise ValueError unless `status` is a final status code.

    A 1xx status is interim (RFC 9110 15.2): no answer of its own.
    """
    if (not isinstance(status, int) or isinstance(status, bool)
            or not 200 <= status <= 599):
        raise ValueError(
            f'The `{argument}` argument must be an int in 200..599, got'
            f' {status!r}.')


def check_no_content(status, body, argument):
    """Raise ValueError if a 204 or 304 answer would have a body.

    RFC 9110 15.3.5 and 15.4.5: those responses end after the headers.
    """
    if body and status in (204, 304):
        raise ValueError(
            f'The `{argument}` {status} cannot carry a body (RFC 9110'
            f' 15.3.5, 15.4.5), got {body[:80]!r}.')


def handler_answer(result):
    """Return (status, header pairs, body bytes) of what a handler returned.

    Raises TypeError or ValueError, naming the part, for what cannot be
    sent.
    """
    if not isinstance(result, (list, tuple)) or len(result) != 3:
        raise TypeError(
            f'The handler must return (status, headers, body), got'
            f' {result!r}.')
    status, headers, body = result
    check_status(status, 'handler\'s status')
    headers = gocept.httplayer.http11.check_fields(
        headers, 'handler\'s headers')
    if isinstance(body, str):
        body = body.encode('utf-8')
    elif body is None:
        body = b''
    elif not isinstance(body, bytes):
        raise TypeError(
            f'The handler must return a body of bytes, str or None,'
            f' got {body!r}.')
    check_no_content(status, body, 'handler\'s status')
    return status, headers, body


class Stub:
    """A request the fake server expects, made by `FakeServer.expect()`.

    A request matches when every given criterion holds: `method`; `path`
    equal to the request's path, or fully matched by a compiled regular
    expression (both decoded alike by `request.normalize_path()`: escapes
    of reserved characters such as ``%2F`` stay, all others are decoded);
    `query` equal to the request's whole query (a dict; values compared as
    strings, a list for a repeated name);
    `headers` each present with that value (names case-insensitive);
    `json` equal to the decoded body, or with ``json_subset=True`` contained
    in it (every key of an expected dict present with a matching value,
    recursively; other values, lists included, compared equal); `body`
    equal to the raw body.

    `times=None` answers any number of requests. `times=N` answers at most
    N requests, and `check()` reports it as unmet if fewer arrived.
    ``calls`` lists the requests this stub answered.
    """

    def __init__(self, method, path, query=None, headers=None, json=None,
                 json_subset=False, body=None, times=None):
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise ValueError(
                f'The `method` argument must be one of'
                f' {", ".join(sorted(METHODS))}, got {method!r}.')
        if isinstance(path, str):
            if not path.startswith('/') or '?' in path:
                raise ValueError(
                    f'The `path` argument must start with / and have no'
                    f' query (use `query=`), got {path!r}.')
        elif not isinstance(path, re.Pattern):
            raise ValueError(
                f'The `path` argument must be a str or a re.Pattern, got'
                f' {path!r}.')
        if query is not None and not isinstance(query, dict):
            raise ValueError(
                f'The `query` argument must be a dict, got {query!r}.')
        if headers is not None and not isinstance(headers, dict):
            raise ValueError(
                f'The `headers` argument must be a dict, got {headers!r}.')
        if json is not None and body is not None:
            raise ValueError(
                'The `json` and `body` arguments exclude each other.')
        if json_subset and json is None:
            raise ValueError('The `json_subset` argument needs `json=`.')
        if body is not None and not isinstance(body, (bytes, str)):
            raise ValueError(
                f'The `body` argument must be bytes or str, got {body!r}.')
        if times is not None and (
                not isinstance(times, int) or isinstance(times, bool)
                or times < 1):
            raise ValueError(
                f'The `times` argument must be None or an int >= 1, got'
                f' {times!r}.')
        self.method = method.upper()
        self.path = path
        self._path = path if isinstance(path, re.Pattern) else (
            gocept.httplayer.request.normalize_path(path))
        self.query = None if query is None else {
            name: _query_value(value) for name, value in query.items()}
        self.headers = headers
        self.json = json
        self.json_subset = json_subset
        self.body = body.encode('utf-8') if isinstance(body, str) else body
        self.times = times
        self.calls = []
        self.responses = [Response()]

    def respond(self, status=200, body=None, json=None, headers=None,
                delay=0, fault=None, handler=None):
        """Set the answer; returns the stub, so ``.then()`` can follow.

        `body` (bytes or str) or `json` (any JSON-serializable value) is the
        response body (none for 204 and 304). `headers` are extra header
        fields: a dict (a list value sends one field a value) or a list of
        (name, value) pairs, sent once a pair and in order, so Set-Cookie
        may repeat; ValueError for what cannot be sent as it is. Date,
        Server, Content-Length and Connection are added as RFC 9110 and
        RFC 9112 say, unless given. `delay` seconds
        pass before the answer (stopping the server cuts them short).
        `fault` answers with a broken connection instead: 'reset' (TCP RST),
        'close' (closed without a response) or 'garbage' (bytes that are
        no HTTP). `handler` is a callable taking the `Request` and returning
        ``(status, headers, body)``; an exception it raises is answered with
        status 500 and reported by `check()`.
        """
        self.responses = [Response(
            status, body, json, headers, delay, fault, handler)]
        return self

    def then(self, status=200, body=None, json=None, headers=None,
             delay=0, fault=None, handler=None):
        """Add the answer to the next request; the last one repeats."""
        self.responses.append(Response(
            status, body, json, headers, delay, fault, handler))
        return self

    def response_for_call(self, number):
        """Return the answer to the stub's `number`-th request (from 1)."""
        return self.responses[min(number, len(self.responses)) - 1]

    @property
    def exhausted(self):
        return self.times is not None and len(self.calls) >= self.times

    @property
    def unmet(self):
        return self.times is not None and len(self.calls) < self.times

    def mismatches(self, request):
        """Return why `request` does not match, an empty list if it does."""
        reasons = []
        if request.method != self.method:
            reasons.append(f'method {request.method} is not {self.method}')
        if not self._path_matches(request.path):
            reasons.append(f'path {request.path} does not match')
        if self.query is not None and request.query != self.query:
            reasons.append(f'query {request.query!r} is not {self.query!r}')
        for name, value in (self.headers or {}).items():
            got = request.headers.get_all(name) or []
            if str(value) not in got:
                reasons.append(
                    f'header {name} is {", ".join(got) or "missing"},'
                    f' not {value}')
        if self.json is not None:
            reasons.extend(self._json_mismatches(request))
        if self.body is not None and request.body != self.body:
            reasons.append(f'body {request.body[:80]!r} is not'
                           f' {self.body[:80]!r}')
        if not reasons and self.exhausted:
            reasons.append(f'already answered {len(self.calls)} times')
        return reasons

    def _path_matches(self, path):
        if isinstance(self._path, re.Pattern):
            return self._path.fullmatch(path) is not None
        return self._path == path

    def _json_mismatches(self, request):
        try:
            got = request.json()
        except ValueError:
            return [f'body {request.body[:80]!r} is not JSON']
        if self.json_subset:
            if not json_contains(got, self.json):
                return [f'JSON {got!r} does not contain {self.json!r}']
        elif got != self.json:
            return [f'JSON {got!r} is not {self.json!r}']
        return []

    def describe(self):
        """Return a one-line description of what the stub matches."""
        path = self.path
        if isinstance(path, re.Pattern):
            path = f're {path.pattern!r}'
        text = f'{self.method} {path}'
        for name in ('query', 'headers', 'json', 'body'):
            value = getattr(self, name)
            if value is not None:
                text += f' {name}={value!r}'
        if self.json_subset:
            text += ' json_subset=True'
        if self.times is not None:
            text += f' times={self.times}'
        return text

    def __repr__(self):
        return f'<Stub {self.describe()}>'


def json_contains(actual, expected):
    """Tell whether `expected` is contained in `actual`; see `Stub`."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            name in actual and json_contains(actual[name], value)
            for name, value in expected.items())
    return actual == expected


def nearest(stubs, request):
    """Return (stub, reasons) of the stub closest to matching `request`.

    A stub for the same path is nearer than one for the same method only;
    among those, the one with fewer differences. None if there is no stub.
    """
    best = None
    for stub in stubs:
        reasons = stub.mismatches(request)
        key = (not stub._path_matches(request.path), len(reasons))
        if best is None or key < best[0]:
            best = (key, stub, reasons)
    if best is None:
        return None, []
    return best[1], best[2]


def _query_value(value):
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return str(value)
