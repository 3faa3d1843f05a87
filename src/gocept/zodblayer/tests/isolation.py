"""Behaviour every ZODB layer must show, as mixins for the test modules."""
import subprocess
import sys
import textwrap

import plone.testing
import transaction


def fill(root):
    """The state the test layers leave: values committed in setUp."""
    import ZODB.blob
    root['layer'] = 'set up'
    root['layer_blob'] = ZODB.blob.Blob(b'blob of the layer')


class IsolationTests:
    """Mixin: per-test isolation; `layer` must call `fill` in setUpZODB."""

    def test_value_committed_in_layer_setUp_is_seen(self):
        self.assertEqual('set up', self.layer['zodbRoot']['layer'])

    def test_value_committed_in_layer_setUp_is_seen_again(self):
        root = self.layer['zodbRoot']
        self.assertEqual('set up', root['layer'])
        root['layer'] = 'changed'
        transaction.commit()

    def _commit_and_check_clean_start(self):
        root = self.layer['zodbRoot']
        self.assertNotIn('written', root)
        self.assertEqual('set up', root['layer'])
        root['written'] = 1
        root['layer'] = 'overwritten'
        transaction.commit()

    # Whichever of the two runs second fails if a write leaks.
    def test_write_is_not_seen_by_the_next_test_1(self):
        self._commit_and_check_clean_start()

    def test_write_is_not_seen_by_the_next_test_2(self):
        self._commit_and_check_clean_start()

    def test_blob_committed_in_layer_setUp_is_readable(self):
        with self.layer['zodbRoot']['layer_blob'].open() as f:
            self.assertEqual(b'blob of the layer', f.read())

    def test_blob_written_in_test_is_readable(self):
        import ZODB.blob
        root = self.layer['zodbRoot']
        root['test_blob'] = ZODB.blob.Blob(b'blob of the test')
        transaction.commit()
        root._p_jar.cacheMinimize()
        with root['test_blob'].open() as f:
            self.assertEqual(b'blob of the test', f.read())

    def test_zodbConnection_is_the_connection_of_zodbRoot(self):
        self.assertIs(
            self.layer['zodbConnection'], self.layer['zodbRoot']._p_jar)
        self.assertIs(
            self.layer['zodbDB'], self.layer['zodbConnection'].db())


class CommittingLayer(plone.testing.Layer):
    """A derived (app) layer that commits into its base's database.

    zope.testrunner runs the base's own tests first, then sets this layer
    up on the still running base: the base must not serve stale state.
    """

    def setUp(self):
        with self['zodbDB'].transaction() as connection:
            connection.root()['derived'] = 'yes'

    def tearDown(self):
        pass


class DerivedLayerTests(IsolationTests):
    """Mixin for tests of a `CommittingLayer` over a filled layer."""

    def test_commit_of_derived_layer_is_seen(self):
        self.assertEqual('yes', self.layer['zodbRoot']['derived'])

    def test_commit_of_derived_layer_is_seen_again(self):
        root = self.layer['zodbRoot']
        self.assertEqual('yes', root['derived'])
        del root['derived']
        transaction.commit()


class UndoTests:
    """Mixin for layers with ``isolation='copy'``: undo on the real storage.
    """

    def test_database_supports_undo(self):
        self.assertTrue(self.layer['zodbDB'].supportsUndo())

    def test_undo_of_a_transaction_committed_in_the_test(self):
        db = self.layer['zodbDB']
        root = self.layer['zodbRoot']
        root['layer'] = 'wrong'
        transaction.get().note('the mistake')
        transaction.commit()
        info = db.undoInfo(0, 1)[0]
        self.assertEqual('the mistake', info['description'])
        db.undo(info['id'])
        transaction.commit()
        root._p_jar.sync()
        self.assertEqual('set up', root['layer'])

    def test_undo_of_the_layer_setUp_transaction(self):
        db = self.layer['zodbDB']
        root = self.layer['zodbRoot']
        descriptions = [i['description'] for i in db.undoInfo(0, 20)]
        self.assertTrue(descriptions[0].endswith('setUpZODB'))
        db.undo(db.undoInfo(0, 1)[0]['id'])
        transaction.commit()
        root._p_jar.sync()
        self.assertNotIn('layer', root)


OPEN_ROOT = textwrap.dedent('''\
    import sys
    import zodburi
    import ZODB
    import ZODB.config
    kind, where, key = sys.argv[1:4]
    if kind == 'uri':
        factory, dbkw = zodburi.resolve_uri(where)
        db = ZODB.DB(factory(), **dbkw)
    else:
        db = ZODB.config.databaseFromURL(where)
    with db.transaction() as conn:
        if sys.argv[4:]:
            conn.root()[key] = sys.argv[4]
        print(repr(conn.root().get(key)))
    db.close()
''')


def open_in_subprocess(resource, where, key, value=None):
    """Open a database (``zodb_uri`` or ``zodb_config``) in another process.

    Reads ``root[key]``; with a `value`, commits ``root[key] = value``
    first. Returns the ``subprocess.CompletedProcess``.
    """
    kind = {'zodb_uri': 'uri', 'zodb_config': 'config'}[resource]
    return subprocess.run(
        [sys.executable, '-c', OPEN_ROOT, kind, where, key]
        + ([] if value is None else [value]),
        env=python_env(), capture_output=True, text=True, timeout=60)


def read_in_subprocess(uri, key, resource='zodb_uri'):
    """Open `uri` in another process and return repr(root[key])."""
    result = open_in_subprocess(resource, uri, key)
    if result.returncode:
        raise AssertionError(
            f'subprocess failed ({result.returncode}):\n{result.stderr}')
    return result.stdout.strip()


class ReadOnlyForOtherProcessesTests:
    """Mixin: other processes read the layer's state through ``zodb_uri``
    and ``zodb_config`` while the layer is set up, but cannot write it.

    FileStorage admits a single writing process (the test process holds
    its lock); with ``isolation='demo'`` a write of another process would
    land in the layer's base storage and leak into every later test.
    """

    def test_zodb_uri_reads_the_layer_state_in_another_process(self):
        self.assertEqual("'set up'", read_in_subprocess(
            self.layer['zodb_uri'], 'layer'))

    def test_zodb_config_reads_the_layer_state_in_another_process(self):
        self.assertEqual("'set up'", read_in_subprocess(
            self.layer['zodb_config'], 'layer', resource='zodb_config'))

    def _assert_write_refused(self, resource):
        result = open_in_subprocess(
            resource, self.layer[resource], 'intruder', 'written')
        self.assertNotEqual(0, result.returncode, result.stdout)
        self.assertIn('ReadOnlyError', result.stderr)
        self.assertEqual('None', read_in_subprocess(
            self.layer[resource], 'intruder', resource=resource))

    def test_writer_through_zodb_uri_gets_ReadOnlyError(self):
        self._assert_write_refused('zodb_uri')

    def test_writer_through_zodb_config_gets_ReadOnlyError(self):
        self._assert_write_refused('zodb_config')


class SecondWriterTests:
    """Mixin for ``isolation='copy'`` on a server: another process may
    write the test's own database through ``zodb_uri``/``zodb_config``."""

    def _assert_second_writer(self, resource):
        result = open_in_subprocess(
            resource, self.layer[resource], 'second', 'writer')
        self.assertEqual(0, result.returncode, result.stderr)
        connection = self.layer['zodbConnection']
        transaction.abort()
        connection.sync()
        self.assertEqual('writer', self.layer['zodbRoot']['second'])

    def test_zodb_uri_takes_a_second_writer(self):
        self._assert_second_writer('zodb_uri')

    def test_zodb_config_takes_a_second_writer(self):
        self._assert_second_writer('zodb_config')


def python_env():
    import gocept.zodblayer._process
    return gocept.zodblayer._process.python_env()
