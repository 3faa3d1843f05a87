"""Zope's process-wide start-up state: saved before start, restored after.

Zope keeps one application per process in module globals (`Zope2.DB`,
`Zope2.bobo_application`, the WSGI publisher's module cache, the global
configuration, ZCML and class registrations ...).  `save()` records them
and returns a function that puts every one back, so a second Zope layer
later in the same run starts from scratch.
"""
import locale
import os


_ZOPE2 = ('_began_startup', 'DB', 'bobo_application')
_PUBLISHER = ('_DEFAULT_DEBUG_EXCEPTIONS', '_DEFAULT_DEBUG_MODE',
              '_DEFAULT_REALM', '_WEBDAV_SOURCE_PORT', 'load_app')
_ENVIRON = ('CLIENT_HOME', 'INSTANCE_HOME')


def save():
    """Record Zope's process globals; return a function restoring them."""
    import AccessControl.Implementation
    import App.config
    import App.FindHomes
    import OFS.metaconfigure
    import Products
    import Zope2
    import Zope2.App.startup
    import Zope2.App.zcml
    import zope.schema.vocabulary
    import ZPublisher.HTTPRequest
    import ZPublisher.WSGIPublisher as publisher

    zope2 = {name: getattr(Zope2, name) for name in _ZOPE2}
    opened = list(Zope2.opened)
    startup_app = Zope2.App.startup.app
    zcml = (Zope2.App.zcml._initialized, Zope2.App.zcml._context)
    publisher_state = {name: getattr(publisher, name) for name in _PUBLISHER}
    modules = dict(publisher._MODULES)
    trusted_proxies = ZPublisher.HTTPRequest.trusted_proxies
    retry_max_count = ZPublisher.HTTPRequest.HTTPRequest.retry_max_count
    config = App.config._config
    homes = (App.FindHomes.CLIENT_HOME, App.FindHomes.INSTANCE_HOME)
    environ = {name: os.environ.get(name) for name in _ENVIRON}
    implementation = AccessControl.Implementation.getImplementationName()
    vocabularies = zope.schema.vocabulary.getVocabularyRegistry()
    collation = locale.setlocale(locale.LC_ALL)
    five = _five_registrations(OFS.metaconfigure, Products)

    def restore():
        for name, value in zope2.items():
            setattr(Zope2, name, value)
        Zope2.opened[:] = opened
        Zope2.App.startup.app = startup_app
        Zope2.App.zcml._initialized, Zope2.App.zcml._context = zcml
        for name, value in publisher_state.items():
            setattr(publisher, name, value)
        publisher._MODULES.clear()
        publisher._MODULES.update(modules)
        ZPublisher.HTTPRequest.trusted_proxies = trusted_proxies
        ZPublisher.HTTPRequest.HTTPRequest.retry_max_count = retry_max_count
        App.config._config = config
        App.FindHomes.CLIENT_HOME, App.FindHomes.INSTANCE_HOME = homes
        for name, value in environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        AccessControl.Implementation.setImplementation(implementation)
        zope.schema.vocabulary.setVocabularyRegistry(vocabularies)
        locale.setlocale(locale.LC_ALL, collation)
        five()

    return restore


def _five_registrations(metaconfigure, Products):
    """Record the registered classes, packages and meta types (ZCML's
    five:registerClass and five:registerPackage, products' initialize());
    return a function dropping newer ones.
    """
    monkies = list(metaconfigure._register_monkies)
    meta_type_regs = list(metaconfigure._meta_type_regs)
    packages = list(metaconfigure._packages_to_initialize)
    registered = list(metaconfigure._registered_packages)
    deprecated = list(metaconfigure.deprecatedManageAddDeleteClasses)
    meta_types = getattr(Products, 'meta_types', ())

    def restore():
        for class_ in metaconfigure._register_monkies:
            if class_ not in monkies:
                metaconfigure.unregisterClass(class_)
        Products.meta_types = meta_types
        metaconfigure._register_monkies = monkies
        metaconfigure._meta_type_regs = meta_type_regs
        metaconfigure._packages_to_initialize = packages
        metaconfigure._registered_packages = registered
        metaconfigure.deprecatedManageAddDeleteClasses[:] = deprecated

    return restore
