"""Client of the upstream catalog service (a JSON API)."""
import collections
import urllib.parse

import requests


Product = collections.namedtuple('Product', ['sku', 'name'])


class CatalogError(Exception):
    """The catalog could not tell us about a product."""


class UnknownProduct(CatalogError):
    """The catalog does not know the SKU (404)."""


class CatalogUnavailable(CatalogError):
    """The catalog failed (5xx, bad answer, no connection)."""


class CatalogTimeout(CatalogUnavailable):
    """The catalog did not answer within the timeout."""


class Catalog:

    def __init__(self, url, timeout=2.0):
        self.url = url.rstrip('/')
        self.timeout = float(timeout)

    def product(self, sku):
        """Return the `Product` for `sku`; raise a `CatalogError`."""
        url = f'{self.url}/products/{urllib.parse.quote(sku, safe="")}'
        try:
            response = requests.get(
                url, timeout=self.timeout,
                headers={'Accept': 'application/json'})
        except requests.Timeout:
            raise CatalogTimeout(
                f'The catalog did not answer within {self.timeout:g} s.')
        except requests.RequestException as e:
            raise CatalogUnavailable(f'The catalog is unreachable: {e}')
        if response.status_code == 404:
            raise UnknownProduct(f'The catalog does not know {sku!r}.')
        if response.status_code != 200:
            raise CatalogUnavailable(
                f'The catalog answered {response.status_code}.')
        try:
            data = response.json()
            return Product(sku=data['sku'], name=data['name'])
        except (ValueError, KeyError, TypeError):
            raise CatalogUnavailable('The catalog sent a malformed answer.')
