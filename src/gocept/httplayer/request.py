"""The journal entry of one request the fake server received."""

import json as jsonlib
import urllib.parse


class Request:
    """One request as the fake server received it.

    ``method`` and ``path`` are strings, ``query`` a dict of name to value
    (a list of values for a name given more than once), ``headers`` an
    ``http.client.HTTPMessage`` (case-insensitive names), ``body`` bytes.
    ``stub`` is the `Stub` that answered it, None when none matched.
    """

    def __init__(self, method, target, headers, body, client_address):
        self.method = method
        self.target = target
        split = urllib.parse.urlsplit(target)
        self.path = urllib.parse.unquote(split.path)
        self.query_string = split.query
        self.query = parse_query(split.query)
        self.headers = headers
        self.body = body
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
