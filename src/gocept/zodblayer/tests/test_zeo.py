import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
import unittest

import transaction

import gocept.zodblayer
import gocept.zodblayer._process
import gocept.zodblayer._tempdir
import gocept.zodblayer.tests.isolation as isolation


class FilledZEOLayer(gocept.zodblayer.ZEOLayer):

    def setUpZODB(self, root):
        isolation.fill(root)


FILLED = FilledZEOLayer(name='ZEOLayer:Filled', module=__name__)
FILLED_COPY = FilledZEOLayer(
    name='ZEOLayer:Filled:Copy', module=__name__, isolation='copy')
DERIVED_FROM_FILLED = isolation.CommittingLayer(
    bases=(FILLED,), name='ZEOLayer:Filled:Derived', module=__name__)
DERIVED_FROM_COPY = isolation.CommittingLayer(
    bases=(FILLED_COPY,), name='ZEOLayer:Filled:Copy:Derived',
    module=__name__)


def server_pid(layer):
    return layer._server.process.process.pid


def process_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (not yet reaped) would still count as existing.
    with open(f'/proc/{pid}/stat') as f:
        return f.read().split(')')[-1].split()[0] != 'Z'


def processes_mentioning(text):
    """PIDs of processes whose command line contains `text`."""
    found = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                cmdline = f.read().decode('utf-8', 'replace')
        except OSError:
            continue
        if text in cmdline and process_exists(int(pid)):
            found.append(int(pid))
    return found


def set_up_in_a_thread_that_ends(layer):
    """Call ``layer.setUp()`` in a thread; return once the OS thread is gone.

    Some runners and pytest plugins set fixtures up in worker threads.
    Linux's parent-death signal fires when the forking thread has left the
    kernel, which is later than ``join()`` returns: wait for that.
    """
    errors = []

    def set_up():
        try:
            layer.setUp()
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=set_up, name='fixture set-up')
    thread.start()
    thread.join(180)
    if errors:
        raise errors[0]
    task = f'/proc/self/task/{thread.native_id}'
    deadline = time.monotonic() + 30
    while os.path.exists(task):
        if time.monotonic() > deadline:
            raise AssertionError(f'{task} did not end')
        threading.Event().wait(0.01)


KILLED_AFTER_SET_UP_IN_A_THREAD = textwrap.dedent('''\
    import os
    import signal
    import sys
    import threading
    import gocept.zodblayer
    import gocept.zodblayer.tests.test_zeo as test_zeo
    layer = getattr(gocept.zodblayer, sys.argv[1])
    test_zeo.set_up_in_a_thread_that_ends(layer)
    process = (layer.process if sys.argv[1] == 'POSTGRESQL'
               else layer._server.process.process)
    print(process.pid, layer.tempdir, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
''')


def kill_after_set_up_in_a_thread(layer_name):
    """Set `layer_name` up in a subprocess (in a thread that ends there),
    then kill that process with SIGKILL; return (server pid, temp dir)."""
    result = subprocess.run(
        [sys.executable, '-c', KILLED_AFTER_SET_UP_IN_A_THREAD, layer_name],
        capture_output=True, text=True,
        env=gocept.zodblayer._process.python_env(), timeout=180)
    if result.returncode != -9:
        raise AssertionError(
            f'status {result.returncode}, not killed:\n{result.stderr}')
    pid, tempdir = result.stdout.split()
    return int(pid), tempdir


def wait_until_gone(pid, timeout=30):
    deadline = time.monotonic() + timeout
    while process_exists(pid):
        if time.monotonic() > deadline:
            raise AssertionError(f'server {pid} survived the test process')
        threading.Event().wait(0.05)


def temp_dir_in(message):
    """The layer's temp dir, named in a ServerStartError's command line."""
    for word in message.split():
        if '/gocept.zodblayer.' in word:
            parts = word.split('/')
            index = [i for i, p in enumerate(parts)
                     if p.startswith('gocept.zodblayer.')][0]
            return '/'.join(parts[:index + 1])
    raise AssertionError(f'no temp dir in {message!r}')


class ZEOIsolationTest(isolation.IsolationTests,
                       isolation.ReadOnlyForOtherProcessesTests,
                       unittest.TestCase):

    layer = FILLED

    def test_storage_is_a_ClientStorage_of_a_server_on_loopback(self):
        host, port = self.layer['zeo_address']
        self.assertEqual('127.0.0.1', host)
        self.assertGreater(port, 0)
        self.assertEqual(
            f'zeo://127.0.0.1:{port}?read_only=1', self.layer['zodb_uri'])
        self.assertEqual(
            'ClientStorage',
            type(self.layer['zodbDB'].storage.base).__name__)



class ZEOCopyTest(isolation.IsolationTests, isolation.UndoTests,
                  isolation.SecondWriterTests, unittest.TestCase):

    layer = FILLED_COPY

    def test_each_test_has_its_own_server(self):
        self.assertNotEqual(
            self.layer['zeo_address'], self.layer._server.address)
        self.assertEqual(
            'ClientStorage', type(self.layer['zodbDB'].storage).__name__)

    def test_zodb_uri_opens_test_state_in_another_process(self):
        self.layer['zodbRoot']['written'] = 'in test'
        transaction.commit()
        self.assertEqual(
            "'in test'", isolation.read_in_subprocess(
                self.layer['zodb_uri'], 'written'))


class ZEOLayerLifecycleTest(unittest.TestCase):

    def make_layer(self, **kw):
        return gocept.zodblayer.ZEOLayer(
            name='ZEOLayer:Lifecycle', module=__name__, **kw)

    def test_tearDown_stops_server_and_removes_temp_dir(self):
        layer = self.make_layer()
        layer.setUp()
        pid = server_pid(layer)
        host, port = layer['zeo_address']
        tempdir = layer.tempdir
        layer.tearDown()
        self.assertFalse(process_exists(pid))
        self.assertFalse(os.path.exists(tempdir))
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection((host, port), timeout=5).close()
        self.assertEqual(
            [], [t for t in threading.enumerate()
                 if 'zeo' in t.name.lower()])

    def test_two_servers_run_at_once_on_different_ports(self):
        first = self.make_layer()
        second = gocept.zodblayer.ZEOLayer(
            name='ZEOLayer:Lifecycle:Second', module=__name__)
        first.setUp()
        self.addCleanup(first.tearDown)
        second.setUp()
        self.addCleanup(second.tearDown)
        self.assertNotEqual(first['zeo_address'], second['zeo_address'])
        for layer in (first, second):
            with layer['zodbDB'].transaction() as connection:
                connection.root()['name'] = layer.__name__
        for layer in (first, second):
            with layer['zodbDB'].transaction() as connection:
                self.assertEqual(layer.__name__, connection.root()['name'])

    def test_copy_isolation_starts_no_stale_spare_server(self):
        layer = self.make_layer(isolation='copy')
        layer.setUp()
        tempdir = layer.tempdir
        try:
            layer.testSetUp()
            layer.testTearDown()
            # What a derived layer set up now would do:
            with layer['zodbDB'].transaction() as connection:
                connection.root()['late'] = 'commit'
            layer.testSetUp()
            try:
                self.assertEqual('commit', layer['zodbRoot']['late'])
            finally:
                layer.testTearDown()
        finally:
            layer.tearDown()
        self.assertEqual([], processes_mentioning(tempdir))

    def test_tearDown_after_a_failed_test_stops_the_server(self):
        layer = self.make_layer()
        layer.setUp()
        pid = server_pid(layer)
        layer.testSetUp()
        layer['zodbRoot']['x'] = 1
        try:
            raise AssertionError('a failing test')
        except AssertionError:
            pass
        finally:
            layer.testTearDown()
            layer.tearDown()
        self.assertFalse(process_exists(pid))

    def test_port_in_use_fails_setUp_quoting_the_log(self):
        with socket.socket() as blocker:
            blocker.bind(('127.0.0.1', 0))
            blocker.listen()
            port = blocker.getsockname()[1]
            layer = self.make_layer(port=port, start_timeout=30)
            with self.assertRaises(
                    gocept.zodblayer._process.ServerStartError) as err:
                layer.setUp()
        message = str(err.exception)
        self.assertIn('ZEO server exited', message)
        self.assertIn('already in use', message)
        self.assertIsNone(layer.tempdir)
        self.assertEqual([], layer._servers)
        self.assertEqual([], processes_mentioning(temp_dir_in(message)))
        layer.tearDown()  # harmless after a failed setUp

    def test_bad_server_option_fails_setUp_quoting_the_log(self):
        layer = self.make_layer(zeo_options={'no-such-option': 'x'})
        with self.assertRaises(
                gocept.zodblayer._process.ServerStartError) as err:
            layer.setUp()
        self.assertIn('no-such-option', str(err.exception))
        self.assertIsNone(layer.tempdir)
        self.assertFalse(os.path.exists(temp_dir_in(str(err.exception))))
        self.assertEqual(
            [], processes_mentioning(temp_dir_in(str(err.exception))))

    def test_server_stops_when_the_test_process_dies(self):
        script = textwrap.dedent('''\
            import os
            import gocept.zodblayer
            layer = gocept.zodblayer.ZEO
            layer.setUp()
            print(layer._server.process.process.pid, layer.tempdir,
                  flush=True)
            os._exit(0)  # no tearDown
        ''')
        pid, tempdir = subprocess.run(
            [sys.executable, '-c', script], capture_output=True, text=True,
            env=gocept.zodblayer._process.python_env(), timeout=120,
            check=True).stdout.split()
        self.addCleanup(shutil.rmtree, tempdir, ignore_errors=True)
        pid = int(pid)
        deadline = time.monotonic() + 30
        while process_exists(pid):
            self.assertLess(time.monotonic(), deadline, 'server survived')
            threading.Event().wait(0.05)
        gocept.zodblayer._tempdir.remove_stale(
            os.path.dirname(tempdir), 'gocept.zodblayer.')
        self.assertFalse(os.path.exists(tempdir))

    def test_server_set_up_in_a_thread_that_ended_keeps_serving(self):
        layer = self.make_layer()
        set_up_in_a_thread_that_ends(layer)
        self.addCleanup(layer.tearDown)
        with layer['zodbDB'].transaction() as connection:
            connection.root()['after'] = 'the thread ended'
        self.assertEqual(
            "'the thread ended'",
            isolation.read_in_subprocess(layer['zodb_uri'], 'after'))
        self.assertTrue(layer._server.process.running)

    def test_server_set_up_in_a_thread_stops_on_kill_9_of_the_process(self):
        pid, tempdir = kill_after_set_up_in_a_thread('ZEO')
        self.addCleanup(shutil.rmtree, tempdir, ignore_errors=True)
        wait_until_gone(pid)


class DerivedFromFilledTest(isolation.DerivedLayerTests, unittest.TestCase):

    layer = DERIVED_FROM_FILLED


class DerivedFromCopyTest(isolation.DerivedLayerTests, unittest.TestCase):

    layer = DERIVED_FROM_COPY
