"""The catalog client against a fake catalog service."""
import unittest

import inventory.catalog
import inventory.testing


class CatalogTest(unittest.TestCase):

    layer = inventory.testing.CATALOG

    def setUp(self):
        self.server = self.layer['http_server']
        self.catalog = inventory.catalog.Catalog(
            self.layer['http_url'] + '/api', timeout=0.5)

    def test_product_is_read_from_the_catalog(self):
        self.server.expect(
            'GET', '/api/products/SKU-1',
            headers={'Accept': 'application/json'},
        ).respond(json={'sku': 'SKU-1', 'name': 'Tea pot', 'price': 12.5})
        product = self.catalog.product('SKU-1')
        self.assertEqual(
            inventory.catalog.Product('SKU-1', 'Tea pot'), product)

    def test_sku_is_quoted_in_the_url(self):
        # Unquoted, the "?" would start a query string. The fake server
        # keeps reserved characters escaped when matching (RFC 3986
        # 6.2.2.2), so the stub names the quoted path.
        self.server.expect('GET', '/api/products/a%3Fb').respond(
            json={'sku': 'a?b', 'name': 'Questionable'})
        self.assertEqual('Questionable', self.catalog.product('a?b').name)

    def test_404_means_unknown_product(self):
        self.server.expect('GET', '/api/products/nope').respond(status=404)
        with self.assertRaisesRegex(
                inventory.catalog.UnknownProduct, 'nope'):
            self.catalog.product('nope')

    def test_503_means_unavailable(self):
        self.server.expect('GET', '/api/products/SKU-1').respond(status=503)
        with self.assertRaisesRegex(
                inventory.catalog.CatalogUnavailable, '503'):
            self.catalog.product('SKU-1')

    def test_slow_catalog_times_out(self):
        self.server.expect('GET', '/api/products/SKU-1').respond(
            delay=30, json={'sku': 'SKU-1', 'name': 'Too late'})
        with self.assertRaisesRegex(
                inventory.catalog.CatalogTimeout, 'within 0.5 s'):
            self.catalog.product('SKU-1')

    def test_malformed_answer_means_unavailable(self):
        self.server.expect('GET', '/api/products/SKU-1').respond(
            body=b'<html>Maintenance</html>')
        with self.assertRaisesRegex(
                inventory.catalog.CatalogUnavailable, 'malformed'):
            self.catalog.product('SKU-1')
