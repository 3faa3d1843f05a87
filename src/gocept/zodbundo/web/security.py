"""Who may use the pages: Host header, password, token; as a Pyramid tween.

Checked on every request, in this order (then, with commits not allowed,
every request but GET and HEAD is refused with 403):

1. The Host header names the address the server listens on (else 403):
   a page of another site whose name resolves to 127.0.0.1 (DNS
   rebinding) cannot read or use ours. A POST whose Origin header names
   another site is refused alike.
2. With a password file: HTTP basic auth (RFC 7617) with one of its
   `user:password` lines (else 401).
3. The secret token, as Jupyter does it: `?token=...` in the URL the
   command printed sets an HttpOnly, SameSite=Strict cookie and redirects
   to the same URL without the token; later requests carry the cookie
   (else 403).
"""
import base64
import binascii
import hmac
import os
import stat
import urllib.parse

import pyramid.httpexceptions
import pyramid.response


TOKEN_PARAMETER = 'token'


class Access:
    """What the tween checks; `settings['zodbundo.access']`.

    `token`: the secret (text); `hosts`: the Host header values allowed
    (e.g. `{'127.0.0.1:8080', 'localhost:8080'}`); `credentials`: None or
    {user: password}; `cookie_name`: where the token is kept (one name a
    port, since cookies are shared by every port of a host).
    """

    def __init__(self, token, hosts, credentials=None,
                 cookie_name='zodbundo_token'):
        if not token:
            raise ValueError('The `token` argument must be a non-empty'
                             ' secret.')
        self.token = token
        self.hosts = {h.lower() for h in hosts}
        self.credentials = credentials
        self.cookie_name = cookie_name

    def host_allowed(self, host):
        return (host or '').lower() in self.hosts

    def origin_allowed(self, origin):
        if origin is None:
            return True
        parts = urllib.parse.urlsplit(origin)
        return parts.netloc.lower() in self.hosts

    def token_matches(self, value):
        return bool(value) and hmac.compare_digest(
            value.encode('utf-8'), self.token.encode('utf-8'))

    def password_matches(self, authorization):
        if self.credentials is None:
            return True
        user, password = _basic(authorization)
        expected = self.credentials.get(user)
        return expected is not None and hmac.compare_digest(
            (password or '').encode('utf-8'), expected.encode('utf-8'))


def _basic(authorization):
    """(user, password) of a basic Authorization header, or (None, None)."""
    scheme, _, encoded = (authorization or '').partition(' ')
    if scheme.lower() != 'basic':
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode(
            'utf-8')
    except (binascii.Error, ValueError):
        return None, None
    user, _, password = decoded.partition(':')
    return user, password


def basic_user(authorization):
    """The user name of a basic Authorization header, or None."""
    return _basic(authorization)[0]


def read_password_file(path):
    """{user: password} from `path`: `user:password` lines.

    ValueError naming the file and what to do when it is unusable: missing,
    readable by others than its owner (like ssh's key files), or without
    a `user:password` line.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        raise ValueError('--password-file {}: {}'.format(
            path, e.strerror)) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ValueError(
            '--password-file {}: readable by others; run chmod 600 {}'
            .format(path, path))
    credentials = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            user, sep, password = line.partition(':')
            if not sep or not user or not password:
                raise ValueError(
                    '--password-file {}: expected lines of user:password'
                    .format(path))
            credentials[user] = password
    if not credentials:
        raise ValueError(
            '--password-file {}: no user:password line'.format(path))
    return credentials


def _refuse(status, message, headers=None):
    response = pyramid.response.Response(
        status=status, content_type='text/plain', charset='utf-8')
    response.headers.update(headers or {})
    response.text = message + '\n'
    return response


def tween_factory(handler, registry):
    """Pyramid tween: refuse requests before any view runs."""
    access = registry.settings['zodbundo.access']
    commits = registry.settings['zodbundo.commits']

    def tween(request):
        if not access.host_allowed(request.host):
            return _refuse(403, 'Forbidden: Host {!r} is not the address'
                           ' this server listens on.'.format(request.host))
        if request.method not in ('GET', 'HEAD') and not (
                access.origin_allowed(request.headers.get('Origin'))):
            return _refuse(403, 'Forbidden: a request from another site.')
        if not access.password_matches(request.headers.get('Authorization')):
            return _refuse(
                401, 'Unauthorized: log in with a user of the password'
                ' file.', headers={
                    'WWW-Authenticate': 'Basic realm="zodb-undo",'
                    ' charset="UTF-8"'})
        given = request.GET.get(TOKEN_PARAMETER)
        if request.method == 'GET' and access.token_matches(given):
            return _set_cookie_and_redirect(request, access)
        if not access.token_matches(request.cookies.get(access.cookie_name)):
            return _refuse(403, 'Forbidden: open the URL `zodb-undo serve`'
                           ' printed (it carries the secret token).')
        if request.method not in ('GET', 'HEAD') and not commits.allowed:
            return _refuse(403, 'Forbidden: ' + commits.reason)
        return handler(request)

    return tween


def _set_cookie_and_redirect(request, access):
    query = [(k, v) for k, v in request.GET.items() if k != TOKEN_PARAMETER]
    location = request.path_url
    if query:
        location += '?' + urllib.parse.urlencode(query)
    response = pyramid.httpexceptions.HTTPFound(location=location)
    response.set_cookie(access.cookie_name, access.token, httponly=True,
                        samesite='Strict', path='/')
    return response
