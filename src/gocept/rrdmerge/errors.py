"""Exceptions of gocept.rrdmerge: one base, one subclass per problem."""


class Error(Exception):
    """Base of every error gocept.rrdmerge raises on purpose."""


class RRDToolNotFound(Error):
    """Raised when the `rrdtool` program cannot be found or run."""


class InputNotFound(Error):
    """Raised when an input file or directory does not exist."""


class NotAnRRD(Error):
    """Raised when an input is not an RRD file (or a broken one)."""


class OtherArchitecture(NotAnRRD):
    """Raised for an RRD written on a machine with another binary layout.

    rrdtool cannot read such a file either: `rrdtool dump` it on the
    machine that wrote it, then `rrdtool restore` the XML here.
    """


class UsageError(Error):
    """Raised when the arguments contradict each other: NEW is an OLD,
    two OLDs are the same, or the output would overwrite an OLD or lie in
    an OLD directory (backups are never written).
    """


class UnsupportedLayout(Error):
    """Raised when the binary layout of an RRD cannot be verified.

    `merge()` catches it and falls back to `rrdtool dump`/`restore`.
    """


class RRDToolFailed(Error):
    """Raised when an `rrdtool` command exits with an error."""


class TargetBusy(Error):
    """Raised when another process holds the lock on the file to replace."""
