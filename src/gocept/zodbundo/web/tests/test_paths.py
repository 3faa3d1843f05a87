"""`history --path` and the path lookup behind it."""
import io
import unittest

import persistent
import persistent.mapping
import transaction

import gocept.zodbundo.cli
import gocept.zodbundo.errors
import gocept.zodbundo.paths
import gocept.zodbundo.tests.layers


class Folder(persistent.Persistent):
    """Zope-style: sub-objects as attributes."""


class PathTest(unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.FILESTORAGE

    def setUp(self):
        self.db = self.layer['zodbDB']
        root = self.layer['zodbRoot']
        root['Application'] = app = Folder()
        app.shop = persistent.mapping.PersistentMapping()
        app.shop['42'] = self.item = persistent.mapping.PersistentMapping(
            price=10)
        app.shop['42'].title = 'not reached: items come first'
        transaction.commit()

    def resolve(self, path):
        return gocept.zodbundo.paths.resolve_path(self.db, path)

    def test_item_then_attribute_access(self):
        self.assertEqual(
            self.item._p_oid, self.resolve('/Application/shop/42'))
        self.assertEqual(b'\0' * 8, self.resolve('/'))

    def test_errors_name_the_step(self):
        for path, message in [
                ('/Application/nope', "/Application ({}.Folder) has no item"
                 " or attribute 'nope'".format(Folder.__module__)),
                ('/Application/shop/42/price', '/Application/shop/42/price'
                 ' is a value of type int, not a persistent object'),
                ('shop', 'give a path from the root')]:
            with self.assertRaises(gocept.zodbundo.errors.BadArgument) as c:
                self.resolve(path)
            self.assertIn(message, str(c.exception))

    def run_cli(self, *args):
        stdout, stderr = io.StringIO(), io.StringIO()
        # The layer holds the file; the command opens it read-only.
        code = gocept.zodbundo.cli.main(
            ['history', '--file', self.db.storage._file_name] + list(args),
            stdout, stderr)
        return code, stdout.getvalue(), stderr.getvalue()

    def test_history_path_option(self):
        code, out, err = self.run_cli('--path', '/Application/shop/42')
        self.assertEqual(0, code, err)
        self.assertIn(self.item._p_serial.hex(), out)
        code, out, err = self.run_cli('--path', '/Application/zzz')
        self.assertEqual(2, code)
        self.assertIn("has no item or attribute 'zzz'", err)

    def test_history_needs_oid_or_path(self):
        self.assertEqual(2, self.run_cli()[0])
        self.assertEqual(2, self.run_cli('0x1', '--path', '/x')[0])
