"""The Paste entry point: settings, ZCML and database as in production."""
import unittest

import plone.testing.zca
import webtest

import inventory


class MainTest(unittest.TestCase):

    def setUp(self):
        # main() loads configure.zcml into the global registry: keep that
        # registration out of other tests.
        plone.testing.zca.pushGlobalRegistry()
        self.addCleanup(plone.testing.zca.popGlobalRegistry)

    def test_main_opens_the_database_named_by_zodb_uri(self):
        app = inventory.main(
            {}, **{'catalog.url': 'http://catalog.invalid/api',
                   'zodb.uri': 'memory://'})
        db = app.registry.settings['get_db']()
        self.addCleanup(db.close)
        self.assertEqual('MappingStorage', type(db.storage).__name__)
        response = webtest.TestApp(app).get('/add')
        self.assertIn('<option value="backroom">Back room</option>',
                      response.text)
