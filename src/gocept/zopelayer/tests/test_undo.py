"""Undoing a ZMI transaction: the Undo tab, UndoTool and zodb-undo.

Undo needs `isolation='copy'`: with a DemoStorage per test, Zope's Undo tab
would list only the test's own transactions and undo them in memory.
"""
import os
import subprocess
import sys
import unittest

import transaction

import gocept.zodbundo
import gocept.zopelayer.tests.helpers as helpers
import gocept.zopelayer.tests.layers as layers


class UndoTests(unittest.TestCase):

    layer = layers.ZOPE

    def setUp(self):
        helpers.add_folder_in_zmi(self.layer, 'mistake')
        self.assertIn('mistake', helpers.ids_in_zmi(self.layer))

    def test_zmi_undo_tab_undoes_a_zmi_transaction(self):
        browser = self.layer.browser(
            self.layer['wsgi_url']
            + '/Control_Panel/Database/main/manage_UndoForm', login=True)
        checkboxes = browser.getControl(name='transaction_info:list')
        newest = checkboxes.controls[0]
        self.assertIn('/manage_addFolder', newest.optionValue)
        newest.selected = True
        browser.getControl('Undo').click()
        self.assertNotIn('mistake', helpers.ids_in_zmi(self.layer))

    def test_undo_tool_undoes_a_zmi_transaction(self):
        db = self.layer['zodbDB']
        tool = gocept.zodbundo.UndoTool(db)
        info = tool.log(limit=1)[0]
        self.assertEqual('/manage_addFolder', info.description)
        tool.undo([info.tid], note='Undo the folder added by mistake')
        self.assertNotIn('mistake', helpers.ids_in_zmi(self.layer))
        transaction.begin()
        self.assertNotIn('mistake', self.layer['app'].objectIds())


class ZEOCommandTests(unittest.TestCase):
    """zodb-undo in a subprocess, talking to the ZEO server Zope uses."""

    layer = layers.ZOPE_ZEO

    def zodb_undo(self, *args):
        host, port = self.layer['zeo_address']
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        return subprocess.run(
            [sys.executable, '-m', 'gocept.zodbundo.cli',
             '--zeo', f'{host}:{port}', *args],
            capture_output=True, text=True, timeout=120, env=env)

    def test_zodb_undo_undoes_a_zmi_transaction_while_zope_runs(self):
        helpers.add_folder_in_zmi(self.layer, 'mistake')
        tid = self.layer['zodbDB'].lastTransaction().hex()
        dry = self.zodb_undo('undo', tid)
        self.assertEqual(0, dry.returncode, dry.stderr)
        self.assertIn('mistake', helpers.ids_in_zmi(self.layer))
        result = self.zodb_undo('undo', tid, '--commit')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('Committed', result.stdout)
        # A round trip to the server: its answer comes after the
        # invalidations of the subprocess's commit.
        self.layer['zodbDB'].storage.server_status()
        self.assertNotIn('mistake', helpers.ids_in_zmi(self.layer))
