"""The article: ZMI add and edit forms and its page, in-process."""
import unittest

import transaction
import zope.testbrowser.browser

import zopeshop.article
import zopeshop.testing


class ParsePriceTest(unittest.TestCase):

    def test_price_gets_two_places(self):
        self.assertEqual('3.50', str(zopeshop.article.parse_price('3,5')))

    def test_no_price_is_an_error_naming_the_input(self):
        for text in ('cheap', '-1', 'NaN', ''):
            with self.assertRaisesRegex(ValueError, 'is not a price'):
                zopeshop.article.parse_price(text)


ADD_FORM = '/shop/manage_addProduct/zopeshop/manage_addArticleForm'


class ArticleTest(unittest.TestCase):

    layer = zopeshop.testing.ZOPE

    def zmi(self):
        """A browser logged in as the site owner (a Manager)."""
        return self.layer.browser(login=True)

    def test_add_form_in_the_zmi(self):
        browser = self.zmi()
        browser.open(self.layer['wsgi_url'] + ADD_FORM)
        browser.getControl('Id').value = 'mug'
        browser.getControl('Title').value = 'Tea mug'
        browser.getControl('Price').value = '4,5'
        browser.getControl('Add').click()
        self.assertTrue(browser.url.endswith('/shop/manage_main'))
        self.assertIn('mug', browser.contents)
        # What the request committed is in the database.
        transaction.begin()
        self.assertEqual('4.50', str(self.layer['app'].shop.mug.price))

    def test_article_is_in_the_add_menu(self):
        browser = self.zmi()
        browser.open(self.layer['wsgi_url'] + '/shop/manage_main')
        self.assertIn('Shop Article', browser.contents)

    def test_bad_price_is_refused_and_nothing_added(self):
        browser = self.zmi()
        browser.handleErrors = True
        browser.open(self.layer['wsgi_url'] + ADD_FORM)
        browser.getControl('Id').value = 'mug'
        browser.getControl('Title').value = 'Tea mug'
        browser.getControl('Price').value = 'cheap'
        with self.assertRaisesRegex(zope.testbrowser.browser.HTTPError,
                                    '400'):
            browser.getControl('Add').click()
        self.assertIn("'cheap' is not a price", browser.contents)
        transaction.begin()
        self.assertNotIn('mug', self.layer['app'].shop.objectIds())

    def test_edit_tab(self):
        browser = self.zmi()
        browser.open(self.layer['wsgi_url'] + '/shop/jug/manage_editForm')
        browser.getControl('Price').value = '9.99'
        browser.getControl('Save').click()
        browser.open(self.layer['wsgi_url'] + '/shop/jug')
        self.assertIn('9.99 EUR', browser.contents)

    def test_anonymous_sees_the_article_page(self):
        browser = self.layer.browser(self.layer['wsgi_url'] + '/shop/jug')
        self.assertEqual('Milk jug', browser.title)
        self.assertIn('12.50 EUR', browser.contents)

    def test_anonymous_cannot_add(self):
        browser = self.layer.browser()
        with self.assertRaisesRegex(zope.testbrowser.browser.HTTPError,
                                    '401'):
            browser.open(self.layer['wsgi_url'] + ADD_FORM)

    def test_view_in_python(self):
        """The `app` resource: the application root of the test."""
        jug = self.layer['app'].shop.jug
        view = jug.restrictedTraverse('@@index_html')
        self.assertEqual('12.50 EUR', view.price())
