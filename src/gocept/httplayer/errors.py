"""The exceptions of gocept.httplayer."""


class Error(Exception):
    """Base class of every gocept.httplayer error."""


class CheckFailed(Error, AssertionError):
    """Base class of what `FakeServer.check()` raises.

    It is an AssertionError, so unittest counts it as a failure of the test
    that made the requests, not as an error of the test code.
    """


class UnexpectedRequests(CheckFailed):
    """Raised by check() when a request matched no stub.

    The message names each request's method and path and the nearest stub.
    """


class UnmetExpectations(CheckFailed):
    """Raised by check() when a stub with `times=` got fewer requests."""


class HandlerError(CheckFailed):
    """Raised by check() when a `handler=` callable raised an exception.

    The first exception is chained as ``__cause__``.
    """


class WaitTimeout(Error):
    """Raised by `FakeServer.wait_for()` when too few requests arrived.

    The message lists the requests that did arrive.
    """
