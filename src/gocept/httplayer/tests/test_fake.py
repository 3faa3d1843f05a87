import http.client
import http.server
import re
import threading
import unittest

import gocept.httplayer
import gocept.httplayer.tests.layers
import requests


class FakeServerTests(unittest.TestCase):

    layer = gocept.httplayer.tests.layers.HTTP_LAYER

    def setUp(self):
        self.server = self.layer['http_server']
        self.url = self.layer['http_url']

    def connect(self, timeout=10):
        conn = http.client.HTTPConnection(
            self.layer['http_host'], self.layer['http_port'],
            timeout=timeout)
        self.addCleanup(conn.close)
        return conn

    def test_journal_records_every_request(self):
        self.server.expect('POST', '/items').respond(status=201)
        requests.post(self.url + '/items?x=1', json={'a': 1},
                      headers={'X-Token': 't'})
        request, = self.server.requests
        self.assertEqual('POST', request.method)
        self.assertEqual('/items', request.path)
        self.assertEqual({'x': '1'}, request.query)
        self.assertEqual('t', request.headers['x-token'])
        self.assertEqual(b'{"a": 1}', request.body)
        self.assertEqual({'a': 1}, request.json())
        self.assertIsInstance(request, gocept.httplayer.Request)

    def test_unmatched_request_is_answered_500_and_recorded(self):
        response = requests.get(self.url + '/nope')
        self.assertEqual(500, response.status_code)
        self.assertEqual(['/nope'], [r.path for r in self.server.requests])
        self.assertIsNone(self.server.requests[0].stub)
        with self.assertRaisesRegex(gocept.httplayer.UnexpectedRequests,
                                    'GET /nope matched no stub'):
            self.server.check()

    def test_request_with_an_unsupported_method_is_reported(self):
        response = requests.request('PROPFIND', self.url + '/dav')
        self.assertEqual(500, response.status_code)
        self.assertEqual(['PROPFIND'],
                         [r.method for r in self.server.requests])
        with self.assertRaisesRegex(gocept.httplayer.UnexpectedRequests,
                                    'PROPFIND /dav matched no stub'):
            self.server.check()

    def test_check_reports_a_problem_only_once(self):
        requests.get(self.url + '/nope')
        with self.assertRaises(gocept.httplayer.UnexpectedRequests):
            self.server.check()
        self.server.check()

    def test_check_reports_unmet_times(self):
        self.server.expect('DELETE', '/items/1', times=2)
        requests.delete(self.url + '/items/1')
        with self.assertRaisesRegex(
                gocept.httplayer.UnmetExpectations,
                'DELETE /items/1 times=2: got 1 request'):
            self.server.check()

    def test_check_reports_an_unmet_stub_only_once(self):
        self.server.expect('DELETE', '/items/1', times=2)
        with self.assertRaises(gocept.httplayer.UnmetExpectations):
            self.server.check()
        self.server.check()

    def test_permanent_stub_is_never_unmet(self):
        self.server.expect('GET', '/any')
        self.server.check()

    def test_reset_forgets_stubs_requests_and_problems(self):
        self.server.expect('GET', '/x', times=1)
        requests.get(self.url + '/y')
        self.server.reset()
        self.assertEqual([], self.server.stubs)
        self.assertEqual([], self.server.requests)
        self.server.check()

    def test_handler_exception_answers_500_and_is_reported(self):
        def broken(request):
            raise KeyError('missing')
        self.server.expect('GET', '/boom').respond(handler=broken)
        response = requests.get(self.url + '/boom')
        self.assertEqual(500, response.status_code)
        self.assertIn("KeyError: 'missing'", response.text)
        with self.assertRaisesRegex(
                gocept.httplayer.HandlerError,
                "GET /boom \\(stub GET /boom\\): KeyError: 'missing'") as cm:
            self.server.check()
        self.assertIsInstance(cm.exception.__cause__, KeyError)

    def test_handler_returning_bad_body_is_a_handler_error(self):
        self.server.expect('GET', '/bad').respond(
            handler=lambda request: (200, {}, 42))
        self.assertEqual(500, requests.get(self.url + '/bad').status_code)
        with self.assertRaisesRegex(gocept.httplayer.HandlerError,
                                    'body of bytes, str or None'):
            self.server.check()

    def test_errors_derive_from_the_package_base(self):
        for error in (gocept.httplayer.UnexpectedRequests,
                      gocept.httplayer.UnmetExpectations,
                      gocept.httplayer.HandlerError,
                      gocept.httplayer.WaitTimeout):
            self.assertTrue(issubclass(error, gocept.httplayer.Error))

    def test_no_match_status_changes_the_unmatched_answer(self):
        server = gocept.httplayer.FakeServer(no_match_status=404)
        server.start()
        self.addCleanup(server.stop)
        self.assertEqual(404, requests.get(server.url + '/x').status_code)

    def test_fault_reset_sends_rst(self):
        self.server.expect('GET', '/reset').respond(fault='reset')
        conn = self.connect()
        conn.request('GET', '/reset')
        with self.assertRaises(ConnectionResetError):
            conn.getresponse()

    def test_fault_close_closes_without_response(self):
        self.server.expect('GET', '/close').respond(fault='close')
        conn = self.connect()
        conn.request('GET', '/close')
        with self.assertRaises(http.client.RemoteDisconnected):
            conn.getresponse()

    def test_fault_garbage_sends_no_http(self):
        self.server.expect('GET', '/garbage').respond(fault='garbage')
        conn = self.connect()
        conn.request('GET', '/garbage')
        with self.assertRaises(http.client.BadStatusLine):
            conn.getresponse()

    def test_faults_reach_requests_as_connection_errors(self):
        self.server.expect('GET', '/reset').respond(fault='reset')
        with self.assertRaises(requests.ConnectionError):
            requests.get(self.url + '/reset')

    def test_delay_holds_the_response_back(self):
        self.server.expect('GET', '/slow').respond(delay=60, body=b'late')
        conn = self.connect(timeout=0.2)
        conn.request('GET', '/slow')
        with self.assertRaises(TimeoutError):
            conn.getresponse()

    def test_delayed_response_arrives(self):
        self.server.expect('GET', '/slow').respond(delay=0.01, body=b'late')
        self.assertEqual(b'late', requests.get(self.url + '/slow').content)

    def test_wait_for_returns_when_count_requests_arrived(self):
        self.server.expect('GET', re.compile('/job/.*'))
        threads = [threading.Thread(target=requests.get,
                                    args=(f'{self.url}/job/{i}',))
                   for i in range(3)]
        for thread in threads:
            thread.start()
        arrived = self.server.wait_for(count=3, timeout=60)
        for thread in threads:
            thread.join(60)
        self.assertEqual(['/job/0', '/job/1', '/job/2'],
                         sorted(r.path for r in arrived))

    def test_wait_for_timeout_lists_what_arrived(self):
        self.server.expect('POST', '/hook')
        requests.post(self.url + '/hook', data=b'ping')
        with self.assertRaisesRegex(
                gocept.httplayer.WaitTimeout,
                r"(?s)for 2 request\(s\).*1 arrived.*POST /hook"
                r" body=b'ping'"):
            self.server.wait_for(count=2, timeout=0.01)

    def test_response_announces_close_when_client_asked_for_it(self):
        self.server.expect('GET', '/')
        with requests.Session() as session:
            session.headers['Connection'] = 'close'
            for i in range(3):
                response = session.get(self.url)
                self.assertEqual('close', response.headers['Connection'])

    def test_expect_on_server_with_handler_raises(self):
        server = gocept.httplayer.FakeServer(handler=ClassicHandler)
        with self.assertRaisesRegex(RuntimeError, 'stubs are not used'):
            server.expect('GET', '/')


class ResetBetweenTestsTests(unittest.TestCase):
    """testSetUp resets the server: each test starts without stubs."""

    layer = gocept.httplayer.tests.layers.HTTP_LAYER

    def assert_fresh_then_leave_state_behind(self):
        server = self.layer['http_server']
        self.assertEqual([], server.stubs)
        self.assertEqual([], server.requests)
        server.expect('GET', '/left-behind')
        requests.get(self.layer['http_url'] + '/left-behind')

    def test_1_starts_fresh(self):
        self.assert_fresh_then_leave_state_behind()

    def test_2_starts_fresh(self):
        self.assert_fresh_then_leave_state_behind()


class ClassicHandler(http.server.BaseHTTPRequestHandler):

    def log_message(self, format, *args):
        pass
