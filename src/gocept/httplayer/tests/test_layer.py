import functools
import http.client
import http.server
import os
import os.path
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest
import unittest.mock
import urllib.request

import gocept.httplayer
import gocept.httplayer.tests.layers
import requests


def open_fds():
    return len(os.listdir('/proc/self/fd'))


def server_threads():
    return [t for t in threading.enumerate()
            if t.name.startswith('gocept.httplayer')]


# How long a step that should take milliseconds may take on a loaded
# machine before the test calls it a regression.
DEADLINE = 20


def finishes_within(test, function, seconds=DEADLINE):
    """Call `function` in a thread; fail `test` if it is not done in time.

    A regression then fails the test within seconds instead of hanging it
    for as long as the wait it should have cut short.
    """
    outcome = []

    def call():
        try:
            outcome.append(('returned', function()))
        except BaseException as error:
            outcome.append(('raised', error))
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    test.assertFalse(
        thread.is_alive(), f'{function} took longer than {seconds} s')
    kind, value = outcome[0]
    if kind == 'raised':
        raise value
    return value


def run_test(method):
    """Run `method(test)` as the test of a plain unittest TestCase.

    Returns the unittest.TestResult.
    """
    class Inner(unittest.TestCase):
        def test(self):
            method(self)
    result = unittest.TestResult()
    Inner('test').run(result)
    return result


class LayerLifecycleTests(unittest.TestCase):
    """setUp and tearDown of layers made and set up by the test itself."""

    def make_layer(self, **kw):
        layer = gocept.httplayer.HTTPServerLayer(
            name='Lifecycle', module=__name__, **kw)
        layer.setUp()
        self.addCleanup(self.tear_down, layer)
        return layer

    def tear_down(self, layer):
        if layer._server is not None:
            layer.tearDown()

    def connect(self, layer):
        conn = http.client.HTTPConnection(
            layer['http_host'], layer['http_port'], timeout=10)
        self.addCleanup(conn.close)
        return conn

    def test_request_right_after_setUp_succeeds(self):
        layer = self.make_layer()
        layer['http_server'].expect('GET', '/').respond(body=b'up')
        self.assertEqual(b'up', requests.get(layer['http_url']).content)

    def test_port_0_picks_a_free_port(self):
        layer = self.make_layer()
        self.assertNotEqual(0, layer['http_port'])

    def test_setUp_does_no_reverse_dns_lookup(self):
        def forbidden(*args):
            raise AssertionError('reverse DNS lookup')
        with unittest.mock.patch('socket.gethostbyaddr', forbidden), \
                unittest.mock.patch('socket.getfqdn', forbidden):
            self.make_layer(host='localhost')

    def test_resources_are_set_in_setUp_and_deleted_in_tearDown(self):
        layer = self.make_layer()
        port = layer['http_port']
        self.assertEqual('127.0.0.1', layer['http_host'])
        self.assertEqual(f'127.0.0.1:{port}', layer['http_address'])
        self.assertEqual(f'http://127.0.0.1:{port}', layer['http_url'])
        self.assertIsInstance(
            layer['http_server'], gocept.httplayer.FakeServer)
        layer.tearDown()
        for name in ('http_host', 'http_port', 'http_address', 'http_url',
                     'http_server'):
            self.assertNotIn(name, layer)

    def test_tearDown_closes_idle_keep_alive_connection(self):
        layer = self.make_layer()
        server = layer['http_server']
        server.expect('GET', '/')
        conn = self.connect(layer)
        conn.request('GET', '/')
        conn.getresponse().read()
        self.assertEqual(2, len(server_threads()))  # accept + connection
        server.server.request_grace = 600  # waiting for it would show
        finishes_within(self, layer.tearDown)
        self.assertEqual([], server_threads())
        self.assertEqual(0, server.server.forced_shutdowns)
        self.assertEqual(b'', conn.sock.recv(1))  # closed by the server

    def test_tearDown_lets_request_in_flight_finish(self):
        layer = self.make_layer()
        server = layer['http_server']
        entered, release = threading.Event(), threading.Event()
        self.addCleanup(release.set)

        def slow(request):
            entered.set()
            release.wait(60)
            return 200, {}, b'finished'
        server.expect('GET', '/slow').respond(handler=slow)
        conn = self.connect(layer)
        conn.request('GET', '/slow')
        self.assertTrue(entered.wait(DEADLINE))
        server.server.request_grace = 600
        tear_down = threading.Thread(target=layer.tearDown, daemon=True)
        tear_down.start()
        release.set()
        self.assertEqual(b'finished', conn.getresponse().read())
        tear_down.join(DEADLINE)
        self.assertFalse(tear_down.is_alive())
        self.assertEqual([], server_threads())
        self.assertEqual(0, server.server.forced_shutdowns)

    def test_tearDown_cuts_a_delayed_response_short(self):
        layer = self.make_layer()
        server = layer['http_server']
        server.expect('GET', '/later').respond(delay=3600, body=b'late')
        conn = self.connect(layer)
        conn.request('GET', '/later')
        server.wait_for(1, timeout=DEADLINE)
        server.server.request_grace = 3600
        finishes_within(self, layer.tearDown)
        self.assertEqual(b'late', conn.getresponse().read())
        self.assertEqual([], server_threads())
        self.assertEqual(0, server.server.forced_shutdowns)

    def test_port_can_be_bound_again_at_once_after_tearDown(self):
        layer = self.make_layer()
        port = layer['http_port']
        layer['http_server'].expect('GET', '/')
        conn = self.connect(layer)
        conn.request('GET', '/')
        conn.getresponse().read()
        layer.tearDown()
        again = self.make_layer(port=port)
        self.assertEqual(port, again['http_port'])

    def test_setUp_failing_half_way_cleans_up(self):
        first = self.make_layer()
        fds = open_fds()
        threads = set(threading.enumerate())
        second = gocept.httplayer.HTTPServerLayer(
            name='Taken', module=__name__, port=first['http_port'],
            tls=True)
        made = []
        real_mkdtemp = tempfile.mkdtemp

        def mkdtemp(**kw):
            made.append(real_mkdtemp(**kw))
            return made[-1]
        with unittest.mock.patch('tempfile.mkdtemp', mkdtemp):
            with self.assertRaises(OSError):
                second.setUp()
        self.assertEqual(1, len(made))
        self.assertFalse(os.path.exists(made[0]))
        self.assertNotIn('http_url', second)
        self.assertEqual(fds, open_fds())
        self.assertEqual(threads, set(threading.enumerate()))

    def test_500_cycles_leak_no_fd_and_no_thread(self):
        fds = open_fds()
        threads = set(threading.enumerate())
        layer = gocept.httplayer.HTTPServerLayer(
            name='Cycles', module=__name__)
        for i in range(500):
            layer.setUp()
            layer['http_server'].expect('GET', '/')
            conn = http.client.HTTPConnection(
                layer['http_host'], layer['http_port'], timeout=10)
            conn.request('GET', '/')
            conn.getresponse().read()
            layer.tearDown()  # with the keep-alive connection still open
            conn.close()
        self.assertEqual(fds, open_fds())
        self.assertEqual(threads, set(threading.enumerate()))

    def test_serves_ipv6_loopback(self):
        layer = self.make_layer(host='::1')
        port = layer['http_port']
        self.assertEqual(f'[::1]:{port}', layer['http_address'])
        self.assertEqual(f'http://[::1]:{port}', layer['http_url'])
        layer['http_server'].expect('GET', '/v6').respond(body=b'six')
        self.assertEqual(
            b'six', requests.get(layer['http_url'] + '/v6').content)

    def test_hung_handler_is_reported_in_its_test_not_waited_for(self):
        layer = self.make_layer()
        server = layer['http_server']
        # Waiting for the hung thread would now take a minute.
        server.server.join_timeout = 60
        entered, release = threading.Event(), threading.Event()
        self.addCleanup(release.set)
        handler_threads = []

        def hang(request):
            handler_threads.append(threading.current_thread())
            entered.set()
            release.wait(600)
            return 200, {}, b'too late'

        def client():
            try:
                requests.get(layer['http_url'] + '/hang', timeout=DEADLINE)
            except requests.ConnectionError:
                pass  # the server cut it off

        def test(inner):
            layer.testSetUp()
            server.expect('GET', '/hang').respond(handler=hang)
            threading.Thread(target=client, daemon=True).start()
            inner.assertTrue(entered.wait(DEADLINE))
        result = finishes_within(self, lambda: run_test(test))
        (_, failure), = result.failures
        self.assertIn('HandlerError', failure)
        self.assertIn('GET /hang (handler of stub GET /hang): still'
                      ' running after', failure)
        finishes_within(self, layer.testTearDown)
        # The abandoned thread ends when its handler returns; it is not
        # reused.
        release.set()
        handler_threads[0].join(DEADLINE)
        self.assertFalse(handler_threads[0].is_alive())
        self.assertEqual(1, len(server_threads()))  # the accept thread
        finishes_within(self, layer.tearDown)

    def test_testSetUp_from_a_test_method_reports_to_that_test(self):
        layer = self.make_layer()

        def test(inner):
            layer.testSetUp()
            requests.get(layer['http_url'] + '/unexpected')
        result = run_test(test)
        self.assertEqual([], result.errors)
        (_, failure), = result.failures
        self.assertIn('GET /unexpected matched no stub', failure)

    def test_testSetUp_without_a_running_test_reports_at_testTearDown(self):
        layer = self.make_layer()
        # A thread of its own has no unittest.TestCase.run on its stack.
        thread = threading.Thread(target=layer.testSetUp)
        thread.start()
        thread.join(DEADLINE)
        requests.get(layer['http_url'] + '/unexpected')
        with self.assertRaisesRegex(gocept.httplayer.UnexpectedRequests,
                                    'GET /unexpected matched no stub'):
            layer.testTearDown()
        layer.testTearDown()  # reported once

    def test_name_is_required(self):
        for layer_class in (gocept.httplayer.HTTPServerLayer,
                            gocept.httplayer.StaticFilesLayer):
            with self.assertRaisesRegex(ValueError, '`name`.*required'):
                layer_class()

    def test_module_defaults_to_the_callers(self):
        for layer_class in (gocept.httplayer.HTTPServerLayer,
                            gocept.httplayer.StaticFilesLayer):
            self.assertEqual(__name__, layer_class(name='M').__module__)

    def test_bad_arguments_raise_value_error_naming_them(self):
        for kw, name in [
                (dict(port=-1), '`port`'),
                (dict(port='80'), '`port`'),
                (dict(host=''), '`host`'),
                (dict(handler=lambda *args: None), '`handler`'),
                (dict(handler=http.server.HTTPServer), '`handler`'),
                (dict(no_match_status=0), None)]:
            if name is None:
                layer = gocept.httplayer.HTTPServerLayer(
                    name='Bad', module=__name__, **kw)
                with self.assertRaisesRegex(ValueError, '`no_match_status`'):
                    layer.setUp()
                continue
            with self.assertRaisesRegex(ValueError, name):
                gocept.httplayer.HTTPServerLayer(
                    name='Bad', module=__name__, **kw)


class TwoLayersTests(unittest.TestCase):
    """Two layers set up at once, stacked or side by side."""

    def set_up(self, **kw):
        layer = gocept.httplayer.HTTPServerLayer(module=__name__, **kw)
        layer.setUp()
        self.addCleanup(lambda: layer._server and layer.tearDown())
        return layer

    def assertIndependent(self, one, other):
        self.assertNotEqual(one.url, other.url)
        one.expect('GET', '/one').respond(body=b'one')
        other.expect('GET', '/other').respond(body=b'other')
        self.assertEqual(b'one', requests.get(one.url + '/one').content)
        self.assertEqual(b'other', requests.get(other.url + '/other').content)
        self.assertEqual(500, requests.get(one.url + '/other').status_code)
        self.assertEqual(['/one', '/other'], [r.path for r in one.requests])
        self.assertEqual(['/other'], [r.path for r in other.requests])
        self.assertRaises(gocept.httplayer.UnexpectedRequests, one.check)
        other.check()

    def test_sibling_layers_have_independent_servers(self):
        first = self.set_up(name='First')
        second = self.set_up(name='Second')
        self.assertIndependent(first['http_server'], second['http_server'])

    def test_stacked_layer_shadows_the_base_resources_until_tearDown(self):
        base = self.set_up(name='Base')
        base_server = base['http_server']
        stacked = self.set_up(bases=(base,), name='Stacked')
        # plone.testing: a resource of the same name shadows the base's.
        self.assertIs(stacked['http_server'], base['http_server'])
        self.assertIndependent(base_server, stacked['http_server'])
        stacked.tearDown()
        self.assertIs(base_server, base['http_server'])
        base_server.expect('GET', '/after')
        self.assertEqual(
            200, requests.get(base['http_url'] + '/after').status_code)


class StackedLayerTests(unittest.TestCase):
    """zope.testrunner sets up a stacked layer and its base."""

    layer = gocept.httplayer.HTTPServerLayer(
        bases=(gocept.httplayer.tests.layers.HTTP_LAYER,),
        name='StackedHTTPServerLayer', module=__name__)

    def test_the_stacked_server_answers(self):
        self.layer['http_server'].expect('GET', '/').respond(body=b'top')
        self.assertEqual(
            b'top', requests.get(self.layer['http_url']).content)


TLS_LAYER = gocept.httplayer.HTTPServerLayer(
    tls=True, name='HTTPSServerLayer', module=__name__)


class TLSTests(unittest.TestCase):

    layer = TLS_LAYER

    def setUp(self):
        self.server = self.layer['http_server']
        self.server.expect('GET', '/secure').respond(body=b'secret')

    def test_url_is_https(self):
        self.assertTrue(self.layer['http_url'].startswith('https://'))

    def test_requests_verifies_with_the_ca_pem(self):
        response = requests.get(self.layer['http_url'] + '/secure',
                                verify=self.layer['http_ca_pem'])
        self.assertEqual(b'secret', response.content)

    def test_urllib_verifies_with_the_ca_pem(self):
        context = ssl.create_default_context(
            cafile=self.layer['http_ca_pem'])
        with urllib.request.urlopen(self.layer['http_url'] + '/secure',
                                    context=context, timeout=10) as f:
            self.assertEqual(b'secret', f.read())

    def test_client_without_the_ca_fails_verification(self):
        with self.assertRaises(requests.exceptions.SSLError):
            requests.get(self.layer['http_url'] + '/secure',
                         verify=True)

    def test_plain_http_client_gets_a_clear_400(self):
        response = requests.get(
            f'http://{self.layer["http_address"]}/secure', timeout=10)
        self.assertEqual(400, response.status_code)
        self.assertIn('This server speaks https only: use https://',
                      response.text)


class TLSLifecycleTests(unittest.TestCase):

    def test_ca_pem_is_removed_in_tearDown(self):
        layer = gocept.httplayer.HTTPServerLayer(
            tls=True, name='TLSLifecycle', module=__name__)
        layer.setUp()
        ca_pem = layer['http_ca_pem']
        self.assertTrue(os.path.isfile(ca_pem))
        layer.tearDown()
        self.assertNotIn('http_ca_pem', layer)
        self.assertFalse(os.path.exists(os.path.dirname(ca_pem)))

    def test_tls_on_ipv6_loopback(self):
        layer = gocept.httplayer.HTTPServerLayer(
            tls=True, host='::1', name='TLSv6', module=__name__)
        layer.setUp()
        self.addCleanup(layer.tearDown)
        layer['http_server'].expect('GET', '/')
        response = requests.get(
            layer['http_url'], verify=layer['http_ca_pem'])
        self.assertEqual(200, response.status_code)


class SilentRequestHandler(http.server.BaseHTTPRequestHandler):
    """The seed recipe's handler, ported to Python 3, with a GET."""

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        if self.path == '/broken':
            raise RuntimeError('the handler is broken')
        if self.path == '/hang':
            self.release.entered.set()
            self.release.wait(600)
        body = f'classic {self.path}'.encode('ascii')
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ClassicHandlerTests(unittest.TestCase):
    """The classic recipe: a handler class serves every request."""

    layer = gocept.httplayer.HTTPServerLayer(
        handler=SilentRequestHandler, name='ClassicHandlerLayer',
        module=__name__)

    def test_handler_serves_every_request(self):
        for path in ('/', '/a', '/b/c'):
            response = requests.get(self.layer['http_url'] + path)
            self.assertEqual(f'classic {path}', response.text)

    def test_methods_the_handler_lacks_are_answered_by_it(self):
        response = requests.post(self.layer['http_url'] + '/')
        self.assertEqual(501, response.status_code)

    def test_handler_exception_is_reported(self):
        with self.assertRaises(requests.ConnectionError):
            requests.get(self.layer['http_url'] + '/broken')
        with self.assertRaisesRegex(gocept.httplayer.HandlerError,
                                    'RuntimeError: the handler is broken'):
            self.layer['http_server'].check()

    def test_hung_handler_is_reported_not_waited_for(self):
        server = gocept.httplayer.FakeServer(handler=SilentRequestHandler)
        server.start()
        self.addCleanup(server.stop)
        server.server.join_timeout = 60  # waiting would take a minute
        release = threading.Event()
        release.entered = threading.Event()
        SilentRequestHandler.release = release
        self.addCleanup(delattr, SilentRequestHandler, 'release')
        self.addCleanup(release.set)

        def client():
            try:
                requests.get(server.url + '/hang', timeout=60)
            except requests.ConnectionError:
                pass  # the server cut it off
        threading.Thread(target=client, daemon=True).start()
        self.assertTrue(release.entered.wait(DEADLINE))
        finishes_within(self, server.server.close_connections)
        with self.assertRaisesRegex(
                gocept.httplayer.HandlerError,
                r'GET /hang \(SilentRequestHandler.do_GET\): still running'):
            server.check()

    def test_stubs_are_not_used(self):
        with self.assertRaises(RuntimeError):
            self.layer['http_server'].expect('GET', '/')


REPORTING_TESTS = '''
import unittest

import gocept.httplayer
import requests

LAYER = gocept.httplayer.HTTPServerLayer(name='Reporting', module=__name__)


class Tests(unittest.TestCase):

    layer = LAYER

    def test_1_unmatched_request(self):
        LAYER['http_server'].expect('GET', '/api/items')
        requests.get(LAYER['http_url'] + '/api/itemz')

    def test_2_unmet_times(self):
        LAYER['http_server'].expect('POST', '/api/items', times=2)
        requests.post(LAYER['http_url'] + '/api/items')

    def test_3_handler_exception(self):
        def broken(request):
            return 1 / 0
        LAYER['http_server'].expect('GET', '/api/boom').respond(
            handler=broken)
        requests.get(LAYER['http_url'] + '/api/boom')

    def test_4_next_test_runs_clean(self):
        LAYER['http_server'].expect('GET', '/api/ok')
        self.assertEqual(
            200, requests.get(LAYER['http_url'] + '/api/ok').status_code)
        print('TEST 4 RAN')


class UncheckedTests(unittest.TestCase):

    layer = gocept.httplayer.HTTPServerLayer(
        check=False, name='Unchecked', module=__name__)

    def test_5_check_false_reports_nothing(self):
        requests.get(self.layer['http_url'] + '/unexpected')
'''


@functools.cache
def run_reporting_tests(*command):
    """Return output and exit code of a run of them by `command`."""
    with tempfile.TemporaryDirectory() as tmp:
        package = os.path.join(tmp, 'reportingdemo')
        os.mkdir(package)
        open(os.path.join(package, '__init__.py'), 'w').close()
        with open(os.path.join(package, 'tests.py'), 'w') as f:
            f.write(REPORTING_TESTS)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([tmp] + sys.path))
        result = subprocess.run(
            [sys.executable, '-m'] + [
                arg.replace('TMP', tmp) for arg in command],
            capture_output=True, text=True, env=env, timeout=300, cwd=tmp)
    return result.stdout + result.stderr, result.returncode


class ReportingTests(unittest.TestCase):
    """Problems fail the test that caused them; the run goes on.

    Runs a small suite with zope.testrunner in a subprocess.
    """

    def setUp(self):
        self.output, self.returncode = run_reporting_tests(
            'zope.testrunner', '--test-path', 'TMP', '-vv')

    def test_run_fails_and_counts_three_failures(self):
        self.assertNotEqual(0, self.returncode)
        self.assertIn('Total: 5 tests, 3 failures, 0 errors', self.output)

    def test_unmatched_request_fails_the_test_naming_the_nearest_stub(self):
        self.assertIn(
            'Failure in test test_1_unmatched_request', self.output)
        self.assertIn('GET /api/itemz matched no stub; nearest stub:'
                      ' GET /api/items (path /api/itemz does not match)',
                      self.output)

    def test_unmet_times_fails_the_test(self):
        self.assertIn('Failure in test test_2_unmet_times', self.output)
        self.assertIn('UnmetExpectations', self.output)
        self.assertIn('POST /api/items times=2: got 1 request(s)',
                      self.output)

    def test_handler_exception_fails_the_test(self):
        self.assertIn('Failure in test test_3_handler_exception',
                      self.output)
        self.assertIn('GET /api/boom (stub GET /api/boom):'
                      ' ZeroDivisionError: division by zero', self.output)

    def test_next_test_still_runs_and_passes(self):
        self.assertIn('TEST 4 RAN', self.output)
        self.assertNotIn('test_4_next_test_runs_clean (', self.output.split(
            'Tests with failures:')[-1])

    def test_check_false_turns_reporting_off(self):
        self.assertNotIn('Failure in test test_5', self.output)


class ParallelReportingTests(unittest.TestCase):
    """With -j2 each layer runs in a subprocess; reporting still works."""

    def test_each_problem_fails_its_test_and_the_rest_pass(self):
        output, returncode = run_reporting_tests(
            'zope.testrunner', '--test-path', 'TMP', '-j2')
        self.assertNotEqual(0, returncode)
        self.assertIn('Running in a subprocess.', output)
        self.assertIn('Total: 5 tests, 3 failures, 0 errors', output)
        for name in ('test_1_unmatched_request', 'test_2_unmet_times',
                     'test_3_handler_exception'):
            self.assertIn(f'Failure in test {name}', output)
        self.assertIn('TEST 4 RAN', output)


class PytestReportingTests(unittest.TestCase):
    """Under pytest (zope.pytestlayer) problems error the test's teardown."""

    def setUp(self):
        self.output, self.returncode = run_reporting_tests(
            'pytest', '-p', 'no:cacheprovider', 'reportingdemo/tests.py')

    def test_each_problem_errors_its_test_and_the_rest_pass(self):
        self.assertNotEqual(0, self.returncode)
        self.assertIn('5 passed', self.output)
        self.assertIn('3 errors', self.output)
        for name in ('test_1_unmatched_request', 'test_2_unmet_times',
                     'test_3_handler_exception'):
            self.assertIn(f'ERROR reportingdemo/tests.py::Tests::{name}',
                          self.output)
        self.assertIn('GET /api/itemz matched no stub; nearest stub:'
                      ' GET /api/items', self.output)
