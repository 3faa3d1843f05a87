"""Layers for the pages: undo-capable storages, the app on a real port.

The storages are gocept.zodbundo's test layers (a copy of the storage per
test, so undo runs as in production). The app is built per test on the
test's database; `PER_TEST_APP` forwards to it, so one WSGIServerLayer
serves every test.
"""
import gocept.wsgilayer

import gocept.zodbundo.tests.layers
import gocept.zodbundo.web


TOKEN = 'test-token'


class PerTestApp:
    """A WSGI app that forwards to `app`, set by each test."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


PER_TEST_APP = PerTestApp()

APP = gocept.wsgilayer.WSGILayer(
    bases=(gocept.zodbundo.tests.layers.FILESTORAGE,),
    name='zodbundo.web:App', module=__name__,
    app_factory=lambda layer: PER_TEST_APP)

SERVER = gocept.wsgilayer.WSGIServerLayer(
    bases=(APP,), name='zodbundo.web:Server', module=__name__)


def make_app(db, hosts=('localhost:80',), allow_commit=True, **kw):
    return gocept.zodbundo.web.make_app(
        db, TOKEN, hosts, allow_commit=allow_commit, **kw)
