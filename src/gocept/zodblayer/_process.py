"""Start a server process, wait until it is ready, stop it for sure."""
import concurrent.futures
import os
import queue
import signal
import subprocess
import sys
import threading
import time


STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 20


class ServerStartError(RuntimeError):
    """Raised when a server does not become ready; quotes its log tail."""


def python_env():
    """Environment for a Python subprocess that imports what we import.

    Buildout scripts put the eggs on ``sys.path`` at run time, so a plain
    ``sys.executable`` would not find ZEO or ZODB: pass the path along.
    """
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in sys.path if p and os.path.exists(p))
    return env


def log_tail(path, lines=LOG_TAIL_LINES):
    """The last `lines` lines of a log file ('' if there is none)."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return ''
    text = data.decode('utf-8', 'replace')
    return '\n'.join(text.splitlines()[-lines:])


class _Spawner(threading.Thread):
    """Forks server processes; ends when none of them runs any more."""

    def __init__(self):
        super().__init__(name='gocept.zodblayer server spawner', daemon=True)
        self.requests = queue.SimpleQueue()
        self.servers = 0

    def run(self):
        while True:
            request = self.requests.get()
            if request is None:
                return
            argv, kw, result = request
            try:
                result.set_result(subprocess.Popen(argv, **kw))
            except BaseException as e:
                result.set_exception(e)


_spawner = None
_spawner_lock = threading.Lock()


def spawn(argv, **kw):
    """Return (``subprocess.Popen(argv, **kw)``, a token for `release`).

    Servers die with the test process through Linux's parent-death signal
    (``PR_SET_PDEATHSIG``: `_zeoserver`, ``setpriv --pdeathsig``), which
    fires when the *thread* that forked the server ends, not the process.
    Layers set up from a worker thread (pytest plugins, some runners)
    would lose their servers when that thread ends. So one thread forks
    them all and lives until the last of them is released: the signal
    then means "the test process died".
    """
    global _spawner
    with _spawner_lock:
        # After os.fork() the parent's spawner thread is not alive here.
        if _spawner is None or not _spawner.is_alive():
            _spawner = _Spawner()
            _spawner.start()
        spawner = _spawner
        spawner.servers += 1
    result = concurrent.futures.Future()
    spawner.requests.put((argv, kw, result))
    try:
        return result.result(), spawner
    except BaseException:
        release(spawner)
        raise


def release(spawner):
    """Call when the process `spawn` returned with `spawner` has ended."""
    global _spawner
    with _spawner_lock:
        spawner.servers -= 1
        if spawner.servers or spawner is not _spawner:
            return
        _spawner = None
    spawner.requests.put(None)
    spawner.join(STOP_TIMEOUT)


class ServerProcess:
    """A child process whose output goes to a log file.

    `stop_signal` asks for a graceful shutdown; after `STOP_TIMEOUT`
    seconds the process is killed.
    """

    def __init__(self, name, argv, log_path, env=None, stop_signal=None,
                 user=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.env = env
        self.stop_signal = stop_signal or signal.SIGTERM
        self.user = user
        self.process = None
        self._spawner = None

    def start(self):
        with open(self.log_path, 'ab') as log:
            kw = {}
            if self.user is not None:
                kw.update(user=self.user.pw_uid, group=self.user.pw_gid,
                          extra_groups=[])
            self.process, self._spawner = spawn(
                self.argv, stdin=subprocess.PIPE, stdout=log,
                stderr=subprocess.STDOUT, env=self.env,
                # Keep Ctrl-C of the test run away from the server: the
                # layer's tearDown stops it in order.
                start_new_session=True, **kw)

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def wait_until(self, ready, deadline, what):
        """Call `ready()` until it returns a true value, or fail.

        Fails (after stopping the process) when the process exits or the
        deadline (a `time.monotonic()` value) passes, quoting the log.
        """
        while True:
            if not self.running:
                self.failed(f'exited with status {self.process.returncode}'
                            f' before {what}')
            result = ready()
            if result:
                return result
            if time.monotonic() > deadline:
                self.failed(f'did not {what} in time')
            try:
                # Paces the polling and notices an exit at once.
                self.process.wait(0.02)
            except subprocess.TimeoutExpired:
                pass

    def failed(self, problem):
        """Stop the process and raise `ServerStartError` with the log tail.
        """
        self.stop()
        raise ServerStartError(
            f'{self.name} {problem}: {" ".join(self.argv)}\n'
            f'Last lines of {self.log_path}:\n{log_tail(self.log_path)}')

    def stop(self):
        """Graceful stop, kill after `STOP_TIMEOUT`; idempotent."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            try:
                process.send_signal(self.stop_signal)
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdin is not None:
            process.stdin.close()
        self.process = None
        release(self._spawner)
