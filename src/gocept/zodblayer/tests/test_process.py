import os
import shutil
import sys
import tempfile
import time
import unittest

import gocept.zodblayer._process
import gocept.zodblayer.tests.test_zeo


IGNORE_SIGTERM = '''\
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print('ready', flush=True)
time.sleep(120)
'''


class ServerProcessTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        self.log = os.path.join(self.dir, 'server.log')

    def server(self, code):
        server = gocept.zodblayer._process.ServerProcess(
            'Test server', [sys.executable, '-c', code], self.log)
        self.addCleanup(server.stop)
        server.start()
        return server

    def logged_ready(self):
        with open(self.log) as f:
            return 'ready' in f.read()

    def test_server_ignoring_SIGTERM_is_killed_after_the_deadline(self):
        server = self.server(IGNORE_SIGTERM)
        server.wait_until(self.logged_ready, time.monotonic() + 30, 'start')
        process = server.process
        saved = gocept.zodblayer._process.STOP_TIMEOUT
        gocept.zodblayer._process.STOP_TIMEOUT = 0.5
        try:
            server.stop()
        finally:
            gocept.zodblayer._process.STOP_TIMEOUT = saved
        self.assertEqual(-9, process.returncode)
        self.assertFalse(
            gocept.zodblayer.tests.test_zeo.process_exists(process.pid))

    def test_server_exiting_early_fails_with_its_log_tail(self):
        server = self.server('print("cannot open the storage"); exit(3)')
        with self.assertRaises(
                gocept.zodblayer._process.ServerStartError) as err:
            server.wait_until(
                lambda: False, time.monotonic() + 30, 'start')
        message = str(err.exception)
        self.assertIn('exited with status 3 before start', message)
        self.assertIn('cannot open the storage', message)
        self.assertIsNone(server.process)

    def test_server_not_ready_in_time_is_stopped(self):
        server = self.server(IGNORE_SIGTERM.replace('SIG_IGN', 'SIG_DFL'))
        process = server.process
        with self.assertRaises(
                gocept.zodblayer._process.ServerStartError) as err:
            server.wait_until(lambda: False, time.monotonic() + 0.2, 'start')
        self.assertIn('did not start in time', str(err.exception))
        self.assertIsNotNone(process.returncode)
