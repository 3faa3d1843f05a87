"""The ``source`` ZCML directive: register a factory's source as a utility."""

import gocept.source.declaration
import gocept.source.terms
import zc.sourcefactory.source
import zope.browser.interfaces
import zope.component.zcml
import zope.configuration.exceptions
import zope.configuration.fields
import zope.interface
import zope.publisher.interfaces.browser
import zope.schema
import zope.schema.interfaces


class ISourceDirective(zope.interface.Interface):
    """Register the source of a zc.sourcefactory factory as a utility."""

    factory = zope.configuration.fields.GlobalObject(
        title='Source factory',
        description='A zc.sourcefactory factory class declared with'
                    ' @gocept.source.implementer(...). It is called once,'
                    ' without arguments; the source is the utility.',
        required=True,
    )

    name = zope.schema.TextLine(
        title='Utility name',
        required=False,
        default='',
    )

    provides = zope.configuration.fields.GlobalInterface(
        title='Interface to register the source for',
        description='Defaults to every interface the factory was declared'
                    ' with. The source must provide it.',
        required=False,
    )


def source(_context, factory, name='', provides=None):
    """Handle ``<source:source factory="..." name="..." provides="..."/>``.

    Registers one utility for each interface (the declared ones, or only
    `provides`). The discriminator is zope.component's own ``utility`` one,
    so a second source -- or a plain ``<utility>`` -- for the same interface
    and name is reported as a configuration conflict.
    """
    interfaces = _interfaces_to_register(factory, provides)
    try:
        component = factory()
    except Exception as e:
        raise zope.configuration.exceptions.ConfigurationError(
            f'Calling {_name(factory)}() to create the source failed:'
            f' {type(e).__name__}: {e}') from e
    for iface in interfaces:
        # Guards against factories whose __new__ returns something else.
        if not iface.providedBy(component):
            raise zope.configuration.exceptions.ConfigurationError(
                f'{_name(factory)}() returned {component!r}, which does not'
                f' provide {_name(iface)}.')
    for iface in interfaces:
        _context.action(
            discriminator=('utility', iface, name),
            callable=zope.component.zcml.handler,
            args=('registerUtility', component, iface, name, _context.info),
        )


class ITermsDirective(zope.interface.Interface):
    """Register gocept.source's ITerms adapters over zc.sourcefactory's."""


# zope.configuration runs actions of a higher order later: ours replace
# zc.sourcefactory's registrations, whatever order the files come in.
TERMS_ORDER = 1

TERMS_ADAPTERS = (
    (gocept.source.terms.Terms, zc.sourcefactory.source.FactoredSource),
    (gocept.source.terms.ContextualTerms,
     zc.sourcefactory.source.FactoredContextualSource),
)


def terms(_context):
    """Handle ``<source:terms />`` (gocept.source's configure.zcml uses it).

    Registers `gocept.source.terms` for zc.sourcefactory's source classes
    and browser requests. A plain ``<adapter>`` for the same sources would
    conflict with zc.sourcefactory's own registration when a project also
    includes zc.sourcefactory's configure.zcml; these actions have no
    discriminator and run after all ordinary ones, so they win.
    """
    for factory, source_class in TERMS_ADAPTERS:
        _context.action(
            discriminator=None,
            callable=zope.component.zcml.handler,
            args=('registerAdapter', factory,
                  (source_class,
                   zope.publisher.interfaces.browser.IBrowserRequest),
                  zope.browser.interfaces.ITerms, '', _context.info),
            order=TERMS_ORDER,
        )


def _interfaces_to_register(factory, provides):
    if not gocept.source.declaration.is_source_factory(factory):
        raise zope.configuration.exceptions.ConfigurationError(
            f'factory={_name(factory)} is not a zc.sourcefactory factory'
            ' class: point it at a subclass of BasicSourceFactory decorated'
            ' with @gocept.source.implementer(...).')
    if gocept.source.declaration.is_contextual(factory):
        # A utility is shared by every caller, but a contextual factory
        # only makes a source once it is given a context: there is no one
        # source to register.
        raise zope.configuration.exceptions.ConfigurationError(
            f'factory={_name(factory)} is a contextual source factory: its'
            ' sources need a context, so none can be registered as a'
            ' utility. Register the factory as a named source (utility'
            ' providing zc.sourcefactory.interfaces.INamedSource) and bind'
            ' it with zc.sourcefactory.named.NamedSource(name) instead.')
    declared = gocept.source.declaration.declared_interfaces(factory)
    if provides is None:
        if not declared:
            raise zope.configuration.exceptions.ConfigurationError(
                f'factory={_name(factory)} declares no interface for its'
                ' sources: decorate it with @gocept.source.implementer(I)'
                ' or add provides="I".')
        return declared
    if not provides.isOrExtends(zope.schema.interfaces.ISource):
        raise zope.configuration.exceptions.ConfigurationError(
            f'provides={_name(provides)} does not extend'
            ' zope.schema.interfaces.ISource.')
    if not provides.implementedBy(factory.source_class):
        raise zope.configuration.exceptions.ConfigurationError(
            f'The sources of {_name(factory)} do not provide'
            f' {_name(provides)}: declare it with'
            f' @gocept.source.implementer({provides.__name__}).')
    return (provides,)


def _name(obj):
    return gocept.source.declaration.dotted_name(obj)
