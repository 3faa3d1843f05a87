"""Functional tests of the app in-process, through WSGILayer."""
import unittest

import requests
import transaction
import zope.component

import inventory.models
import inventory.sources
import inventory.testing


TEA_POT = {'sku': 'SKU-1', 'name': 'Tea pot', 'price': 12.5}


class AppTest(unittest.TestCase):

    layer = inventory.testing.APP

    def setUp(self):
        self.catalog = self.layer['http_server']
        self.browser = self.layer.browser()

    def add_item(self, sku='SKU-1', quantity='3', location='Back room'):
        self.browser.open('http://localhost/add')
        self.browser.getControl('SKU').value = sku
        self.browser.getControl('Quantity').value = quantity
        self.browser.getControl('Location').displayValue = [location]
        self.browser.getControl('Save').click()

    def test_home_page_says_there_are_no_items_yet(self):
        self.browser.open('http://localhost/')
        self.assertEqual('Inventory', self.browser.title)
        self.assertIn('No items yet.', self.browser.contents)

    def test_location_choices_come_from_the_registered_source(self):
        source = zope.component.getUtility(
            inventory.sources.ILocationSource)
        self.browser.open('http://localhost/add')
        self.assertEqual(
            [source.factory.getTitle(value) for value in source],
            self.browser.getControl('Location').displayOptions)

    def test_added_item_is_named_by_the_catalog_and_listed(self):
        self.catalog.expect('GET', '/api/products/SKU-1').respond(
            json=TEA_POT)
        self.add_item()
        self.assertEqual('http://localhost/?added=Tea+pot', self.browser.url)
        self.assertIn('Added Tea pot.', self.browser.contents)
        self.assertIn('<td>SKU-1</td><td>Tea pot</td><td>3</td>'
                      '<td>Back room</td>', self.browser.contents)

    def test_added_item_is_stored_in_the_zodb(self):
        self.catalog.expect('GET', '/api/products/SKU-1').respond(
            json=TEA_POT)
        self.add_item()
        # The app committed in its own connection; a new transaction lets
        # the test's connection see that.
        transaction.begin()
        item = inventory.models.items(self.layer['zodbRoot'])['SKU-1']
        self.assertEqual(('Tea pot', 3, 'backroom'),
                         (item.name, item.quantity, item.location))

    def test_catalog_503_shows_an_error_and_saves_nothing(self):
        self.catalog.expect('GET', '/api/products/SKU-1').respond(status=503)
        self.browser.raiseHttpErrors = False
        self.add_item()
        self.assertEqual('503 Service Unavailable',
                         self.browser.headers['status'])
        self.assertIn('The catalog answered 503. Nothing was saved',
                      self.browser.contents)
        # The form keeps what the user entered.
        self.assertEqual('SKU-1', self.browser.getControl('SKU').value)
        transaction.begin()
        self.assertEqual(
            [], list(inventory.models.items(self.layer['zodbRoot'])))

    def test_catalog_timeout_shows_an_error(self):
        self.catalog.expect('GET', '/api/products/SKU-1').respond(
            delay=30, json=TEA_POT)
        self.browser.raiseHttpErrors = False
        self.add_item()
        self.assertEqual('504 Gateway Timeout',
                         self.browser.headers['status'])
        self.assertIn('The catalog did not answer within 0.5 s.',
                      self.browser.contents)

    def test_unknown_sku_is_a_form_error(self):
        self.catalog.expect('GET', '/api/products/XX').respond(status=404)
        self.add_item(sku='XX')
        self.assertIn("The catalog does not know &#x27;XX&#x27;.",
                      self.browser.contents)

    def test_invalid_input_is_refused_without_asking_the_catalog(self):
        self.add_item(sku='', quantity='-1')
        self.assertIn('Please enter the SKU.', self.browser.contents)
        self.assertIn('The quantity must be a whole number',
                      self.browser.contents)
        self.assertEqual([], self.catalog.requests)

    def test_forged_location_is_refused(self):
        response = self.layer.testapp().post(
            '/add', {'sku': 'SKU-1', 'quantity': '1', 'location': 'roof'})
        self.assertIn('Please choose a location from the list.',
                      response.text)


class APITest(unittest.TestCase):

    layer = inventory.testing.APP

    def test_items_api_through_webtest(self):
        self.layer['http_server'].expect(
            'GET', '/api/products/SKU-1').respond(json=TEA_POT)
        app = self.layer.testapp()
        app.post('/add', {'sku': 'SKU-1', 'quantity': '2',
                          'location': 'aisle-1'}, status=303)
        self.assertEqual(
            [{'sku': 'SKU-1', 'name': 'Tea pot', 'quantity': 2,
              'location': 'aisle-1'}],
            app.get('/api/items').json)

    def test_items_api_by_url_as_other_code_would_call_it(self):
        # requests reaches the app in-process through the layer's wsgi_url.
        response = requests.get(
            self.layer['wsgi_url'] + '/api/items', timeout=5)
        self.assertEqual(200, response.status_code)
        self.assertEqual([], response.json())
