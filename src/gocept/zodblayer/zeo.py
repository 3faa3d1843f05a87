"""A real ZEO server process serving a FileStorage."""
import os
import shutil
import sys
import time

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
        deadline = time.monotonic() + self.timeout
        config = os.path.join(self.directory, 'zeo.conf')
        with open(config, 'w') as f:
            f.write(ZEO_CONF.format(
                host=self.host, port=self.port, directory=self.directory,
                options='\n'.join(
                    f'  {k} {v}' for k, v in self.options.items())))
        address_file = os.path.join(self.directory, 'address')
        self.process = _process.ServerProcess(
            'ZEO server',
            [sys.executable, '-m', 'gocept.zodblayer._zeoserver',
             address_file, str(os.getpid()), '-C', config],
            os.path.join(self.directory, 'zeo.log'),
            env=_process.python_env())
        self.process.start()
        self.process.wait_until(
            lambda: os.path.exists(address_file), deadline, 'listen')
        with open(address_file) as f:
            host, port = f.read().split()
        self.address = (host, int(port))
        return deadline

    def client_database(self, blob_cache, deadline):
        """Connect a client; it proves the server answers."""
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
        config = _layer.write_config(
            os.path.join(self.directory, 'zodb.conf'),
            f'  <zeoclient>\n    server {host}:{port}\n  </zeoclient>\n')
        return _layer.Database(db, f'zeo://{host}:{port}', config)

    def stop(self):
        if self.process is not None:
            self.process.stop()


class ZEOLayer(_layer.ZODBLayer):
    """A ZEO server (runzeo in a subprocess) serving a FileStorage.

    Resources: ``zodbDB`` (a ClientStorage database), ``zodb_uri``
    (``zeo://127.0.0.1:PORT``; add ``?blob_dir=DIR`` with a directory of
    your own for blobs), ``zodb_config``, ``zeo_address``
    (``(host, port)``), per test
    ``zodbConnection`` and ``zodbRoot``.

    The server binds `port` (0: a free one, read back from ZEO itself) on
    `host`; `zeo_options` adds keys to its ``<zeo>`` config section.
    With ``isolation='copy'`` every test gets its own server on a copy of
    the layer's storage (about half a second per test).
    """

    host = '127.0.0.1'
    port = 0
    zeo_options = {}
    start_timeout = 60.0

    def __init__(self, bases=None, name=None, module=None, isolation=None,
                 host=None, port=None, zeo_options=None,
                 start_timeout=None):
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
        self._servers = []

    def _start(self, directory, port):
        server = ZEOServer(
            directory, self.host, port, self.zeo_options, self.start_timeout)
        self._servers.append(server)
        try:
            deadline = server.start()
            database = server.client_database(
                os.path.join(directory, 'client-blobs'), deadline)
        except BaseException:
            self._servers.remove(server)
            server.stop()
            raise
        return server, database

    def open_database(self):
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
            self._server = None
            if 'zeo_address' in self:
                del self['zeo_address']

    def _stop_servers(self):
        while self._servers:
            self._servers.pop().stop()

    def open_copy(self, directory):
        # The server flushes every commit to Data.fs, so copying it while
        # the server runs idle gives the layer's complete state.
        layer_dir = self._server.directory
        shutil.copyfile(os.path.join(layer_dir, 'Data.fs'),
                        os.path.join(directory, 'Data.fs'))
        _layer.copy_tree(os.path.join(layer_dir, 'blobs'),
                         os.path.join(directory, 'blobs'))
        server, database = self._start(directory, 0)
        database.add_cleanup(lambda: self._stop_server(server))
        self['zeo_address'] = server.address
        return database

    def _stop_server(self, server):
        self['zeo_address'] = self._server.address
        self._servers.remove(server)
        server.stop()


ZEO = ZEOLayer(name='ZEOLayer', module=__name__)
