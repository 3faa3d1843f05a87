"""Readable changes between two records, without importing classes."""
import pickle
import unittest
import unittest.mock

import BTrees.OOBTree
import persistent
import persistent.mapping
import transaction
import ZODB
import ZODB.MappingStorage

import gocept.zodbundo.web.states


class Item(persistent.Persistent):
    pass


class StatesTest(unittest.TestCase):

    def setUp(self):
        self.db = ZODB.DB(ZODB.MappingStorage.MappingStorage())
        self.addCleanup(self.db.close)
        self.manager = transaction.TransactionManager()
        self.connection = self.db.open(self.manager)
        self.root = self.connection.root()

    def record(self, obj):
        """The data record ZODB wrote for `obj` just now."""
        self.manager.commit()
        return self.db.storage.load(obj._p_oid)[0]

    def changes(self, old, new):
        return [(c.kind, c.key, c.action, c.old, c.new)
                for c in gocept.zodbundo.web.states.diff(old, new)]

    def test_attributes_added_removed_changed(self):
        self.root['item'] = item = Item()
        item.title = 'Kettle'
        item.price = 39
        old = self.record(item)
        item.price = 41
        del item.title
        item.color = 'red'
        new = self.record(item)
        self.assertEqual([
            ('attribute', "'color'", 'added', '', "'red'"),
            ('attribute', "'price'", 'changed', '39', '41'),
            ('attribute', "'title'", 'removed', "'Kettle'", ''),
        ], self.changes(old, new))

    def test_btree_items_and_references(self):
        self.root['tree'] = tree = BTrees.OOBTree.OOBTree()
        tree['a'] = 1
        old = self.record(tree)
        tree['b'] = self.root['other'] = Item()
        new = self.record(tree)
        [(kind, key, action, before, after)] = self.changes(old, new)
        self.assertEqual(('item', "'b'", 'added'), (kind, key, action))
        self.assertEqual(
            '<object {} {}.Item>'.format(
                self.root['other']._p_oid.hex(), __name__), after)

    def test_unknown_classes_are_named_not_imported(self):
        # {'when': no.such.Thing()}: its module does not exist.
        data = (pickle.dumps(('no.such', 'Thing'), 3)
                + b'\x80\x03}X\x04\x00\x00\x00whencno.such\nThing\n)\x81s.')
        self.assertEqual(
            [('attribute', "'when'", 'added', '', 'no.such.Thing(None)')],
            self.changes(None, data))

    def test_no_code_from_the_record_runs(self):
        # A state that calls os.system('true') when pickle runs it.
        data = (pickle.dumps(('x', 'Y'), 3)
                + b'\x80\x03cos\nsystem\nX\x04\x00\x00\x00true\x85R.')
        with unittest.mock.patch('os.system') as system:
            [change] = gocept.zodbundo.web.states.diff(None, data)
        system.assert_not_called()
        self.assertEqual("os.system(('true',))", change.new)

    def test_long_values_are_shortened(self):
        self.root['m'] = mapping = persistent.mapping.PersistentMapping()
        old = self.record(mapping)
        mapping['text'] = 'x' * 1000
        [change] = gocept.zodbundo.web.states.diff(old, self.record(mapping))
        self.assertLessEqual(len(change.new), 100)

