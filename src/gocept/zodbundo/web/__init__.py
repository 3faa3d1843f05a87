"""Pages to find, preview and undo ZODB transactions (`zodb-undo serve`).

A Pyramid application over `gocept.zodbundo.UndoTool`: `make_app(...)`
builds the WSGI callable; `includeme` is the Pyramid configuration.
"""
try:
    import pyramid.config
    import pyramid.csrf
    import pyramid_chameleon  # noqa: F401 the templates' renderer
except ModuleNotFoundError as error:
    raise ImportError(
        'gocept.zodbundo.web needs the extra "web": pip install'
        ' "gocept.layerkit[web]"') from error

import gocept.zodbundo.tool
import gocept.zodbundo.web.security


class Commits:
    """Whether the pages may write; `settings['zodbundo.commits']`.

    `allowed` is False when the server was started read-only, or when
    `reason` says why writing is impossible (e.g. a FileStorage locked by
    a running application).
    """

    def __init__(self, allowed, reason=None):
        self.allowed = bool(allowed) and reason is None
        if reason is None and not allowed:
            reason = ('Started read-only: restart `zodb-undo serve` with'
                      ' --allow-commit to undo or revert.')
        self.reason = reason


def includeme(config):
    """Routes, views, templates, the access tween and CSRF protection."""
    settings = config.get_settings()
    access = settings['zodbundo.access']
    config.include('pyramid_chameleon')
    config.add_tween('gocept.zodbundo.web.security.tween_factory')
    config.set_csrf_storage_policy(pyramid.csrf.CookieCSRFStoragePolicy(
        cookie_name=access.cookie_name + '_csrf', httponly=True,
        samesite='Strict'))
    config.set_default_csrf_options(require_csrf=True)
    config.add_route('log', '/')
    config.add_route('transaction', '/transaction/{tid}')
    config.add_route('find_object', '/object')
    config.add_route('object', '/object/{oid}')
    config.add_route('undo', '/undo')
    config.add_route('revert', '/revert')
    config.add_route('result', '/result/{tid}')
    config.scan('gocept.zodbundo.web.views')


def make_app(db, token, hosts, allow_commit=False, credentials=None,
             cookie_name='zodbundo_token', read_only_reason=None):
    """The WSGI application for `db` (a ZODB.DB).

    `token`: the secret every client must present (see `security`);
    `hosts`: the Host header values to accept, e.g. `['127.0.0.1:8080',
    'localhost:8080']`; `allow_commit`: show and accept undo and revert
    (needs a writable storage); `credentials`: None or {user: password}
    for HTTP basic auth; `cookie_name`: the token's cookie (one per port);
    `read_only_reason`: why committing is impossible although allowed,
    shown on the pages instead of the commit buttons.
    """
    if allow_commit and read_only_reason is None and db.storage.isReadOnly():
        read_only_reason = 'The storage is open read-only.'
    settings = {
        'zodbundo.tool': gocept.zodbundo.tool.UndoTool(db),
        'zodbundo.access': gocept.zodbundo.web.security.Access(
            token, hosts, credentials, cookie_name),
        'zodbundo.commits': Commits(allow_commit, read_only_reason),
    }
    with pyramid.config.Configurator(settings=settings) as config:
        config.include(__name__)
    return config.make_wsgi_app()
