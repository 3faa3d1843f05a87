import http.client
import os
import os.path
import tempfile
import unittest

import gocept.httplayer
import requests


STATIC_LAYER = gocept.httplayer.StaticFilesLayer(
    name='StaticFilesLayer', module=__name__)


class StaticFilesTests(unittest.TestCase):

    layer = STATIC_LAYER

    def write(self, name, data):
        path = os.path.join(self.layer['documentroot'], name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)

    def test_serves_files_of_the_documentroot(self):
        self.write('sub/page.html', b'<p>hi</p>')
        response = requests.get(self.layer['http_url'] + '/sub/page.html')
        self.assertEqual(b'<p>hi</p>', response.content)
        self.assertEqual('text/html', response.headers['Content-Type'])

    def test_missing_file_is_404(self):
        response = requests.get(self.layer['http_url'] + '/missing.txt')
        self.assertEqual(404, response.status_code)

    def test_response_announces_close_once_when_client_asked_for_it(self):
        self.write('a.txt', b'a')
        for path in ('/a.txt', '/missing.txt'):
            conn = http.client.HTTPConnection(
                self.layer['http_host'], self.layer['http_port'], timeout=10)
            self.addCleanup(conn.close)
            conn.request('GET', path, headers={'Connection': 'close'})
            response = conn.getresponse()
            self.assertEqual(['close'], response.headers.get_all('Connection'))

    def test_temp_documentroot_is_empty_at_the_start_of_each_test_a(self):
        self.assertEqual([], os.listdir(self.layer['documentroot']))
        self.write('left-behind/file.txt', b'x')
        self.write('file.txt', b'x')

    def test_temp_documentroot_is_empty_at_the_start_of_each_test_b(self):
        self.assertEqual([], os.listdir(self.layer['documentroot']))
        self.write('left-behind/file.txt', b'x')
        self.write('file.txt', b'x')


class StaticFilesLifecycleTests(unittest.TestCase):

    def test_temp_documentroot_is_removed_in_tearDown(self):
        layer = gocept.httplayer.StaticFilesLayer(
            name='TempRoot', module=__name__)
        layer.setUp()
        root = layer['documentroot']
        self.assertTrue(os.path.isdir(root))
        layer.tearDown()
        self.assertFalse(os.path.exists(root))
        self.assertNotIn('documentroot', layer)
        self.assertNotIn('http_url', layer)

    def test_given_documentroot_is_served_and_left_alone(self):
        with tempfile.TemporaryDirectory() as root:
            with open(os.path.join(root, 'keep.txt'), 'wb') as f:
                f.write(b'kept')
            layer = gocept.httplayer.StaticFilesLayer(
                root, name='GivenRoot', module=__name__)
            layer.setUp()
            try:
                self.assertEqual(root, layer['documentroot'])
                response = requests.get(layer['http_url'] + '/keep.txt')
                self.assertEqual(b'kept', response.content)
            finally:
                layer.tearDown()
            self.assertEqual(['keep.txt'], os.listdir(root))

    def test_missing_documentroot_raises_value_error(self):
        with self.assertRaisesRegex(ValueError, '`documentroot`'):
            gocept.httplayer.StaticFilesLayer(
                '/nonexistent/dir', name='Missing', module=__name__)
