"""Benchmark gocept.httplayer against the fake HTTP servers people use.

Run: bin/python bench/httplayer.py [--cycles N] [--requests N]

Contenders, each serving GET / with a small body on loopback:

- ours: gocept.httplayer.HTTPServerLayer with a stub
- classic: the recipe of the gocept blog post "Shutting down an HTTPServer",
  ported faithfully to Python 3 (random port 30000-40000, sleep(0.25) after
  start, shutdown by firing a last request), its waits guarded by timeouts
- httpserverlayer: gocept.httpserverlayer 4.0 custom.Layer
- pytest-httpserver: pytest_httpserver 1.2 HTTPServer (start/clear/stop)

(a) setUp + one request + tearDown: median and mean of N cycles.
(b) requests per second for N GETs, keep-alive and a new connection
    each, with two clients: requests.Session (a new connection: the same
    session sending "Connection: close") and the lighter http.client (a
    new connection: a new HTTPConnection), which shows the server's own
    share better. Overall, and as 1 / the median time a request took,
    which other load on the machine hardly moves; the ratios use the
    latter.
(c) concurrency: C clients at once (threads with a kept http.client
    connection each) sending N GETs in all; requests per second overall.
(d) the server's HTTP/1.1 core alone, in-process, no sockets: parse the
    request requests sends and build a response head, with our
    gocept.httplayer.http11, with h11 0.16 (the well-kept sans-I/O state
    machine) and with http.server's BaseHTTPRequestHandler (what
    gocept.httpserverlayer and the classic recipe use); microseconds.
"""

import argparse
import sys
import errno
import http.client
import http.server
import io
import logging
import random
import statistics
import threading
import time
import urllib.error
import urllib.request

import gocept.httplayer
import gocept.httplayer.http11
import gocept.httpserverlayer.custom
import h11
import pytest_httpserver
import requests


BODY = b'ok'
# The classic recipe's shutdown request can hang: when the server thread
# sees `_continue` turn False before it is back in handle_request(), it
# ends, and the last request waits in the listen backlog. Bound that wait.
GUARD = 1.0


class Ours:
    name = 'ours'

    def setUp(self):
        self.layer = gocept.httplayer.HTTPServerLayer(
            name='Bench', module=__name__)
        self.layer.setUp()
        self.layer['http_server'].expect('GET', '/').respond(body=BODY)
        return self.layer['http_host'], self.layer['http_port']

    def tearDown(self):
        self.layer.tearDown()


# The classic recipe, as in the blog post, ported to Python 3.

class ClassicHTTPServer(http.server.HTTPServer):

    _continue = True

    def serve_until_shutdown(self):
        while self._continue:
            self.handle_request()

    def shutdown(self):
        self._continue = False
        # We fire a last request at the server in order to take it out of
        # the while loop in `self.serve_until_shutdown`.
        try:
            urllib.request.urlopen(
                'http://%s:%s/' % (self.server_name, self.server_port),
                timeout=GUARD)
        except (urllib.error.URLError, OSError):
            # If the server is already shut down, we receive a socket
            # error, which we ignore.
            pass
        self.server_close()


class SilentRequestHandler(http.server.BaseHTTPRequestHandler):

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Length', str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)


class Classic:
    name = 'classic recipe'
    host = 'localhost'
    collisions = 0

    def setUp(self):
        self.server = None
        while True:
            self.port = random.randint(30000, 40000)
            try:
                self.start_server()
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
                # The random port is taken, e.g. by an outgoing connection
                # of another process; the recipe would fail the test run.
                self.collisions += 1
            else:
                return '127.0.0.1', self.port

    def start_server(self):
        self.server = ClassicHTTPServer(
            (self.host, self.port), SilentRequestHandler)
        self.server_thread = threading.Thread(
            target=self.server.serve_until_shutdown)
        self.server_thread.daemon = True
        self.server_thread.start()
        # Kludge: Wait a little as it sometimes takes a while to get the
        # server started.
        time.sleep(0.25)

    def stop_server(self):
        if self.server is None:
            return
        self.server.shutdown()
        self.server_thread.join(10)  # guard: the shutdown may not reach it
        if self.server_thread.is_alive():
            raise RuntimeError('classic recipe: server thread hangs')

    def tearDown(self):
        self.stop_server()


class GoceptRequestHandler(gocept.httpserverlayer.custom.RequestHandler):

    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Length', str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)


class HTTPServerLayer:
    name = 'gocept.httpserverlayer'

    def setUp(self):
        self.layer = gocept.httpserverlayer.custom.Layer(
            GoceptRequestHandler, name='BenchCustom', module=__name__)
        self.layer.setUp()
        return '127.0.0.1', self.layer['http_port']

    def tearDown(self):
        self.layer.tearDown()


class PytestHTTPServer:
    name = 'pytest-httpserver'

    def setUp(self):
        # Werkzeug logs every request to stderr unless told otherwise;
        # pytest would capture that, and here it would only slow it down.
        logging.getLogger('werkzeug').setLevel(logging.WARNING)
        self.server = pytest_httpserver.HTTPServer()
        self.server.start()
        self.server.expect_request('/').respond_with_data(BODY)
        return '127.0.0.1', self.server.port

    def tearDown(self):
        self.server.clear()
        self.server.stop()


def one_request(host, port):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request('GET', '/')
        response = conn.getresponse()
        if response.read() != BODY:
            raise RuntimeError('wrong response')
    finally:
        conn.close()


def cycle(contender):
    """Return the seconds one setUp + one request + tearDown took."""
    start = time.perf_counter()
    host, port = contender.setUp()
    try:
        one_request(host, port)
    finally:
        contender.tearDown()
    return time.perf_counter() - start


class RequestsClient:
    name = 'requests'

    def __init__(self, host, port, keep_alive):
        self.url = f'http://{host}:{port}/'
        self.session = requests.Session()
        if not keep_alive:
            self.session.headers['Connection'] = 'close'

    def gets(self, count):
        """Return the seconds each of `count` GETs took."""
        times = []
        for i in range(count):
            start = time.perf_counter()
            response = self.session.get(self.url, timeout=10)
            times.append(time.perf_counter() - start)
            if response.content != BODY:
                raise RuntimeError('wrong response')
        return times

    def close(self):
        self.session.close()


class HTTPClient:
    name = 'http.client'

    def __init__(self, host, port, keep_alive):
        self.address = (host, port)
        self.keep_alive = keep_alive
        self.conn = None

    def gets(self, count):
        """Return the seconds each of `count` GETs took."""
        times = []
        for i in range(count):
            start = time.perf_counter()
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    *self.address, timeout=10)
            self.conn.request('GET', '/')
            body = self.conn.getresponse().read()
            if not self.keep_alive:
                self.close()
            times.append(time.perf_counter() - start)
            if body != BODY:
                raise RuntimeError('wrong response')
        return times

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def measure_cycles(contenders, count, classic_count):
    """Return {name: [seconds]}; the contenders take turns, so that load
    from elsewhere on the machine hits them alike."""
    times = {c.name: [] for c in contenders}
    order = random.Random(count)
    for i in range(count):
        for contender in order.sample(contenders, len(contenders)):
            if isinstance(contender, Classic) and i % (
                    count // classic_count) != 0:
                continue
            if len(times[contender.name]) < (
                    classic_count if isinstance(contender, Classic)
                    else count):
                times[contender.name].append(cycle(contender))
    return times


def measure_rates(contenders, count, rounds, keep_alive, client_class):
    """Return {name: (overall req/s, 1 / median seconds a request)}.

    The second figure is robust against load elsewhere on the machine,
    which shows up as a few slow requests, not as a slower median.
    """
    per_round = count // rounds
    servers = []
    try:
        for contender in contenders:
            host, port = contender.setUp()
            servers.append(
                (contender, client_class(host, port, keep_alive)))
        seconds = {c.name: [] for c in contenders}
        order = random.Random(rounds)
        for i in range(rounds):
            # A new order each turn, so none profits from its place.
            for contender, client in order.sample(servers, len(servers)):
                seconds[contender.name].extend(client.gets(per_round))
    finally:
        for contender, client in servers:
            client.close()
            contender.tearDown()
    return {
        name: (len(times) / sum(times), 1 / statistics.median(times))
        for name, times in seconds.items()}


def measure_concurrency(contenders, count, clients):
    """Return {name: req/s} of `clients` threads sending `count` GETs."""
    rates = {}
    for contender in random.Random(count).sample(
            contenders, len(contenders)):
        host, port = contender.setUp()
        try:
            per_client = count // clients
            workers = [HTTPClient(host, port, True) for i in range(clients)]
            threads = [threading.Thread(target=worker.gets,
                                        args=(per_client,))
                       for worker in workers]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            rates[contender.name] = (
                per_client * clients / (time.perf_counter() - start))
            for worker in workers:
                worker.close()
        finally:
            contender.tearDown()
    return rates


# The request requests.Session sends for GET /.
REQUEST = (
    b'GET / HTTP/1.1\r\nHost: 127.0.0.1:40000\r\n'
    b'User-Agent: python-requests/2.34.2\r\n'
    b'Accept-Encoding: gzip, deflate\r\nAccept: */*\r\n'
    b'Connection: keep-alive\r\n\r\n')
RESPONSE_FIELDS = [('Content-Type', 'text/plain')]


def core_ours():
    http11 = gocept.httplayer.http11
    rfile = io.BufferedReader(io.BytesIO(REQUEST))
    head = http11.read_head(rfile)
    http11.read_body(rfile, head)
    data, close = http11.response_head(
        200, RESPONSE_FIELDS, head, len(BODY), 'bench')
    return data + BODY


def core_h11():
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(REQUEST)
    conn.next_event()  # Request
    conn.next_event()  # EndOfMessage
    data = conn.send(h11.Response(
        status_code=200, reason=b'OK', headers=RESPONSE_FIELDS + [
            ('Content-Length', str(len(BODY))),
            ('Date', gocept.httplayer.http11.http_date()),
            ('Server', 'bench')]))
    data += conn.send(h11.Data(data=BODY))
    data += conn.send(h11.EndOfMessage())
    return data


class _StdlibHandler(http.server.BaseHTTPRequestHandler):

    def __init__(self):
        self.rfile = io.BufferedReader(io.BytesIO(REQUEST))
        self.wfile = io.BytesIO()

    def log_message(self, format, *args):
        pass


def core_stdlib():
    handler = _StdlibHandler()
    handler.raw_requestline = handler.rfile.readline(65537)
    handler.parse_request()
    handler.send_response(200)
    handler.send_header('Content-Type', 'text/plain')
    handler.send_header('Content-Length', str(len(BODY)))
    handler.end_headers()
    handler.wfile.write(BODY)
    return handler.wfile.getvalue()


def measure_cores(count, rounds):
    """Return {name: median microseconds} of one request through a core."""
    cores = [('ours (http11)', core_ours), ('h11', core_h11),
             ('http.server', core_stdlib)]
    seconds = {name: [] for name, _ in cores}
    order = random.Random(count)
    for i in range(rounds):
        for name, core in order.sample(cores, len(cores)):
            start = time.perf_counter()
            for j in range(count // rounds):
                core()
            seconds[name].append(
                (time.perf_counter() - start) / (count // rounds))
    return {name: statistics.median(times) * 1e6
            for name, times in seconds.items()}


def ratio_line(label, ours, other, target):
    ratio = other / ours
    verdict = 'met' if ratio >= target else 'MISSED'
    return f'  {label:<50} {ratio:8.2f}x  (target >= {target}x: {verdict})'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cycles', type=int, default=100,
                        help='setUp/tearDown cycles a library (default 100)')
    parser.add_argument('--classic-cycles', type=int, default=40,
                        help='cycles of the classic recipe, which sleeps'
                        ' 0.25 s each (default 40)')
    parser.add_argument('--requests', type=int, default=2000,
                        help='GETs a server and mode (default 2000)')
    parser.add_argument('--rounds', type=int, default=20,
                        help='turns the GETs are split into (default 20)')
    parser.add_argument('--clients', type=int, default=8,
                        help='clients at once in (c) (default 8)')
    parser.add_argument('--check', action='store_true',
                        help='exit 1 when a target is missed')
    args = parser.parse_args(argv)
    args.classic_cycles = min(args.classic_cycles, args.cycles)
    verdicts = []

    def say(line):
        print(line)
        verdicts.append(line)

    contenders = [Ours(), Classic(), HTTPServerLayer(), PytestHTTPServer()]
    for contender in contenders:
        cycle(contender)  # warm up imports and caches

    print(f'(a) setUp + one request + tearDown, milliseconds'
          f' ({args.cycles} cycles; classic recipe {args.classic_cycles};'
          f' taking turns)')
    print(f'  {"":<24} {"median":>9} {"mean":>9} {"max":>9}')
    times = measure_cycles(contenders, args.cycles, args.classic_cycles)
    cycles = {}
    for name, seconds in times.items():
        cycles[name] = (statistics.median(seconds), statistics.mean(seconds))
        print(f'  {name:<24} {cycles[name][0] * 1e3:9.2f}'
              f' {cycles[name][1] * 1e3:9.2f} {max(seconds) * 1e3:9.2f}')
    if contenders[1].collisions:
        print(f'  (the classic recipe\'s random port was taken'
              f' {contenders[1].collisions} time(s); retried)')

    print(f'\n(b) requests per second, {args.requests} GETs a server,'
          f' client and mode, in {args.rounds} turns:'
          f' overall (1 / median time a request)')
    rates = {}
    for client_class in (RequestsClient, HTTPClient):
        for keep_alive in (True, False):
            rates[client_class.name, keep_alive] = measure_rates(
                contenders, args.requests, args.rounds, keep_alive,
                client_class)
    columns = [(client, keep_alive) for client in (
        'requests', 'http.client') for keep_alive in (True, False)]
    print(f'  {"":<24}' + ''.join(
        f' {client + (" keep" if keep else " new"):>18}'
        for client, keep in columns))
    for contender in contenders:
        name = contender.name
        print(f'  {name:<24}' + ''.join(
            f' {rates[column][name][0]:8.0f} ({rates[column][name][1]:6.0f})'
            for column in columns))

    print(f'\n(c) {args.clients} clients at once, {args.requests} GETs in'
          f' all with kept http.client connections: requests per second')
    concurrent = measure_concurrency(
        contenders, args.requests, args.clients)
    for contender in contenders:
        print(f'  {contender.name:<24} {concurrent[contender.name]:8.0f}')

    print(f'\n(d) HTTP/1.1 core alone, microseconds a request'
          f' (median of {args.rounds} turns)')
    cores = measure_cores(args.requests * 5, args.rounds)
    for name, micros in cores.items():
        print(f'  {name:<24} {micros:8.1f}')

    median, mean = cycles['ours']
    libraries = ['gocept.httpserverlayer', 'pytest-httpserver']
    best_median = min(libraries, key=lambda n: cycles[n][0])
    best_mean = min(libraries, key=lambda n: cycles[n][1])
    print('\nratios: how many times faster ours is')
    say(ratio_line('(a) vs classic recipe, mean',
                     mean, cycles['classic recipe'][1], 50))
    say(ratio_line('(a) vs classic recipe, median',
                     median, cycles['classic recipe'][0], 50))
    say(ratio_line(f'(a) vs best library median ({best_median})',
                     median, cycles[best_median][0], 1.5))
    say(ratio_line(f'(a) vs best library mean ({best_mean})',
                     mean, cycles[best_mean][1], 5))
    for (client, keep_alive), figures in rates.items():
        mode = 'keep-alive' if keep_alive else 'new connection'
        best = max(libraries, key=lambda n: figures[n][1])
        # Rates are inverse times: theirs / ours per request.
        say(ratio_line(f'(b) {client} {mode}, at the median, vs {best}',
                         1 / figures['ours'][1], 1 / figures[best][1], 1))
    best = max(libraries, key=lambda n: concurrent[n])
    say(ratio_line(f'(c) concurrency vs {best}',
                     1 / concurrent['ours'], 1 / concurrent[best], 1))
    for name in ('h11', 'http.server'):
        say(ratio_line(f'(d) core vs {name}', cores['ours (http11)'],
                         cores[name], 1))
    return 1 if args.check and any('MISSED' in v for v in verdicts) else 0


if __name__ == '__main__':
    sys.exit(main())
