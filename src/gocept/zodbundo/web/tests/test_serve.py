"""`zodb-undo serve` as a process, and its refusals in-process."""
import io
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import gocept.zodbundo.cli
import gocept.zodbundo.tests.layers
import gocept.zodbundo.web.tests.scenario


DEADLINE = 60.0


def python_env():
    # bin/test puts the eggs on sys.path at run time: pass them along.
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in sys.path if p and os.path.exists(p))
    return env


def read_line(process, deadline):
    """The next line of `process`'s stdout, waiting at most until
    `deadline` (time.monotonic())."""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    try:
        while time.monotonic() < deadline:
            if selector.select(timeout=0.5):
                return process.stdout.readline()
            if process.poll() is not None:
                break
    finally:
        selector.close()
    raise AssertionError('zodb-undo serve printed no line; stderr: {}'
                         .format(process.stderr.read()))


class ServeProcessTest(unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.FILESTORAGE

    def test_serves_with_token_and_stops_on_sigterm(self):
        gocept.zodbundo.web.tests.scenario.build_history(
            self.layer['zodbRoot'])
        path = self.layer['zodbDB'].storage._file_name
        # The layer's database keeps the file open and locked, as a
        # running application would.
        process = subprocess.Popen(
            [sys.executable, '-m', 'gocept.zodbundo.cli', 'serve',
             '--file', path, '--allow-commit'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=python_env())
        self.addCleanup(process.stderr.close)
        self.addCleanup(process.stdout.close)
        self.addCleanup(_kill, process)
        deadline = time.monotonic() + DEADLINE
        line = read_line(process, deadline)
        self.assertRegex(
            line, r'^Open http://127\.0\.0\.1:\d+/\?token=[\w-]{40,}$')
        url = line.split()[1]
        base = url.split('?')[0]
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(base, timeout=DEADLINE)
        self.assertEqual(403, caught.exception.code)
        caught.exception.close()
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor())
        with opener.open(url, timeout=DEADLINE) as response:
            page = response.read().decode('utf-8')
            self.assertEqual(base, response.url)
        self.assertIn('import run 7', page)
        self.assertIn('locked by another process', page)
        process.send_signal(signal.SIGTERM)
        self.assertEqual(0, process.wait(timeout=DEADLINE))
        self.assertIn('locked by another process', process.stderr.read())


def _kill(process):
    if process.poll() is None:
        process.kill()
        process.wait()


class ServeRefusalTest(unittest.TestCase):

    def serve(self, *args):
        stdout = io.StringIO()
        stderr = io.StringIO()
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, 'Data.fs')
            import ZODB
            import ZODB.FileStorage
            ZODB.DB(ZODB.FileStorage.FileStorage(path)).close()
            code = gocept.zodbundo.cli.main(
                ['serve', '--file', path] + list(args), stdout, stderr)
        return code, stderr.getvalue()

    def test_non_loopback_needs_a_password_file(self):
        code, err = self.serve('--listen', '0.0.0.0:8080')
        self.assertEqual(2, code)
        self.assertIn('not a loopback address; give --password-file', err)

    def test_bad_listen_and_password_file_are_usage_errors(self):
        code, err = self.serve('--listen', 'nonsense')
        self.assertEqual(2, code)
        self.assertIn("--listen 'nonsense': expected HOST:PORT", err)
        code, err = self.serve('--password-file', '/nonexistent/pw')
        self.assertEqual(2, code)
        self.assertIn('--password-file /nonexistent/pw', err)

    def test_allowed_hosts_are_the_listening_address(self):
        import gocept.zodbundo.web.serve
        hosts = gocept.zodbundo.web.serve.allowed_hosts
        self.assertEqual({'127.0.0.1:8080', 'localhost:8080', '[::1]:8080'},
                         hosts('127.0.0.1', 8080))
        self.assertEqual({'192.0.2.1:80'}, hosts('192.0.2.1', 80))
        self.assertEqual(('::1', 8080),
                         gocept.zodbundo.web.serve.parse_listen('[::1]:8080'))
