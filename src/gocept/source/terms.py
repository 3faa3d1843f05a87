"""ITerms adapters for zc.sourcefactory sources that keep ITerms' contract.

``zope.browser.interfaces.ITerms`` says ``getTerm(value)`` raises
LookupError when the value is not in the source, and ``getValue(token)``
when no value has that token. Widgets depend on it: z3c.form's
``SourceTerms`` (``z3c.form.term``) treats that LookupError as "missing
term" and renders a stored value that has left the source as ``Missing:
VALUE`` (``MissingTermsMixin``); zope.formlib's source widgets show it as
invalid.

The gap is zc.sourcefactory's own (3.0, ``zc/sourcefactory/browser/
source.py``): ``FactoredTerms.getTerm`` and
``FactoredContextualTerms.getTerm`` build a term from the factory's
``getTitle``/``getToken``/``createTerm`` for *any* value and never ask the
source, so a form silently shows a foreign value as a valid choice. Their
``getValue`` returns what the factory's token policy returns: the basic
policy only finds source members (and raises KeyError, a LookupError),
but a factory's own ``getValue`` may return anything, e.g. any object of
the intid utility. The upstream fix would be a membership test in both
methods of ``FactoredTerms`` (which ``FactoredContextualTerms`` inherits
for ``getValue``): ``if value not in self.source: raise LookupError``.

`Terms` and `ContextualTerms` add that test on top of zc.sourcefactory's
classes; the ``terms`` directive (used by this package's configure.zcml)
registers them over zc.sourcefactory's for every factored source.
"""

import zc.sourcefactory.browser.source
import zc.sourcefactory.source


_ITERATING_CONTAINS = zc.sourcefactory.source.FactoredSource.__contains__


class _Members:
    """Membership in a source, taken once and then looked up in O(1).

    zc.sourcefactory's ``value in source`` iterates the source's values
    (and calls the factory's ``filterValue`` for each): done for every
    term a widget renders, that would be quadratic. An adapter lives for
    one widget in one request, so one snapshot of the values serves all
    its lookups. Unhashable values are compared one by one.
    """

    def __init__(self, source):
        self.values = list(source)
        self.hashable = set()
        self.unhashable = []
        for value in self.values:
            try:
                self.hashable.add(value)
            except TypeError:
                self.unhashable.append(value)

    def __contains__(self, value):
        try:
            found = value in self.hashable
        except TypeError:  # an unhashable value
            return value in self.values
        return found or (bool(self.unhashable) and value in self.unhashable)


class _ContractMixin:

    _members = None

    def _check(self, value, key):
        members = self._members
        if members is None:
            # A source_class with a membership test of its own (say, a
            # catalog query) knows best; zc.sourcefactory's iterates.
            if type(self.source).__contains__ is not _ITERATING_CONTAINS:
                members = self.source
            else:
                members = _Members(self.source)
            self._members = members
        if value not in members:
            raise LookupError(key)

    def getValue(self, token):
        """The value whose term has `token`; LookupError if there is none
        in the source."""
        value = super().getValue(token)
        self._check(value, token)
        return value


class Terms(_ContractMixin, zc.sourcefactory.browser.source.FactoredTerms):
    """ITerms of a basic (or named) factored source and a browser request.
    """

    def getTerm(self, value):
        """The term of `value`; LookupError if it is not in the source."""
        self._check(value, value)
        # FactoredTerms.getTerm, with the factory looked up once: that
        # pays for the membership test.
        source = self.source
        factory = source.factory
        return factory.createTerm(
            source, value, factory.getTitle(value), factory.getToken(value),
            self.request)


class ContextualTerms(
        _ContractMixin,
        zc.sourcefactory.browser.source.FactoredContextualTerms):
    """ITerms of a contextual factored source and a browser request."""

    def getTerm(self, value):
        """The term of `value`; LookupError if it is not in the source."""
        self._check(value, value)
        # FactoredContextualTerms.getTerm, with the factory and context
        # looked up once.
        source = self.source
        factory = source.factory
        context = source.context
        return factory.createTerm(
            context, source, value, factory.getTitle(context, value),
            factory.getToken(context, value), self.request)
