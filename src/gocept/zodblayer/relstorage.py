"""A RelStorage on a database of the PostgreSQL layer's server."""
import itertools
import os

from gocept.zodblayer import _extras
from gocept.zodblayer import _layer
from gocept.zodblayer import postgresql


ZCONFIG = """\
%import relstorage
<zodb>
  <relstorage>
    keep-history {keep_history}
    blob-dir {blob_dir}
    read-only {read_only}
{options}
    <postgresql>
      dsn {dsn}
    </postgresql>
  </relstorage>
</zodb>
"""

_counter = itertools.count(1)


def quote(name):
    """An SQL identifier (the names are ours, but quote them anyway)."""
    return '"' + name.replace('"', '""') + '"'


class Server:
    """Administrative statements on the PostgreSQL server."""

    def __init__(self, dsn):
        self.dsn = dsn

    def dsn_for(self, dbname):
        import psycopg2.extensions
        return psycopg2.extensions.make_dsn(self.dsn, dbname=dbname)

    def execute(self, *statements, dbname=None):
        import psycopg2
        connection = psycopg2.connect(
            self.dsn if dbname is None else self.dsn_for(dbname))
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
                if cursor.description:
                    return cursor.fetchall()
        finally:
            connection.close()

    def create(self, name, template=None):
        sql = f'CREATE DATABASE {quote(name)}'
        if template:
            sql += f' TEMPLATE {quote(template)}'
        self.execute(sql)

    def drop(self, name):
        # FORCE (PostgreSQL 13+) ends sessions a crashed test left behind.
        self.execute(f'DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)')


class RelStorageLayer(_layer.ZODBLayer):
    """A RelStorage in a fresh database of `PostgreSQLLayer`'s server.

    Resources: ``zodbDB``, ``zodb_uri`` (``zconfig://PATH``),
    ``zodb_config`` (that ZConfig file's path), ``relstorage_dsn`` (the
    database's DSN), per test ``zodbConnection`` and ``zodbRoot``.

    With the default ``isolation='demo'`` the database holds the layer's
    state that every test starts from: ``zodb_uri`` and ``zodb_config``
    open it *read-only* (``read-only true``) in other processes, whose
    writes raise ZODB's ``ReadOnlyError`` instead of leaking into later
    tests. With ``isolation='copy'`` they name the test's own database
    (the layer's between tests) and open it for writing: use that for a
    second writer.

    History-preserving unless ``keep_history=False``; `relstorage_options`
    adds keys to the ``<relstorage>`` section. The database is created in
    setUp and dropped in tearDown. With ``isolation='copy'`` each test
    gets a database created from a snapshot of the layer's database
    (``CREATE DATABASE ... TEMPLATE``); when the layer's database changed
    since the last snapshot (a derived layer committed), ``zodbDB`` is
    closed and reopened to take a new one.
    """

    defaultBases = (postgresql.POSTGRESQL,)
    keep_history = True
    relstorage_options = {}

    def __init__(self, bases=None, name=None, module=None, isolation=None,
                 keep_history=None, relstorage_options=None):
        super().__init__(bases=bases, name=name, module=module,
                         isolation=isolation)
        if keep_history is not None:
            self.keep_history = keep_history
        if relstorage_options is not None:
            self.relstorage_options = relstorage_options
        self._server = None
        self._dbname = None
        self._snapshot = None
        self._snapshot_key = None

    def _write_config(self, path, dbname, blob_dir, read_only):
        with open(path, 'w') as f:
            f.write(ZCONFIG.format(
                keep_history='true' if self.keep_history else 'false',
                blob_dir=blob_dir,
                read_only='true' if read_only else 'false',
                dsn=self._server.dsn_for(dbname),
                options='\n'.join(
                    f'    {k} {v}'
                    for k, v in self.relstorage_options.items())))
        return path

    def _open(self, dbname, directory, read_only_for_others=False):
        """Open the database `dbname`, its config and blob cache in
        `directory`.

        With `read_only_for_others`, the `Database`'s URI and config name
        a second config that opens the database read-only.
        """
        import ZODB.config
        blob_dir = os.path.join(directory, 'blobs')
        own = self._write_config(
            os.path.join(directory, 'relstorage.conf'), dbname, blob_dir,
            read_only=False)
        with open(own) as f:
            db = ZODB.config.databaseFromFile(f)
        shown = own
        if read_only_for_others:
            # Its own blob cache: RelStorage's cache directory is not
            # shared between a writer and readers.
            shown = self._write_config(
                os.path.join(directory, 'relstorage-readonly.conf'), dbname,
                os.path.join(directory, 'blobs-readonly'), read_only=True)
        database = _layer.Database(db, f'zconfig://{shown}', shown)
        database.dsn = self._server.dsn_for(dbname)
        return database

    def open_database(self):
        _extras.require('relstorage', 'relstorage', 'psycopg2')
        self._server = Server(self['postgresql_dsn'])
        self._dbname = f'gocept_zodblayer_{os.getpid()}_{next(_counter)}'
        self._server.create(self._dbname)
        database = self._open(
            self._dbname, self.tempdir,
            read_only_for_others=self.isolation == _layer.DEMO)
        self._set_resources(database)
        return database

    def _set_resources(self, database):
        self['relstorage_dsn'] = database.dsn

    def close_layer(self):
        if 'relstorage_dsn' in self:
            del self['relstorage_dsn']
        server, self._server = self._server, None
        names = [self._dbname, self._snapshot]
        self._dbname = self._snapshot = self._snapshot_key = None
        if server is not None:
            for name in names:
                if name:
                    server.drop(name)

    def demo_base(self):
        # The layer's storage instance reads from the snapshot of its last
        # poll; poll, so that tests see what derived layers committed since.
        storage = self._layer_database.db.storage
        storage.poll_invalidations()
        return storage, None

    def _state_key(self):
        return self._server.execute(
            'SELECT max(tid) FROM object_state', dbname=self._dbname)

    def _take_snapshot(self):
        # CREATE DATABASE ... TEMPLATE needs the template without sessions:
        # close the layer's database while copying it.
        self._layer_database.db.close()
        try:
            if self._snapshot is None:
                self._snapshot = f'{self._dbname}_snapshot'
            self._server.drop(self._snapshot)
            self._server.create(self._snapshot, template=self._dbname)
        finally:
            # Also when copying failed (e.g. another session on the
            # layer's database): the layer's database stays usable.
            self._layer_database = self._open(
                self._dbname, self.tempdir,
                read_only_for_others=self.isolation == _layer.DEMO)
            self['zodbDB'] = self._layer_database.db

    def open_copy(self, directory):
        key = self._state_key()
        if key != self._snapshot_key:
            self._take_snapshot()
            self._snapshot_key = key
        name = f'{self._dbname}_test'
        self._server.drop(name)
        self._server.create(name, template=self._snapshot)
        try:
            database = self._open(name, directory)
        except BaseException:
            self._server.drop(name)
            raise
        database.add_cleanup(lambda: self._server.drop(name))
        self._set_resources(database)
        database.add_cleanup(
            lambda: self._set_resources(self._layer_database))
        return database


RELSTORAGE = RelStorageLayer(name='RelStorageLayer', module=__name__)
RELSTORAGE_HISTORY_FREE = RelStorageLayer(
    name='RelStorageLayer:HistoryFree', module=__name__, keep_history=False)
