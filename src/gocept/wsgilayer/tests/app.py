"""A small real Pyramid application the tests and the benchmark serve."""
import html

import pyramid.config
import pyramid.response


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


def make_app(greeting='Hello from Pyramid', filler=0):
    """Return the app; `filler` adds that many paragraphs to the home page."""
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
