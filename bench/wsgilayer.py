"""Benchmark: the routes to a WSGI app under test, side by side.

Per request, on the same Pyramid app (a 2 KB page):

- the app called directly (the floor),
- ``layer.browser()`` (ours) against ``zope.testbrowser.wsgi.Browser``
  under ``zope.testbrowser.wsgi.Layer``, each ``open`` alone and ``open``
  plus ``.title`` (which parses the HTML),
- ``webtest.TestApp``,
- ``requests`` to ``wsgi_url`` (intercepted in-process by wsgi_intercept),
- ``requests`` and ``http.client`` over ``WSGIServerLayer``'s socket, with
  a new connection each and with keep-alive,
- the same clients against gocept.httpserverlayer's ``wsgi.Layer``
  (wsgiref, HTTP/1.0: a new connection each, always);

and the setUp + tearDown cycle of ``WSGIServerLayer`` against
gocept.httpserverlayer's ``wsgi.Layer``, without and with a request.

Wall time (``time.perf_counter``): the servers answer in threads of this
process. Variants run interleaved, in a shuffled order each round, so load
from other processes hits them alike; each figure is per request (the
round's batch time divided by its size), median and mean over the rounds.
Each batch follows a few untimed requests of the same variant: after a
burst of new connections the next requests on the loopback are slower for
a while, whichever variant they belong to.
Ratios are of medians, except the browser ratio, which is the median of
the per-round ratios (it is a 1.1x target).

    bin/python bench/wsgilayer.py [--rounds 25] [--batch 40] [--warmup 20]
                                  [--cycles 20] [--check]

``--check`` exits 1 when a target is missed.
"""

import argparse
import http.client
import os
import random
import statistics
import sys
import time
import warnings


warnings.simplefilter('ignore')
# gocept.httpserverlayer binds 'localhost' by default; 127.0.0.1 spares its
# clients the IPv6 attempt, to be fair to it.
os.environ.setdefault('GOCEPT_HTTP_APP_HOST', '127.0.0.1')

import requests  # noqa: E402
import webtest  # noqa: E402
import zope.testbrowser.wsgi  # noqa: E402

import gocept.httpserverlayer.wsgi  # noqa: E402
import gocept.wsgilayer  # noqa: E402
import gocept.wsgilayer.tests.app  # noqa: E402


# Paragraphs of filler text that make the home page about 2 KB.
FILLER = 38


def make_app():
    return gocept.wsgilayer.tests.app.make_app(filler=FILLER, validate=False)


class TestbrowserLayer(zope.testbrowser.wsgi.Layer):
    """The seed recipe, as it was."""

    def make_wsgi_app(self):
        return make_app()


def http_client_get(host, port, path='/'):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request('GET', path)
    body = conn.getresponse().read()
    conn.close()
    return body


class KeepAlive:
    """One http.client connection reused for every request."""

    def __init__(self, host, port):
        self.conn = http.client.HTTPConnection(host, port, timeout=10)

    def __call__(self):
        self.conn.request('GET', '/')
        return self.conn.getresponse().read()

    def close(self):
        self.conn.close()


def new_connection_get(session, url):
    """A request on a new connection: the server closes it afterwards."""
    return session.get(
        url, timeout=10, headers={'Connection': 'close'}).content


class Setup:
    """All layers set up, and the callables to measure."""

    def __init__(self):
        self.teardowns = []
        self.app = make_app()
        self.page = url = None

        ours = gocept.wsgilayer.WSGILayer(
            name='Bench:App', module=__name__,
            app_factory=lambda layer: make_app())
        self._set_up(ours)
        server = gocept.wsgilayer.WSGIServerLayer(
            bases=(ours,), name='Bench:Server', module=__name__)
        self._set_up(server)

        zope_layer = TestbrowserLayer()
        self._set_up(zope_layer)

        theirs = gocept.httpserverlayer.wsgi.Layer(
            name='Bench:httpserverlayer', module=__name__)
        theirs.wsgi_app = make_app()
        self._set_up(theirs)

        our_browser = ours.browser()
        zope_browser = zope.testbrowser.wsgi.Browser()
        testapp = webtest.TestApp(make_app())
        url = ours['wsgi_url'] + '/'
        intercepted = requests.Session()
        self.teardowns.append(intercepted.close)

        host, port = server['http_host'], server['http_port']
        server_url = server['http_url'] + '/'
        kept_requests = requests.Session()
        self.teardowns.append(kept_requests.close)
        closing_requests = requests.Session()
        self.teardowns.append(closing_requests.close)
        kept_http_client = KeepAlive(host, port)
        self.teardowns.append(kept_http_client.close)

        their_host, their_port = theirs['http_host'], theirs['http_port']
        their_url = f'http://{theirs["http_address"]}/'

        def call_app():
            environ = {
                'REQUEST_METHOD': 'GET', 'PATH_INFO': '/',
                'SERVER_NAME': 'localhost', 'SERVER_PORT': '80',
                'SERVER_PROTOCOL': 'HTTP/1.1', 'wsgi.url_scheme': 'http',
                'wsgi.input': None, 'wsgi.errors': sys.stderr}
            return b''.join(self.app(environ, lambda s, h, e=None: None))

        def our_open_title():
            our_browser.open('http://localhost/')
            return our_browser.title

        def zope_open_title():
            zope_browser.open('http://localhost/')
            return zope_browser.title

        self.page = len(call_app())
        # name -> callable doing one request
        self.variants = {
            'app called directly': call_app,
            'ours: layer.browser() open': lambda: our_browser.open(
                'http://localhost/'),
            'zope.testbrowser.wsgi.Browser open': lambda: zope_browser.open(
                'http://localhost/'),
            'ours: layer.browser() open+title': our_open_title,
            'zope.testbrowser.wsgi.Browser open+title': zope_open_title,
            'webtest.TestApp get': lambda: testapp.get('/'),
            'requests to wsgi_url (intercepted)': lambda: intercepted.get(
                url, timeout=10).content,
            'http.client to wsgi_url (intercepted)': lambda: (
                http_client_get(ours.host, 80)),
            'WSGIServerLayer requests new conn': lambda: new_connection_get(
                closing_requests, server_url),
            'WSGIServerLayer requests keep-alive': lambda: kept_requests.get(
                server_url, timeout=10).content,
            'WSGIServerLayer http.client new conn': lambda: http_client_get(
                host, port),
            'WSGIServerLayer http.client keep-alive': kept_http_client,
            'httpserverlayer requests (HTTP/1.0)': lambda: (
                new_connection_get(closing_requests, their_url)),
            'httpserverlayer http.client (HTTP/1.0)': lambda: (
                http_client_get(their_host, their_port)),
        }
        for name, call in self.variants.items():
            call()  # warm up, and fail early

    def _set_up(self, layer):
        layer.setUp()
        self.teardowns.append(layer.tearDown)

    def tear_down(self):
        for tear_down in reversed(self.teardowns):
            tear_down()


def per_request(variants, rounds, batch, warmup):
    """{name: [seconds per request, one figure per round]}."""
    figures = {name: [] for name in variants}
    names = list(variants)
    for _ in range(rounds):
        random.shuffle(names)
        for name in names:
            call = variants[name]
            for _ in range(warmup):
                call()
            start = time.perf_counter()
            for _ in range(batch):
                call()
            figures[name].append((time.perf_counter() - start) / batch)
    return figures


def cycles(count):
    """{name: [seconds per setUp+tearDown cycle]} for both server layers."""
    app = make_app()
    base = gocept.wsgilayer.WSGILayer(
        name='Bench:CycleApp', module=__name__, app_factory=lambda l: app)
    base.setUp()

    def ours(request):
        layer = gocept.wsgilayer.WSGIServerLayer(
            bases=(base,), name='Bench:Cycle', module=__name__)
        start = time.perf_counter()
        layer.setUp()
        if request:
            http_client_get(layer['http_host'], layer['http_port'])
        layer.tearDown()
        return time.perf_counter() - start

    def theirs(request):
        layer = gocept.httpserverlayer.wsgi.Layer(
            name='Bench:TheirCycle', module=__name__)
        layer.wsgi_app = app
        start = time.perf_counter()
        layer.setUp()
        if request:
            http_client_get(layer['http_host'], layer['http_port'])
        layer.tearDown()
        return time.perf_counter() - start

    figures = {}
    try:
        for request in (False, True):
            suffix = ' + 1 request' if request else ''
            for name, cycle in [('WSGIServerLayer', ours),
                                ('httpserverlayer wsgi.Layer', theirs)]:
                figures[name + ' cycle' + suffix] = [
                    cycle(request) for _ in range(count)]
    finally:
        base.tearDown()
    return figures


def us(seconds):
    return f'{seconds * 1e6:9.1f}'


def print_table(title, figures):
    print(title)
    print(f'  {"":44} {"median µs":>10} {"mean µs":>10}')
    for name, values in figures.items():
        print(f'  {name:44} {us(statistics.median(values)):>10}'
              f' {us(statistics.mean(values)):>10}')
    print()


def median_ratio(figures, slow, fast):
    return statistics.median(figures[slow]) / statistics.median(figures[fast])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=25)
    parser.add_argument('--batch', type=int, default=40)
    parser.add_argument('--warmup', type=int, default=20)
    parser.add_argument('--cycles', type=int, default=20)
    parser.add_argument('--check', action='store_true')
    args = parser.parse_args(argv)

    setup = Setup()
    try:
        print(f'Pyramid page of {setup.page} bytes; {args.rounds} rounds of'
              f' {args.batch} timed requests per variant (after'
              f' {args.warmup} untimed ones), interleaved.\n')
        figures = per_request(
            setup.variants, args.rounds, args.batch, args.warmup)
    finally:
        setup.tear_down()
    print_table('Per request', figures)

    cycle_figures = cycles(args.cycles)
    print_table(f'Layer setUp + tearDown ({args.cycles} cycles each)',
                cycle_figures)

    browser_ratios = [
        ours / theirs for ours, theirs in zip(
            figures['ours: layer.browser() open'],
            figures['zope.testbrowser.wsgi.Browser open'])]
    browser_title_ratios = [
        ours / theirs for ours, theirs in zip(
            figures['ours: layer.browser() open+title'],
            figures['zope.testbrowser.wsgi.Browser open+title'])]
    mean = statistics.mean
    targets = [
        ('our browser / zope.testbrowser (open)',
         statistics.median(browser_ratios), '<=', 1.1),
        ('our browser / zope.testbrowser (open+title)',
         statistics.median(browser_title_ratios), '<=', 1.1),
        ('new loopback conn / intercepted, requests',
         median_ratio(figures, 'WSGIServerLayer requests new conn',
                      'requests to wsgi_url (intercepted)'), '>=', 2.0),
        ('new loopback conn / intercepted, http.client',
         median_ratio(figures, 'WSGIServerLayer http.client new conn',
                      'http.client to wsgi_url (intercepted)'), '>=', 2.0),
        ('httpserverlayer / ours, http.client keep-alive',
         median_ratio(figures, 'httpserverlayer http.client (HTTP/1.0)',
                      'WSGIServerLayer http.client keep-alive'), '>=', 1.3),
        ('httpserverlayer / ours, requests keep-alive',
         median_ratio(figures, 'httpserverlayer requests (HTTP/1.0)',
                      'WSGIServerLayer requests keep-alive'), '>=', 1.3),
        ('httpserverlayer / ours, http.client new connection',
         median_ratio(figures, 'httpserverlayer http.client (HTTP/1.0)',
                      'WSGIServerLayer http.client new conn'), None, None),
        ('httpserverlayer / ours, layer cycle (mean)',
         mean(cycle_figures['httpserverlayer wsgi.Layer cycle'])
         / mean(cycle_figures['WSGIServerLayer cycle']), '>=', 50.0),
        ('httpserverlayer / ours, layer cycle + 1 request (mean)',
         mean(cycle_figures['httpserverlayer wsgi.Layer cycle + 1 request'])
         / mean(cycle_figures['WSGIServerLayer cycle + 1 request']),
         '>=', 50.0),
    ]
    print('Ratios')
    missed = 0
    for name, ratio, op, target in targets:
        if target is None:
            verdict = '(for orientation)'
        else:
            ok = ratio <= target if op == '<=' else ratio >= target
            missed += not ok
            verdict = f'target {op} {target:g}: {"ok" if ok else "MISSED"}'
        print(f'  {name:56} {ratio:8.2f}x  {verdict}')
    return 1 if args.check and missed else 0


if __name__ == '__main__':
    sys.exit(main())
