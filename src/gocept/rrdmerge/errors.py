"""Exceptions of gocept.rrdmerge: one base, one subclass per problem."""


class Error(Exception):
    """Base of every error gocept.rrdmerge raises on purpose."""


class RRDToolNotFound(Error):
    """Raised when the `rrdtool` program cannot be found or run."""


class InputNotFound(Error):
    """Raised when an input file or directory does not exist."""


class NotAnRRD(Error):
    """Raised when an input is not an RRD file (or a broken one)."""


class UnsupportedLayout(Error):
    """Raised when the binary layout of an RRD cannot be verified.

    `merge()` catches it and falls back to `rrdtool dump`/`restore`.
    """


class RRDToolFailed(Error):
    """Raised when an `rrdtool` command exits with an error."""


class TargetBusy(Error):
    """Raised when another process holds the lock on the file to replace."""
