"""The PEP 3333 environ of a parsed request, the same on every route.

Both the loopback server (`WSGIServerLayer`) and the in-process
interception (`wsgi_url`) build the environ here, from a request
`gocept.httplayer.http11` has parsed (so the body is already de-chunked).
"""
import io
import sys
import urllib.parse


# Request headers that become CGI variables without the HTTP_ prefix, or
# describe the message framing the server has already undone (PEP 3333,
# RFC 3875 4.1).
_CGI = {'CONTENT-TYPE': 'CONTENT_TYPE', 'CONTENT-LENGTH': None,
        'TRANSFER-ENCODING': None}


def build(head, body, *, server_name, server_port, remote_addr,
          url_scheme='http', multithread=True):
    """Return the environ for `head` (an ``http11.RequestHead``).

    `body` is the request body as bytes (de-chunked); `server_port` an int
    or str. Every CGI variable is a native str (latin-1 for bytes, PEP
    3333 "Unicode Issues"), `QUERY_STRING` is always there, and
    `CONTENT_LENGTH` is the length of the body the app can read.
    Repeated header fields are joined with ``,`` (RFC 9110 5.3), `Cookie`
    fields with ``;`` (RFC 6265 5.4). Like waitress, a field whose name
    has an underscore is dropped: it would be indistinguishable from one
    with a hyphen in the environ (header smuggling).
    """
    target = head.target
    if target.startswith(('http://', 'https://')):
        # Absolute form (RFC 9112 3.2.2): the app sees its path.
        parts = urllib.parse.urlsplit(target)
        target = (parts.path or '/') + ('?' + parts.query if parts.query
                                        else '')
    path, _, query = target.partition('?')
    environ = {
        'REQUEST_METHOD': head.method,
        'SCRIPT_NAME': '',
        'PATH_INFO': (urllib.parse.unquote(path, 'latin-1') if '%' in path
                      else path),
        'QUERY_STRING': query,
        'SERVER_NAME': server_name,
        'SERVER_PORT': str(server_port),
        'SERVER_PROTOCOL': head.version,
        'REMOTE_ADDR': remote_addr,
        'wsgi.version': (1, 0),
        'wsgi.url_scheme': url_scheme,
        'wsgi.input': io.BytesIO(body),
        'wsgi.input_terminated': True,
        'wsgi.errors': sys.stderr,
        'wsgi.multithread': multithread,
        'wsgi.multiprocess': False,
        'wsgi.run_once': False,
    }
    if body or head.method not in ('GET', 'HEAD'):
        environ['CONTENT_LENGTH'] = str(len(body))
    # The field values are str already (latin-1, http.client's parser).
    for name, value in head.headers.items():
        name = name.upper()
        if name in _CGI:
            if _CGI[name] is not None:
                environ[_CGI[name]] = value
            continue
        if '_' in name:
            continue
        key = 'HTTP_' + name.replace('-', '_')
        if key in environ:
            separator = '; ' if key == 'HTTP_COOKIE' else ', '
            environ[key] += separator + value
        else:
            environ[key] = value
    return environ
