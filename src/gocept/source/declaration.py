"""Declare the interfaces the sources of a zc.sourcefactory factory provide.

zc.sourcefactory factories do not return themselves when called but an
instance of their ``source_class`` (contextual factories return a binder that
creates one). Interfaces therefore have to be declared on that class, which
is what the hand-written recipe does with an inner ``source_class``.
`implementer` builds that class for the user.
"""

import zc.sourcefactory.factories
import zc.sourcefactory.source
import zope.interface
import zope.interface.interfaces
import zope.schema.interfaces


# Name of the attribute on generated source classes that lists the
# interfaces the decorator declared; the ZCML directive reads it.
DECLARED = '_gocept_source_interfaces'


def implementer(*interfaces):
    """Class decorator: sources of the decorated factory provide `interfaces`.

    Works on basic, contextual and named zc.sourcefactory factories. The
    factory's ``source_class`` (zc.sourcefactory's or one the factory sets
    itself) is replaced by a subclass declaring `interfaces`, so the
    factory's behaviour stays unchanged. Each interface must extend
    ``zope.schema.interfaces.ISource``.

    Raises TypeError or ValueError at decoration time for wrong arguments.
    """
    _check_interfaces(interfaces)

    def decorate(factory):
        _check_factory(factory, interfaces)
        factory.source_class = _declaring_subclass(
            factory, factory.source_class, interfaces)
        return factory

    return decorate


def declared_interfaces(factory):
    """Return the interfaces `implementer` declared for `factory`.

    The nearest decoration in the factory's class hierarchy wins: a subclass
    of a decorated factory inherits its declaration. Returns an empty tuple
    for factories that were never decorated.
    """
    return getattr(factory.source_class, DECLARED, ())


def is_source_factory(obj):
    """Whether `obj` is a zc.sourcefactory factory class."""
    return isinstance(obj, type) and issubclass(
        obj, zc.sourcefactory.factories.BasicSourceFactory)


def is_contextual(factory):
    """Whether the factory creates context binders instead of sources."""
    return issubclass(
        factory, zc.sourcefactory.factories.ContextualSourceFactory)


def _check_interfaces(interfaces):
    if not interfaces:
        raise TypeError(
            'gocept.source.implementer() needs at least one interface,'
            ' e.g. @gocept.source.implementer(IColorSource).')
    for iface in interfaces:
        if not zope.interface.interfaces.IInterface.providedBy(iface):
            raise TypeError(
                'gocept.source.implementer() takes interfaces, got'
                f' {iface!r} ({type(iface).__name__}).')
        if not iface.isOrExtends(zope.schema.interfaces.ISource):
            raise ValueError(
                f'{dotted_name(iface)} does not extend'
                ' zope.schema.interfaces.ISource, so sources cannot provide'
                ' it: derive it from ISource or IIterableSource.')


def _check_factory(factory, interfaces):
    names = ', '.join(iface.__name__ for iface in interfaces)
    if is_source_factory(factory):
        source_class = factory.source_class
        if not isinstance(source_class, type):
            raise TypeError(
                f'{dotted_name(factory)}.source_class is {source_class!r}, not'
                ' a class; gocept.source.implementer() needs a class to'
                ' subclass.')
        return
    if isinstance(factory, zc.sourcefactory.source.FactoredSource):
        hint = (' got a source (an instance of'
                f' {type(factory).__qualname__}): decorate the factory class'
                ' instead.')
    else:
        hint = f' got {factory!r}.'
    raise TypeError(
        f'@gocept.source.implementer({names}) decorates zc.sourcefactory'
        ' factory classes (subclasses of BasicSourceFactory or'
        ' BasicContextualSourceFactory);' + hint)


def _declaring_subclass(factory, base, interfaces):
    # Named and placed like the recipe's inner class, so reprs and
    # tracebacks point at the factory.
    namespace = {
        '__module__': factory.__module__,
        '__qualname__': f'{factory.__qualname__}.source_class',
        '__doc__': f'Sources of {factory.__name__}, providing '
                   + ', '.join(iface.__name__ for iface in interfaces) + '.',
        DECLARED: tuple(interfaces),
    }
    cls = type(base)('source_class', (base,), namespace)
    return zope.interface.implementer(*interfaces)(cls)


def dotted_name(obj):
    """Return `module.QualName` of a class or interface, else its repr."""
    name = getattr(obj, '__qualname__', getattr(obj, '__name__', None))
    if name is None or not hasattr(obj, '__module__'):
        return repr(obj)
    return f'{obj.__module__}.{name}'
