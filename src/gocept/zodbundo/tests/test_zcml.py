import os
import shutil
import tempfile
import unittest

import transaction
import ZODB
import ZODB.FileStorage
import zope.component.testing
import zope.configuration.xmlconfig

import gocept.zodbundo


class AdapterTests(unittest.TestCase):

    def setUp(self):
        zope.component.testing.setUp()
        self.addCleanup(zope.component.testing.tearDown)

    def test_IUndoTool_adapts_a_db_after_including_the_package(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        db = ZODB.DB(ZODB.FileStorage.FileStorage(
            os.path.join(directory, 'Data.fs')))
        self.addCleanup(db.close)
        with self.assertRaises(TypeError):
            gocept.zodbundo.IUndoTool(db)
        zope.configuration.xmlconfig.string('''
            <configure xmlns="http://namespaces.zope.org/zope">
              <include package="zope.component" file="meta.zcml" />
              <include package="gocept.zodbundo" />
            </configure>''')
        tool = gocept.zodbundo.IUndoTool(db)
        self.assertIsInstance(tool, gocept.zodbundo.UndoTool)
        manager = transaction.TransactionManager()
        connection = db.open(manager)
        connection.root()['x'] = 1
        manager.commit()
        connection.close()
        self.assertEqual(db.lastTransaction(), tool.log(limit=1)[0].tid)
