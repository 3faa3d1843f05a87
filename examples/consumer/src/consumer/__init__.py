"""A WSGI app that shows a city's weather, asked from an upstream API."""
