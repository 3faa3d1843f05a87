"""Fake HTTP server layers for zope.testrunner."""

from gocept.httplayer.errors import Error
from gocept.httplayer.errors import HandlerError
from gocept.httplayer.errors import UnexpectedRequests
from gocept.httplayer.errors import UnmetExpectations
from gocept.httplayer.errors import WaitTimeout
from gocept.httplayer.fake import FakeServer
from gocept.httplayer.layer import HTTPServerLayer
from gocept.httplayer.layer import StaticFilesLayer
from gocept.httplayer.request import Request
from gocept.httplayer.stub import Stub


__all__ = [
    'Error',
    'FakeServer',
    'HTTPServerLayer',
    'HandlerError',
    'Request',
    'StaticFilesLayer',
    'Stub',
    'UnexpectedRequests',
    'UnmetExpectations',
    'WaitTimeout',
]
