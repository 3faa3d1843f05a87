"""What one test creates through the ZMI is gone in the next.

Two tests of each class do the same: add a folder `f1` in the ZMI after
checking it is not there.  Whichever runs second fails if the first test's
change leaked, in every isolation mode of every storage.
"""
import unittest

import transaction

import gocept.zopelayer.tests.helpers as helpers
import gocept.zopelayer.tests.layers as layers


class Isolation:

    def add_f1(self):
        self.assertNotIn('f1', helpers.ids_in_zmi(self.layer))
        browser = helpers.add_folder_in_zmi(self.layer, 'f1', 'First')
        self.assertTrue(browser.url.endswith('/manage_main'), browser.url)
        self.assertIn('f1', helpers.ids_in_zmi(self.layer))

    def test_zmi_change_is_gone_in_next_test_1(self):
        self.add_f1()

    def test_zmi_change_is_gone_in_next_test_2(self):
        self.add_f1()

    def test_setUpZope_content_is_there(self):
        self.assertLessEqual(
            {'shop', 'acl_users'}, helpers.ids_in_zmi(self.layer))
        self.assertEqual('The shop', self.layer['app'].shop.title)

    def test_app_resource_sees_zmi_changes_after_sync(self):
        helpers.add_folder_in_zmi(self.layer, 'f2')
        transaction.begin()  # see the request's commit
        self.assertIn('f2', self.layer['app'].objectIds())

    def test_commit_in_test_is_seen_by_zmi(self):
        self.layer['app'].manage_addFolder('f3')
        transaction.commit()
        self.assertIn('f3', helpers.ids_in_zmi(self.layer))


class FileStorageCopy(Isolation, unittest.TestCase):
    layer = layers.ZOPE


class FileStorageDemo(Isolation, unittest.TestCase):
    layer = layers.ZOPE_DEMO


class ZEOCopy(Isolation, unittest.TestCase):
    layer = layers.ZOPE_ZEO


class ZEODemo(Isolation, unittest.TestCase):
    layer = layers.ZOPE_ZEO_DEMO


class RelStorageCopy(Isolation, unittest.TestCase):
    layer = layers.ZOPE_RELSTORAGE


class RelStorageDemo(Isolation, unittest.TestCase):
    layer = layers.ZOPE_RELSTORAGE_DEMO
