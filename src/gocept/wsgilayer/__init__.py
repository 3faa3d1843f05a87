"""WSGI applications as zope.testrunner layers, in-process and on a port."""
from gocept.wsgilayer.layer import WSGILayer
from gocept.wsgilayer.server import WSGIServerLayer


__all__ = ['WSGILayer', 'WSGIServerLayer']
