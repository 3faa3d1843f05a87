"""A real ZEO server process serving a FileStorage."""
import os
import shutil
import sys
import tempfile
import time

from gocept.zodblayer import _extras
from gocept.zodblayer import _layer
from gocept.zodblayer import _process


ZEO_CONF = """\
<zeo>
  address {host}:{port}
{options}
</zeo>
<filestorage 1>
  path {directory}/Data.fs
  blob-dir {directory}/blobs
</filestorage>
"""


class ZEOServer:
    """A runzeo process on a FileStorage in `directory`."""

    def __init__(self, directory, host, port, options, timeout):
        self.directory = directory
        self.host = host
        self.port = port
        self.options = options
        self.timeout = timeout
        self.address = None
        self.process = None

    def start(self):
        """Start the server; return the deadline for its first client."""
        self.launch()
        return self.wait_listening()

    def launch(self):
        """Start the process, without waiting for it."""
        config = os.path.join(self.directory, 'zeo.conf')
        with open(config, 'w') as f:
            f.write(ZEO_CONF.format(
                host=self.host, port=self.port, directory=self.directory,
                options='\n'.join(
                    f'  {k} {v}' for k, v in self.options.items())))
        self.address_file = os.path.join(self.directory, 'address')
        self.process = _process.ServerProcess(
            'ZEO server',
            [sys.executable, '-m', 'gocept.zodblayer._zeoserver',
             self.address_file, str(os.getpid()), '-C', config],
            os.path.join(self.directory, 'zeo.log'),
            env=_process.python_env())
        self.process.start()

    def wait_listening(self):
        """Wait until the server listens; return the deadline left."""
        deadline = time.monotonic() + self.timeout
        self.process.wait_until(
            lambda: os.path.exists(self.address_file), deadline, 'listen')
        with open(self.address_file) as f:
            host, port = f.read().split()
        self.address = (host, int(port))
        return deadline

    def client_database(self, blob_cache, deadline, read_only_for_others):
        """Connect a client; it proves the server answers.

        With `read_only_for_others`, the `Database`'s URI and config open
        read-only clients.
        """
        import ZEO.ClientStorage
        import ZEO.Exceptions
        import ZODB.DB
        try:
            storage = ZEO.ClientStorage.ClientStorage(
                self.address, blob_dir=blob_cache,
                wait_timeout=max(deadline - time.monotonic(), 0.1))
        except ZEO.Exceptions.ClientDisconnected:
            self.process.failed('did not accept a client connection in time')
        try:
            db = ZODB.DB(storage)
        except BaseException:
            storage.close()
            raise
        host, port = self.address
        uri = f'zeo://{host}:{port}'
        section = f'  <zeoclient>\n    server {host}:{port}\n'
        if read_only_for_others:
            uri += '?read_only=1'
            section += '    read-only true\n'
        config = _layer.write_config(
            os.path.join(self.directory, 'zodb.conf'),
            section + '  </zeoclient>\n')
        return _layer.Database(db, uri, config)

    def stop(self):
        if self.process is not None:
            self.process.stop()


class ZEOLayer(_layer.ZODBLayer):
    """A ZEO server (runzeo in a subprocess) serving a FileStorage.

    Resources: ``zodbDB`` (a ClientStorage database), ``zodb_uri``
    (``zeo://127.0.0.1:PORT?read_only=1``, without ``read_only`` under
    ``isolation='copy'``; add ``&blob_dir=DIR`` with a directory of your
    own for blobs), ``zodb_config`` (the same client as a ZConfig file),
    ``zeo_address`` (``(host, port)``), per test ``zodbConnection`` and
    ``zodbRoot``.

    With the default ``isolation='demo'`` a test's writes stay in memory,
    and the server holds the layer's state that every test starts from:
    ``zodb_uri`` and ``zodb_config`` give other processes (a subprocess,
    a second app) *read-only* clients, whose writes raise ZODB's
    ``ReadOnlyError`` instead of leaking into later tests. For tests that
    need a second writer use ``isolation='copy'``: each test gets its own
    server, and ``zodb_uri`` opens it for writing.

    The server binds `port` (0: a free one, read back from ZEO itself) on
    `host`; `zeo_options` adds keys to its ``<zeo>`` config section.
    With ``isolation='copy'`` every test gets its own server on a copy of
    the layer's storage. Starting a server takes a few tenths of a second,
    so while a test runs the server of the next test already starts
    (``spare_server = False`` turns that off); it is used only if the
    layer's storage did not change in between.
    """

    host = '127.0.0.1'
    port = 0
    zeo_options = {}
    start_timeout = 60.0
    spare_server = True

    def __init__(self, bases=None, name=None, module=None, isolation=None,
                 host=None, port=None, zeo_options=None,
                 start_timeout=None, spare_server=None):
        super().__init__(bases=bases, name=name, module=module,
                         isolation=isolation)
        if host is not None:
            self.host = host
        if port is not None:
            self.port = port
        if zeo_options is not None:
            self.zeo_options = zeo_options
        if start_timeout is not None:
            self.start_timeout = start_timeout
        if spare_server is not None:
            self.spare_server = spare_server
        self._servers = []
        self._server = None
        self._spare = None

    def _start(self, directory, port):
        server = ZEOServer(
            directory, self.host, port, self.zeo_options, self.start_timeout)
        self._servers.append(server)
        try:
            deadline = server.start()
            database = server.client_database(
                os.path.join(directory, 'client-blobs'), deadline,
                read_only_for_others=self.isolation == _layer.DEMO)
        except BaseException:
            self._servers.remove(server)
            server.stop()
            raise
        return server, database

    def open_database(self):
        _extras.require('zeo', 'ZEO')
        directory = os.path.join(self.tempdir, 'layer')
        os.mkdir(directory)
        server, database = self._start(directory, self.port)
        self._server = server
        self['zeo_address'] = server.address
        return database

    def close_layer(self):
        try:
            self._stop_servers()
        finally:
            self._server = self._spare = None
            if 'zeo_address' in self:
                del self['zeo_address']

    def _stop_servers(self):
        while self._servers:
            self._servers.pop().stop()

    def _layer_state(self):
        stat = os.stat(os.path.join(self._server.directory, 'Data.fs'))
        return (stat.st_size, stat.st_mtime_ns)

    def _launch_copy(self):
        """Start a server on a copy of the layer's current storage."""
        # The server flushes every commit to Data.fs, so copying it while
        # the server runs idle gives the layer's complete state.
        state = self._layer_state()
        directory = tempfile.mkdtemp(dir=self.tempdir, prefix='copy.')
        layer_dir = self._server.directory
        shutil.copyfile(os.path.join(layer_dir, 'Data.fs'),
                        os.path.join(directory, 'Data.fs'))
        _layer.copy_tree(os.path.join(layer_dir, 'blobs'),
                         os.path.join(directory, 'blobs'))
        server = ZEOServer(
            directory, self.host, 0, self.zeo_options, self.start_timeout)
        server.state = state
        self._servers.append(server)
        server.launch()
        return server

    def open_copy(self, directory):
        server, self._spare = self._spare, None
        if server is not None and server.state != self._layer_state():
            self._discard(server)
            server = None
        if server is None:
            server = self._launch_copy()
        try:
            deadline = server.wait_listening()
            database = server.client_database(
                os.path.join(server.directory, 'client-blobs'), deadline,
                read_only_for_others=False)
        except BaseException:
            self._discard(server)
            raise
        database.add_cleanup(lambda: self._discard(server))
        database.add_cleanup(self._show_layer_address)
        self['zeo_address'] = server.address
        if self.spare_server:
            self._spare = self._launch_copy()
        return database

    def _show_layer_address(self):
        self['zeo_address'] = self._server.address

    def _discard(self, server):
        self._servers.remove(server)
        try:
            server.stop()
        finally:
            shutil.rmtree(server.directory, ignore_errors=True)


ZEO = ZEOLayer(name='ZEOLayer', module=__name__)
