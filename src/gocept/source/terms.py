"""ITerms adapters for zc.sourcefactory sources that keep ITerms' contract.

``zope.browser.interfaces.ITerms`` says ``getTerm(value)`` raises
LookupError when the value is not in the source, and ``getValue(token)``
when no value has that token. Widgets depend on it: z3c.form's
``SourceTerms`` (``z3c.form.term``) treats that LookupError as "missing
term" and renders a stored value that has left the source as ``Missing:
VALUE`` (``MissingTermsMixin``).

The gap is zc.sourcefactory's own (3.0, ``zc/sourcefactory/browser/
source.py``): ``FactoredTerms.getTerm`` and
``FactoredContextualTerms.getTerm`` build a term from the factory's
``getTitle``/``getToken``/``createTerm`` for *any* value and never ask the
source. z3c.form then sees no missing value: its select widget selects
none of the options, and saving the form unchanged stores the first
option (what a browser submits) over the stored value, silently. Their
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
import zc.sourcefactory.policies
import zc.sourcefactory.source


_ITERATING_CONTAINS = zc.sourcefactory.source.FactoredSource.__contains__
_FILTERED = zc.sourcefactory.source.FactoredSource._get_filtered_values
_CONTEXTUAL_FILTERED = (
    zc.sourcefactory.source.FactoredContextualSource._get_filtered_values)
_KEEP_ALL = zc.sourcefactory.policies.BasicValuePolicy.filterValue
_CONTEXTUAL_KEEP_ALL = (
    zc.sourcefactory.policies.BasicContextualValuePolicy.filterValue)


def _members_of(source):
    """What `source`'s membership is tested on, for one adapter.

    zc.sourcefactory's ``value in source`` iterates the source's values
    (and calls the factory's ``filterValue`` for each): done for every
    term a widget renders, that would be quadratic. An adapter lives for
    one widget in one request, so one snapshot of the values, as a set,
    serves all its lookups. A ``source_class`` with a membership test of
    its own (say, a catalog query) knows best and is asked instead.
    """
    source_class = type(source)
    if source_class.__contains__ is not _ITERATING_CONTAINS:
        return source
    values = _unfiltered_values(source)
    values = list(source if values is None else values)
    try:
        return frozenset(values)
    except TypeError:  # unhashable values: compared one by one
        return values


def _unfiltered_values(source):
    """The factory's values, when its filterValue keeps them all.

    Saves calling zc.sourcefactory's default ``filterValue`` (which
    returns True) once per value: that is most of the snapshot's cost.
    None if the factory or the source class filters.
    """
    factory = source.factory
    if isinstance(source, zc.sourcefactory.source.FactoredContextualSource):
        if (type(source)._get_filtered_values is _CONTEXTUAL_FILTERED
                and type(factory).filterValue is _CONTEXTUAL_KEEP_ALL):
            return factory.getValues(source.context)
    elif (type(source)._get_filtered_values is _FILTERED
            and type(factory).filterValue is _KEEP_ALL):
        return factory.getValues()
    return None


class _ContractMixin:

    _members = None

    def _in_source(self, value):
        members = self._members
        if members is None:
            members = self._members = _members_of(self.source)
        try:
            return value in members
        except TypeError:
            if not isinstance(members, frozenset):
                raise
            # An unhashable value (equal to no hashable one, as a rule).
            return any(value == member for member in members)

    def getTerm(self, value):
        """The term of `value`; LookupError if it is not in the source."""
        # _in_source inlined for the common case: a widget asks for a
        # term per value.
        members = self._members
        if members is None or type(members) is not frozenset:
            found = self._in_source(value)
        else:
            try:
                found = value in members
            except TypeError:
                found = self._in_source(value)
        if not found:
            raise LookupError(value)
        return self._make_term(value)

    def getValue(self, token):
        """The value whose term has `token`; LookupError if there is none
        in the source."""
        value = super().getValue(token)
        if not self._in_source(value):
            raise LookupError(token)
        return value


class Terms(_ContractMixin, zc.sourcefactory.browser.source.FactoredTerms):
    """ITerms of a basic (or named) factored source and a browser request.
    """

    def _make_term(self, value):
        # FactoredTerms.getTerm, with the factory looked up once.
        source = self.source
        factory = source.factory
        return factory.createTerm(
            source, value, factory.getTitle(value), factory.getToken(value),
            self.request)


class ContextualTerms(
        _ContractMixin,
        zc.sourcefactory.browser.source.FactoredContextualTerms):
    """ITerms of a contextual factored source and a browser request."""

    def _make_term(self, value):
        # FactoredContextualTerms.getTerm, with the factory and context
        # looked up once.
        source = self.source
        factory = source.factory
        context = source.context
        return factory.createTerm(
            context, source, value, factory.getTitle(context, value),
            factory.getToken(context, value), self.request)
