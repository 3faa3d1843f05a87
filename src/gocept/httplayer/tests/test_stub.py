import re
import unittest

import gocept.httplayer
import gocept.httplayer.tests.layers
import requests


class StubMatchingTests(unittest.TestCase):
    """Each criterion of a stub, shown with real requests."""

    layer = gocept.httplayer.tests.layers.HTTP_LAYER

    def setUp(self):
        self.server = self.layer['http_server']
        self.url = self.layer['http_url']
        self.session = requests.Session()
        self.addCleanup(self.session.close)

    def assertUnmatched(self, response, reason):
        self.assertEqual(500, response.status_code)
        self.assertIn('matched no stub', response.text)
        self.assertIn(reason, response.text)
        with self.assertRaises(gocept.httplayer.UnexpectedRequests):
            self.server.check()

    def test_method_must_match(self):
        self.server.expect('POST', '/items').respond(status=201)
        self.assertEqual(
            201, self.session.post(self.url + '/items').status_code)
        self.assertUnmatched(self.session.get(self.url + '/items'),
                             'method GET is not POST')

    def test_path_matches_exactly(self):
        self.server.expect('GET', '/items').respond(body=b'list')
        response = self.session.get(self.url + '/items')
        self.assertEqual(b'list', response.content)
        self.assertUnmatched(self.session.get(self.url + '/items/1'),
                             'path /items/1 does not match')

    def test_path_matches_a_compiled_pattern_fully(self):
        self.server.expect('GET', re.compile(r'/items/\d+')).respond(
            body=b'one')
        self.assertEqual(
            b'one', self.session.get(self.url + '/items/42').content)
        self.assertUnmatched(self.session.get(self.url + '/items/42/x'),
                             'path /items/42/x does not match')

    def test_query_must_equal_the_whole_query(self):
        self.server.expect('GET', '/items', query={'page': 2}).respond(
            json=['b'])
        self.assertEqual(
            ['b'], self.session.get(self.url + '/items?page=2').json())
        self.assertUnmatched(
            self.session.get(self.url + '/items?page=2&size=5'),
            "query {'page': '2', 'size': '5'} is not {'page': '2'}")

    def test_repeated_query_name_matches_a_list(self):
        self.server.expect('GET', '/items', query={'tag': ['a', 'b']})
        response = self.session.get(self.url + '/items?tag=a&tag=b')
        self.assertEqual(200, response.status_code)

    def test_header_names_are_case_insensitive(self):
        self.server.expect(
            'GET', '/items', headers={'accept': 'application/json'})
        response = self.session.get(
            self.url + '/items', headers={'ACCEPT': 'application/json'})
        self.assertEqual(200, response.status_code)
        self.assertUnmatched(
            self.session.get(
                self.url + '/items', headers={'Accept': 'text/html'}),
            'header accept is text/html, not application/json')

    def test_json_body_matches_exactly(self):
        self.server.expect('POST', '/items', json={'name': 'a'})
        self.assertEqual(200, self.session.post(
            self.url + '/items', json={'name': 'a'}).status_code)
        self.assertUnmatched(
            self.session.post(
                self.url + '/items', json={'name': 'a', 'id': 1}),
            "JSON {'name': 'a', 'id': 1} is not {'name': 'a'}")

    def test_json_subset_matches_contained_keys_recursively(self):
        self.server.expect(
            'POST', '/items', json={'item': {'name': 'a'}}, json_subset=True)
        self.assertEqual(200, self.session.post(self.url + '/items', json={
            'item': {'name': 'a', 'id': 1}, 'when': 'now'}).status_code)
        self.assertUnmatched(
            self.session.post(
                self.url + '/items', json={'item': {'name': 'b'}}),
            'does not contain')

    def test_json_stub_does_not_match_a_body_that_is_no_json(self):
        self.server.expect('POST', '/items', json={'name': 'a'})
        self.assertUnmatched(
            self.session.post(self.url + '/items', data=b'name=a'),
            "body b'name=a' is not JSON")

    def test_raw_body_matches_exactly(self):
        self.server.expect('PUT', '/blob', body=b'\x00\x01')
        self.assertEqual(200, self.session.put(
            self.url + '/blob', data=b'\x00\x01').status_code)
        self.assertUnmatched(
            self.session.put(self.url + '/blob', data=b'\x00\x02'),
            "body b'\\x00\\x02' is not b'\\x00\\x01'")

    def test_chunked_request_body_is_read(self):
        self.server.expect('POST', '/upload', body=b'abcdef')
        response = self.session.post(
            self.url + '/upload', data=iter([b'abc', b'def']))
        self.assertEqual(200, response.status_code)
        self.assertEqual(b'abcdef', self.server.requests[0].body)

    def test_times_limits_the_matches(self):
        self.server.expect('GET', '/once', times=1).respond(body=b'first')
        response = self.session.get(self.url + '/once')
        self.assertEqual(b'first', response.content)
        self.assertUnmatched(self.session.get(self.url + '/once'),
                             'already answered 1 times')

    def test_stubs_match_in_the_order_they_were_added(self):
        self.server.expect('GET', '/x', times=1).respond(body=b'1')
        self.server.expect('GET', '/x').respond(body=b'2')
        bodies = [self.session.get(self.url + '/x').content for i in range(3)]
        self.assertEqual([b'1', b'2', b'2'], bodies)

    def test_response_sequence_repeats_its_last_answer(self):
        self.server.expect('GET', '/flaky').respond(status=503).then(
            status=200, json={'ok': True})
        statuses = [self.session.get(self.url + '/flaky').status_code
                    for i in range(3)]
        self.assertEqual([503, 200, 200], statuses)

    def test_response_headers_and_json_content_type(self):
        self.server.expect('GET', '/h').respond(
            json={'a': 1}, headers={'X-Trace': 'abc'})
        response = self.session.get(self.url + '/h')
        self.assertEqual('abc', response.headers['X-Trace'])
        self.assertEqual('application/json', response.headers['Content-Type'])
        self.assertEqual({'a': 1}, response.json())

    def test_head_gets_headers_without_body(self):
        self.server.expect('HEAD', '/h').respond(body=b'12345')
        response = self.session.head(self.url + '/h')
        self.assertEqual('5', response.headers['Content-Length'])
        self.assertEqual(b'', response.content)

    def test_handler_callable_builds_the_response(self):
        def echo(request):
            return 201, {'X-Method': request.method}, request.body.upper()
        self.server.expect('POST', '/echo').respond(handler=echo)
        response = self.session.post(self.url + '/echo', data=b'hi')
        self.assertEqual(201, response.status_code)
        self.assertEqual('POST', response.headers['X-Method'])
        self.assertEqual(b'HI', response.content)

    def test_unmatched_request_body_names_the_nearest_stub(self):
        self.server.expect('GET', '/other')
        self.server.expect('POST', '/items', json={'a': 1})
        self.server.expect('GET', '/items', query={'page': '1'})
        response = self.session.get(self.url + '/items?page=2')
        self.assertIn(
            "nearest stub: GET /items query={'page': '1'}", response.text)
        self.assertRaises(gocept.httplayer.UnexpectedRequests,
                          self.server.check)

    def test_unmatched_request_without_stubs_says_so(self):
        response = self.session.get(self.url + '/nothing')
        self.assertIn('GET /nothing matched no stub; there are no stubs',
                      response.text)
        self.assertRaises(gocept.httplayer.UnexpectedRequests,
                          self.server.check)


class StubArgumentTests(unittest.TestCase):

    def setUp(self):
        self.server = gocept.httplayer.FakeServer()

    def test_unknown_method_raises_value_error(self):
        with self.assertRaisesRegex(ValueError, '`method`.*FETCH'):
            self.server.expect('FETCH', '/')

    def test_path_must_be_absolute_without_query(self):
        with self.assertRaisesRegex(ValueError, '`path`.*query='):
            self.server.expect('GET', '/x?a=1')
        with self.assertRaisesRegex(ValueError, '`path`'):
            self.server.expect('GET', 'x')

    def test_times_below_1_raises_value_error(self):
        for times in (0, -1, 1.5, True):
            with self.assertRaisesRegex(ValueError, '`times`'):
                self.server.expect('GET', '/', times=times)

    def test_unknown_fault_raises_value_error(self):
        stub = self.server.expect('GET', '/')
        with self.assertRaisesRegex(ValueError, '`fault`.*explode'):
            stub.respond(fault='explode')

    def test_non_callable_handler_raises_value_error(self):
        stub = self.server.expect('GET', '/')
        with self.assertRaisesRegex(ValueError, '`handler`'):
            stub.respond(handler='not callable')

    def test_bad_status_delay_and_body_raise_value_error(self):
        stub = self.server.expect('GET', '/')
        with self.assertRaisesRegex(ValueError, '`status`'):
            stub.respond(status=99)
        with self.assertRaisesRegex(ValueError, '`delay`'):
            stub.respond(delay=-1)
        with self.assertRaisesRegex(ValueError, '`body` and `json`'):
            stub.respond(body=b'', json={})

    def test_json_subset_needs_json(self):
        with self.assertRaisesRegex(ValueError, '`json_subset`'):
            self.server.expect('POST', '/', json_subset=True)

    def test_bad_no_match_status_and_handler_raise_value_error(self):
        with self.assertRaisesRegex(ValueError, '`no_match_status`'):
            gocept.httplayer.FakeServer(no_match_status=1000)
        with self.assertRaisesRegex(ValueError, '`handler`'):
            gocept.httplayer.FakeServer(handler=print)
