"""A small real Pyramid application the tests and the benchmark serve.

The tests serve it wrapped in the stdlib's `wsgiref.validate.validator`
(PEP 3333's checker), whose warnings are errors here: every route must
give the app an environ and a server side that pass it.
"""
import html
import http
import json
import warnings
import wsgiref.validate

import pyramid.config
import pyramid.response


warnings.filterwarnings('error', category=wsgiref.validate.WSGIWarning)

# The PATH_INFO of each body iterable of `raw_app` whose close() was called.
CLOSED = []


PAGE = """\
<!DOCTYPE html>
<html>
<head><title>{title}</title></head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""

FORM = """\
<form action="/greet" method="post">
  <label for="name">Name</label>
  <input type="text" id="name" name="name" />
  <input type="submit" id="submit" name="submit" value="Greet" />
</form>
"""


def _page(title, body):
    return pyramid.response.Response(
        PAGE.format(title=html.escape(title), body=body),
        content_type='text/html', charset='utf-8')


def validated(app):
    """`app` behind the stdlib's PEP 3333 validator."""
    return wsgiref.validate.validator(app)


class _Closing:
    """A body iterable that records its close() in `CLOSED`."""

    def __init__(self, path, chunks):
        self.path = path
        self.chunks = chunks

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        CLOSED.append(self.path)


def _fail_before_body(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    raise RuntimeError('The body failed on purpose.')
    yield b''  # pragma: no cover


def raw_app(environ, start_response):
    """Plain WSGI probes under `/raw/`, for what Pyramid would hide.

    /raw/echo, /raw/echo/...
        JSON: the CGI variables (``environ``), the type name of every key
        (``types``) and the body read from ``wsgi.input`` (``body``)
    /raw/status/NNN
        answers NNN with no body (and the `ETag` of ``?etag=``)
    /raw/fail-before-body
        a generator that raises before its first chunk
    /raw/redirect/NNN
        answers NNN with `Location: /raw/echo`
    """
    path = environ['PATH_INFO']
    if path.startswith('/raw/echo'):
        length = int(environ.get('CONTENT_LENGTH') or 0)
        body = environ['wsgi.input'].read(length)
        data = json.dumps({
            'environ': {k: v for k, v in environ.items()
                        if k.isupper() and isinstance(v, str)},
            'types': {k: type(v).__name__ for k, v in environ.items()},
            'body': body.decode('latin-1'),
        }).encode('utf-8')
        start_response('200 OK', [('Content-Type', 'application/json'),
                                  ('Content-Length', str(len(data)))])
        return _Closing(path, [data])
    if path.startswith('/raw/status/'):
        code = int(path.rsplit('/', 1)[1])
        headers = []
        etag = environ['QUERY_STRING'].partition('etag=')[2]
        if etag:
            headers.append(('ETag', f'"{etag}"'))
        if code not in (204, 304):
            headers.append(('Content-Type', 'text/plain'))
        start_response(f'{code} {http.HTTPStatus(code).phrase}', headers)
        return _Closing(path, [])
    if path == '/raw/fail-before-body':
        return _Closing(path, _fail_before_body(environ, start_response))
    if path.startswith('/raw/redirect/'):
        code = int(path.rsplit('/', 1)[1])
        start_response(f'{code} {http.HTTPStatus(code).phrase}',
                       [('Location', '/raw/echo'),
                        ('Content-Type', 'text/plain')])
        return _Closing(path, [b'Moved.'])
    start_response('404 Not Found', [('Content-Type', 'text/plain')])
    return [b'No such probe.']


def make_app(greeting='Hello from Pyramid', filler=0, validate=True):
    """Return the app; `filler` adds that many paragraphs to the home page.

    Paths under `/raw/` go to `raw_app`; with `validate` (the default) the
    whole app is wrapped in `wsgiref.validate.validator`.
    """
    router = _make_router(greeting, filler)

    def app(environ, start_response):
        if environ['PATH_INFO'].startswith('/raw/'):
            return raw_app(environ, start_response)
        return router(environ, start_response)

    return validated(app) if validate else app


def _make_router(greeting, filler):
    def home(request):
        paragraphs = ''.join(
            f'<p>Paragraph {i} of the filler text.</p>\n'
            for i in range(filler))
        return _page(greeting, FORM + paragraphs)

    def greet(request):
        name = request.POST.get('name', '')
        return _page('Greeting', f'<p id="result">{html.escape(greeting)},'
                                 f' {html.escape(name)}!</p>')

    def error(request):
        raise RuntimeError('The app failed on purpose.')

    def set_cookie(request):
        response = _page('Cookie set', '<p>flavour=chocolate</p>')
        response.set_cookie('flavour', 'chocolate')
        return response

    def show_cookies(request):
        cookies = ', '.join(
            f'{k}={v}' for k, v in sorted(request.cookies.items()))
        return _page('Cookies', f'<p id="cookies">{cookies or "none"}</p>')

    def environ(request):
        return {key: str(value) for key, value in request.environ.items()
                if key.isupper()}

    def authorization(request):
        return pyramid.response.Response(
            request.headers.get('Authorization', 'none'),
            content_type='text/plain')

    with pyramid.config.Configurator() as config:
        for name, path, view, renderer in [
                ('home', '/', home, None),
                ('greet', '/greet', greet, None),
                ('error', '/error', error, None),
                ('set_cookie', '/cookie/set', set_cookie, None),
                ('show_cookies', '/cookie/show', show_cookies, None),
                ('environ', '/environ', environ, 'json'),
                ('authorization', '/authorization', authorization, None)]:
            config.add_route(name, path)
            config.add_view(view, route_name=name, renderer=renderer)
        return config.make_wsgi_app()
