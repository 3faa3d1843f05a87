"""zc.sourcefactory sources that declare their own interface."""

from gocept.source.declaration import implementer


__all__ = ['implementer']
