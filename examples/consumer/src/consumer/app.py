import html
import json
import urllib.parse
import urllib.request

import zope.component

import consumer.sources


def make_app(weather_url):
    """The app: `GET /` lists the weather of every city, from the JSON
    API at `weather_url` (``GET <weather_url>/<city>``)."""
    def app(environ, start_response):
        cities = zope.component.getUtility(consumer.sources.ICitySource)
        lines = []
        for city in cities:
            url = f'{weather_url}/{urllib.parse.quote(city)}'
            with urllib.request.urlopen(url, timeout=5) as response:
                weather = json.load(response)['weather']
            lines.append(f'<li>{html.escape(city)}: {html.escape(weather)}'
                         '</li>')
        start_response('200 OK', [('Content-Type', 'text/html; charset=utf-8')])
        return [f'<ul>{"".join(lines)}</ul>'.encode()]
    return app
