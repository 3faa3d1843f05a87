"""A Zope application as a WSGILayer on a ZODB layer's current database."""
import contextlib
import importlib
import os
import shutil
import sys
import tempfile

import transaction

import gocept.wsgilayer
import gocept.zopelayer._database
import gocept.zopelayer._globals
import gocept.zopelayer._templates
import gocept.zopelayer.app


# Zope keeps one application per process (module globals), so one Zope
# layer can be set up at a time.
_active = None


class ZopeLayer(gocept.wsgilayer.WSGILayer):
    """Zope started the way `Zope2.Startup.run.make_wsgi_app` starts it.

    setUp writes a zope.conf into a temporary instance home, loads
    site.zcml (Zope's skeleton one: Five and every `Products.*` package's
    ZCML), the ZCML of `products` and `zcml`, and opens the application on
    the base layer's database, so the `Application`, its user folder and
    the Control Panel are committed there.  Then it adds the manager
    `SITE_OWNER_NAME` and calls `setUpZope(app)`, both committed into the
    base layer's database: every test starts from that state.

    Zope's database is a stand-in forwarding to the base layer's *current*
    `zodbDB`, so the isolation of the gocept.zodblayer layers holds for
    everything done through Zope (with `isolation='copy'` each test has
    its own copy of the storage, which undo needs; see the README).

    Configuration (class attributes or constructor arguments):

    products
        dotted names of products to install: `Products.*` packages (Zope
        installs all of them; naming one makes a missing one an error) or
        packages registering themselves with `five:registerPackage`, whose
        `configure.zcml` is loaded
    zcml
        `(package, filename)` pairs loaded after site.zcml and products
    zope_conf
        extra zope.conf lines (a string)

    ZCML registrations go into a global component registry pushed at
    setUp and popped at tearDown (plone.testing.zca); Zope's process
    globals are restored at tearDown.  Chameleon's compiled templates are
    kept by source digest for the process, so a persistent page template
    is not compiled again in every test's fresh connection.

    setUp raises RuntimeError when another Zope layer is set up (naming
    both), when no base provides `zodbDB`, or when a product cannot be
    imported or was not installed; ZCML errors propagate as
    zope.configuration raises them (ConfigurationError with file and line,
    OSError for a missing file).  A failing setUp undoes what
    it did before raising.

    Resources: `wsgi_app` (Zope's WSGI publisher behind Zope's
    httpexceptions middleware, as in Zope's own WSGI pipeline) and
    `wsgi_url` (see WSGILayer); per test `app` (the application root with
    a request container, on the test's `zodbConnection`) and `request`
    (its request, also zope.globalrequest's).
    """

    products = ()
    zcml = ()
    zope_conf = ''

    def __init__(self, bases=(), name=None, module=None, products=None,
                 zcml=None, zope_conf=None):
        if module is None:
            module = sys._getframe(1).f_globals.get('__name__')
        super().__init__(bases=bases, name=name, module=module)
        if products is not None:
            self.products = products
        if zcml is not None:
            self.zcml = zcml
        if zope_conf is not None:
            self.zope_conf = zope_conf
        if isinstance(self.products, str):
            raise ValueError(
                'The `products` argument must be a sequence of dotted names,'
                f' not the string {self.products!r}.')
        for entry in self.zcml:
            if not (isinstance(entry, tuple) and len(entry) == 2
                    and isinstance(entry[1], str)):
                raise ValueError(
                    'The `zcml` argument must be a sequence of'
                    f' (package, filename) pairs; got {entry!r}.')
        if not isinstance(self.zope_conf, str):
            raise ValueError(
                'The `zope_conf` argument must be a string of zope.conf'
                f' lines, not {self.zope_conf!r}.')
        self._cleanup = None

    def setUpZope(self, app):
        """Hook: change the application; committed at the end of setUp."""

    def make_wsgi_app(self):
        import ZPublisher.httpexceptions
        import ZPublisher.WSGIPublisher
        return ZPublisher.httpexceptions.HTTPExceptionHandler(
            ZPublisher.WSGIPublisher.publish_module)

    # plone.testing.Layer protocol

    def setUp(self):
        self._cleanup = contextlib.ExitStack()
        try:
            self._start()
            super().setUp()
        except BaseException:
            self._stop()
            raise

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            self._stop()

    def testSetUp(self):
        import zope.globalrequest
        connection = self.get('zodbConnection')
        if connection is None:
            # A base without per-test connections: open one like Zope does.
            connection = self['zodbDB'].open()
            self._own_connection = connection
        app = gocept.zopelayer.app.add_request_container(
            connection.get(self._app_oid))
        zope.globalrequest.setRequest(app.REQUEST)
        self['app'] = app
        self['request'] = app.REQUEST

    def testTearDown(self):
        import zope.globalrequest
        zope.globalrequest.setRequest(None)
        transaction.abort()
        self['request'].close()
        del self['app']
        del self['request']
        connection, self._own_connection = self._own_connection, None
        if connection is not None:
            connection.close()

    _own_connection = None
    _app_oid = None

    def browser(self, url=None, login=False):
        """A new zope.testbrowser Browser on Zope (see WSGILayer.browser).

        With `login=True` it sends the site owner's credentials
        (`Authorization: Basic admin:secret`, zope.testbrowser's
        convention).
        """
        browser = super().browser()
        if login:
            browser.addHeader(
                'Authorization',
                f'Basic {gocept.zopelayer.app.SITE_OWNER_NAME}:'
                f'{gocept.zopelayer.app.SITE_OWNER_PASSWORD}')
        if url is not None:
            browser.open(url)
        return browser

    # Start and stop

    def _start(self):
        global _active
        if _active is not None:
            raise RuntimeError(
                f'Cannot set up {_describe(self)}: the Zope layer'
                f' {_describe(_active)} is set up. Zope runs one application'
                ' a process: let one Zope layer be the base of the other, or'
                ' run them one after the other.')
        try:
            self['zodbDB']
        except KeyError:
            raise RuntimeError(
                f'{_describe(self)} needs a base layer providing `zodbDB`,'
                ' e.g. bases=(gocept.zodblayer.FileStorageLayer(...),).'
            ) from None
        _active = self
        self._cleanup.callback(_release, self)
        home = tempfile.mkdtemp(prefix='gocept.zopelayer.')
        self._cleanup.callback(shutil.rmtree, home, ignore_errors=True)
        self._cleanup.callback(gocept.zopelayer._globals.save())
        self._cleanup.callback(gocept.zopelayer._templates.install())
        import plone.testing.zca
        plone.testing.zca.pushGlobalRegistry()
        self._cleanup.callback(plone.testing.zca.popGlobalRegistry)
        # Zope's start-up and setUpZope may leave the thread's transaction
        # (and its connections) open when they fail.
        self._cleanup.callback(transaction.abort)
        _start_zope(self, _write_zope_conf(home, self.zope_conf))
        with gocept.zopelayer.app.zopeApp() as app:
            app.acl_users._doAddUser(
                gocept.zopelayer.app.SITE_OWNER_NAME,
                gocept.zopelayer.app.SITE_OWNER_PASSWORD, ['Manager'], [])
            self.setUpZope(app)
            transaction.get().note(f'{self.__name__}: setUpZope')
            # The copies and DemoStorages of the ZODB layers keep oids:
            # tests get the application without loading the root.
            self._app_oid = app._p_oid

    def _stop(self):
        cleanup, self._cleanup = self._cleanup, None
        if cleanup is not None:
            cleanup.close()

    def _load_zcml(self):
        """site.zcml, then the products' and the layer's ZCML."""
        import Zope2.App.zcml
        for name in self.products:
            module = _import_product(self, name)
            if not name.startswith('Products.') and _has_zcml(module):
                Zope2.App.zcml.load_config('configure.zcml', module)
        for package, filename in self.zcml:
            Zope2.App.zcml.load_config(filename, package)


def _describe(layer):
    return f"'{layer.__module__}.{layer.__name__}'"


def _release(layer):
    global _active
    if _active is layer:
        _active = None


def _write_zope_conf(home, extra):
    os.mkdir(os.path.join(home, 'var'))
    path = os.path.join(home, 'zope.conf')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(f'%define INSTANCE {home}\n'
                'instancehome $INSTANCE\n'
                f'{extra}\n')
    return path


def _start_zope(layer, zope_conf):
    """Zope2.Startup.run.make_wsgi_app, with our database and ZCML."""
    import App.config
    import Zope2.App.startup
    import Zope2.Startup
    import Zope2.Startup.handlers
    import Zope2.Startup.options
    starter = Zope2.Startup.get_wsgi_starter()
    opts = Zope2.Startup.options.ZopeWSGIOptions(configfile=zope_conf)
    opts.schema = _zope_conf_schema()
    opts()
    Zope2.Startup.handlers.handleWSGIConfig(
        opts.configroot, opts.confighandlers)
    opts.configroot.dbtab = gocept.zopelayer._database.dbtab(
        gocept.zopelayer._database.CurrentDB(layer))
    App.config.setConfiguration(opts.configroot)
    starter.setConfiguration(opts.configroot)
    load_site = Zope2.App.startup.load_zcml

    def load_zcml():
        load_site()
        layer._load_zcml()

    # Zope's startup() loads ZCML between opening the database and
    # installing products; the layer's ZCML must be there by then.
    Zope2.App.startup.load_zcml = load_zcml
    try:
        starter.prepare()
    finally:
        Zope2.App.startup.load_zcml = load_site
    _check_products(layer)


_schema = None


def _zope_conf_schema():
    """Zope's zope.conf schema, parsed once a process (a ZConfig schema
    is read-only once loaded; parsing it takes tens of milliseconds)."""
    global _schema
    if _schema is None:
        import Zope2.Startup.options
        options = Zope2.Startup.options.ZopeWSGIOptions()
        options.load_schema()
        _schema = options.schema
    return _schema


def _import_product(layer, name):
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise RuntimeError(
            f'{_describe(layer)}: cannot import product {name!r} listed in'
            f' `products`: {e}. Install it or remove it from `products`.'
        ) from e


def _has_zcml(module):
    directory = os.path.dirname(getattr(module, '__file__', '') or '')
    return os.path.exists(os.path.join(directory, 'configure.zcml'))


def _check_products(layer):
    import OFS.metaconfigure
    import Products
    installed = {f'Products.{name}' for name in dir(Products)}
    installed.update(
        module.__name__
        for module in OFS.metaconfigure.get_registered_packages())
    missing = [name for name in layer.products if name not in installed]
    if missing:
        raise RuntimeError(
            f'{_describe(layer)}: products {missing!r} were not installed:'
            ' a package outside `Products.` needs'
            ' <five:registerPackage package="." initialize=".initialize" />'
            ' in its configure.zcml.')
