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


READ_ROOT = textwrap.dedent('''\
    import sys
    import zodburi
    import ZODB
    factory, dbkw = zodburi.resolve_uri(sys.argv[1])
    db = ZODB.DB(factory(), **dbkw)
    with db.transaction() as conn:
        print(repr(conn.root().get(sys.argv[2])))
    db.close()
''')


def read_in_subprocess(uri, key):
    """Open `uri` in another process and return repr(root[key])."""
    result = subprocess.run(
        [sys.executable, '-c', READ_ROOT, uri, key],
        env=python_env(), capture_output=True, text=True, timeout=60)
    if result.returncode:
        raise AssertionError(
            f'subprocess failed ({result.returncode}):\n{result.stderr}')
    return result.stdout.strip()


def python_env():
    import gocept.zodblayer._process
    return gocept.zodblayer._process.python_env()
