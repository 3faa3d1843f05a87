"""A throwaway PostgreSQL cluster in a temp dir."""
import glob
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import time

import plone.testing

from gocept.zodblayer import _extras
from gocept.zodblayer import _process
from gocept.zodblayer import _tempdir


DSN_VARIABLE = 'GOCEPT_POSTGRESQL_DSN'
BINDIR_VARIABLE = 'GOCEPT_POSTGRESQL_BINDIR'
CACHE_VARIABLE = 'GOCEPT_POSTGRESQL_CACHE'
SERVER_USER = 'postgres'
PORT = 5432  # only names the socket file in our own directory

INITDB_OPTIONS = (
    '--username=postgres', '--auth=trust', '--encoding=UTF8',
    '--locale=C', '--no-sync', '--wal-segsize=1')

# Durability is pointless for a cluster thrown away after the tests.
SERVER_SETTINGS = {
    'listen_addresses': '',
    'fsync': 'off',
    'synchronous_commit': 'off',
    'full_page_writes': 'off',
    'max_wal_size': '64MB',
    'shared_buffers': '16MB',
    'max_connections': '50',
    'log_min_messages': 'warning',
}


def find_bindir():
    """Directory of PostgreSQL's server programs (initdb, postgres)."""
    bindir = os.environ.get(BINDIR_VARIABLE)
    if bindir:
        return bindir
    try:
        bindir = subprocess.run(
            ['pg_config', '--bindir'], capture_output=True, text=True,
            check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        bindir = None
    if bindir and os.path.exists(os.path.join(bindir, 'initdb')):
        return bindir
    # Debian puts the server programs beside, not on, the PATH.
    candidates = sorted(
        glob.glob('/usr/lib/postgresql/*/bin/initdb'),
        key=lambda p: [int(x) for x in p.split('/')[-3].split('.')
                       if x.isdigit()])
    if candidates:
        return os.path.dirname(candidates[-1])
    raise RuntimeError(
        'PostgreSQL server programs (initdb, postgres) not found: install'
        ' PostgreSQL (Debian: apt-get install postgresql), set'
        f' {BINDIR_VARIABLE}, or point {DSN_VARIABLE} at a running server.')


def server_user():
    """The user to run the server as: PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise RuntimeError(
            f'Running as root, but there is no {SERVER_USER!r} user to run'
            ' PostgreSQL as: create it (Debian: it comes with the'
            f' postgresql package), run as another user, or point'
            f' {DSN_VARIABLE} at a running server.') from None


def chown_top(path, user):
    """Give `path` and the files directly in it to `user`.

    The data directory already belongs to the server user: initdb ran as
    that user, and ``cp -a`` keeps the owner of the cached copy.
    """
    os.chown(path, user.pw_uid, user.pw_gid)
    for name in os.listdir(path):
        os.lchown(os.path.join(path, name), user.pw_uid, user.pw_gid)


def cache_dir():
    """Where initdb'd template clusters are kept, None to not keep any."""
    path = os.environ.get(CACHE_VARIABLE)
    if path is not None:
        return path or None
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(
        os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'gocept.zodblayer')


def cache_key(bindir):
    # A new PostgreSQL release replaces the binary: its version directory
    # and modification time identify the data directory format.
    postgres = os.path.join(bindir, 'postgres')
    stat = os.stat(postgres)
    version = os.path.basename(os.path.dirname(bindir.rstrip('/')))
    options = hashlib.sha1(' '.join(INITDB_OPTIONS).encode()).hexdigest()
    return (f'postgresql-{version}-{int(stat.st_mtime)}-{stat.st_size}'
            f'-{options[:8]}-uid{os.geteuid()}')


def temp_parent():
    """Where to put the cluster: in memory (/dev/shm) if possible.

    A cluster is 30 MB of files written at once; on a busy disk copying
    them takes seconds, in memory a few milliseconds.
    """
    shm = '/dev/shm'
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return None


TEMP_PREFIX = 'gocept.zodblayer.pg.'
BUILDING_PREFIX = 'building.'


def die_with_parent():
    """Command prefix: the server gets SIGINT when the test process dies.

    Without it a killed test run would leave a server behind. setpriv
    (util-linux) sets the parent-death signal and then execs the server;
    `_process.spawn` makes the signal mean "the test process died", not
    "the thread that set the layer up ended".
    """
    setpriv = shutil.which('setpriv')
    if setpriv is None:
        return []
    return [setpriv, '--pdeathsig', 'INT', '--']


def copy_tree(source, target):
    """Copy a data directory, keeping owner and modes (0700)."""
    subprocess.run(['cp', '-a', source, target], check=True, timeout=120)


class Cluster:
    """initdb + postgres in `directory`; listens on a socket in it."""

    def __init__(self, directory, bindir, user, timeout):
        self.directory = directory
        self.datadir = os.path.join(directory, 'data')
        self.log_path = os.path.join(directory, 'postgresql.log')
        self.bindir = bindir
        self.user = user
        self.timeout = timeout
        self.process = None
        self.cached_from = None
        self.dsn = (f'host={directory} port={PORT} user=postgres'
                    ' dbname=postgres')

    def create(self):
        """Put a fresh data directory in place (from the cache if any)."""
        key = cache_key(self.bindir)
        cache = cache_dir()
        cached = os.path.join(cache, key) if cache else None
        if cached and os.path.isdir(cached):
            copy_tree(cached, self.datadir)
            self.cached_from = cached
            return
        self.initdb()
        if cached:
            self.fill_cache(cached)

    def initdb(self):
        with open(self.log_path, 'ab') as log:
            result = subprocess.run(
                [os.path.join(self.bindir, 'initdb'), '-D', self.datadir,
                 *INITDB_OPTIONS],
                stdout=log, stderr=subprocess.STDOUT, timeout=self.timeout,
                **self._user_kw())
        if result.returncode:
            raise _process.ServerStartError(
                f'initdb failed with status {result.returncode}.\n'
                f'Last lines of {self.log_path}:\n'
                f'{_process.log_tail(self.log_path)}')

    def fill_cache(self, cached):
        # Build the copy beside its final place and rename it there: a
        # parallel test process sees either nothing or a complete copy.
        parent = os.path.dirname(cached)
        try:
            os.makedirs(parent, mode=0o700, exist_ok=True)
            # Records our PID: the copy of a killed run is removed later.
            building = _tempdir.make(BUILDING_PREFIX, parent)
        except OSError:
            return  # no cache then, but the tests still run
        try:
            copy_tree(self.datadir, os.path.join(building, 'data'))
            os.rename(os.path.join(building, 'data'), cached)
        except (OSError, subprocess.SubprocessError):
            pass  # another process was faster, or the disk is full
        finally:
            shutil.rmtree(building, ignore_errors=True)

    def _user_kw(self):
        if self.user is None:
            return {}
        return dict(user=self.user.pw_uid, group=self.user.pw_gid,
                    extra_groups=[])

    def start(self):
        deadline = time.monotonic() + self.timeout
        if self.user is not None:
            chown_top(self.directory, self.user)
        settings = []
        for key, value in SERVER_SETTINGS.items():
            settings.extend(['-c', f'{key}={value}'])
        self.process = _process.ServerProcess(
            'PostgreSQL',
            [*die_with_parent(),
             os.path.join(self.bindir, 'postgres'), '-D', self.datadir,
             '-k', self.directory, '-p', str(PORT), *settings],
            self.log_path, stop_signal=signal.SIGINT,
            user=self.user)
        self.process.start()
        try:
            self.process.wait_until(self.accepts_connections, deadline,
                                    'accept connections')
        except _process.ServerStartError as e:
            if self.cached_from is None:
                raise
            raise _process.ServerStartError(
                f'{e}\nThe data directory is a copy of the cached'
                f' {self.cached_from}: if that is broken, remove it (or'
                f' set {CACHE_VARIABLE}= to use no cache).') from None

    def accepts_connections(self):
        import psycopg2
        try:
            psycopg2.connect(self.dsn, connect_timeout=5).close()
        except psycopg2.OperationalError:
            return False
        return True

    def stop(self):
        if self.process is not None:
            # SIGINT is PostgreSQL's "fast" shutdown: clients are
            # disconnected, the server exits cleanly.
            self.process.stop()


class PostgreSQLLayer(plone.testing.Layer):
    """A throwaway PostgreSQL cluster, or an existing server.

    Resource: ``postgresql_dsn`` (libpq DSN of the ``postgres`` database,
    superuser ``postgres``).

    Runs ``initdb`` and ``postgres`` (found via ``pg_config --bindir``, or
    ``/usr/lib/postgresql/*/bin``, or ``$GOCEPT_POSTGRESQL_BINDIR``) in a
    temp dir (in /dev/shm if possible), listening only on a Unix socket in
    that dir, so parallel
    test processes never compete for a port; as the ``postgres`` user when
    running as root. The initdb'd data directory is cached per machine in
    ``~/.cache/gocept.zodblayer`` (``$GOCEPT_POSTGRESQL_CACHE``; empty:
    no cache). With ``$GOCEPT_POSTGRESQL_DSN`` set, that server is used
    instead and nothing is started.
    """

    defaultBases = ()
    start_timeout = 60.0

    def __init__(self, bases=None, name=None, module=None,
                 start_timeout=None):
        if not name or not module:
            raise ValueError(
                'The `name` and `module` arguments are required.')
        if start_timeout is not None:
            self.start_timeout = start_timeout
        super().__init__(bases=bases, name=name, module=module)
        self._cluster = None
        self._tempdir = None

    @property
    def tempdir(self):
        return self._tempdir

    @property
    def process(self):
        """The running `postgres` process (None with an external server)."""
        if self._cluster is None or self._cluster.process is None:
            return None
        return self._cluster.process.process

    def setUp(self):
        _extras.require('relstorage', 'psycopg2')
        external = os.environ.get(DSN_VARIABLE)
        if external:
            self['postgresql_dsn'] = external
            return
        bindir = find_bindir()
        user = server_user()
        self._tempdir = _tempdir.make(TEMP_PREFIX, temp_parent())
        try:
            if user is not None:
                os.chown(self._tempdir, user.pw_uid, user.pw_gid)
            self._cluster = Cluster(
                self._tempdir, bindir, user, self.start_timeout)
            self.prepare(self._cluster)
            self._cluster.start()
        except BaseException:
            self._stop()
            raise
        self['postgresql_dsn'] = self._cluster.dsn

    def prepare(self, cluster):
        """Hook: put the data directory in place (tests break it here)."""
        cluster.create()

    def tearDown(self):
        if 'postgresql_dsn' in self:
            del self['postgresql_dsn']
        self._stop()

    def _stop(self):
        cluster, self._cluster = self._cluster, None
        try:
            if cluster is not None:
                cluster.stop()
        finally:
            tempdir, self._tempdir = self._tempdir, None
            if tempdir is not None:
                shutil.rmtree(tempdir, ignore_errors=True)


POSTGRESQL = PostgreSQLLayer(name='PostgreSQLLayer', module=__name__)
