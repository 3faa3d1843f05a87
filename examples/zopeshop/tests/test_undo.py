"""Undoing a mistake in the ZMI: needs isolation='copy' (see testing.py)."""
import unittest

import zopeshop.testing


class UndoTest(unittest.TestCase):

    layer = zopeshop.testing.ZOPE

    def test_undo_tab_brings_back_a_deleted_article(self):
        url = self.layer['wsgi_url']
        browser = self.layer.browser(url + '/shop/manage_main', login=True)
        browser.getControl(name='ids:list').value = ['jug']
        browser.getControl('Delete').click()
        self.assertNotIn('/shop/jug', browser.contents)
        browser.open(url + '/Control_Panel/Database/main/manage_UndoForm')
        newest = browser.getControl(name='transaction_info:list').controls[0]
        self.assertIn('/shop/manage_delObjects', newest.optionValue)
        newest.selected = True
        browser.getControl('Undo').click()
        browser.open(url + '/shop/jug')
        self.assertIn('12.50 EUR', browser.contents)
