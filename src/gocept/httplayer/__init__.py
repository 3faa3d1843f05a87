"""Fake HTTP server layers for zope.testrunner."""
