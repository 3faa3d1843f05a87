import unittest

import consumer.testing


class AppTest(unittest.TestCase):

    layer = consumer.testing.APP

    def test_home_page_shows_the_weather_the_api_reports(self):
        api = self.layer['http_server']
        api.expect('GET', '/weather/Berlin').respond(json={'weather': 'rain'})
        api.expect('GET', '/weather/Halle').respond(json={'weather': 'sun'})
        browser = self.layer.browser('http://localhost/')
        self.assertEqual('<ul><li>Berlin: rain</li><li>Halle: sun</li></ul>',
                         browser.contents)
        self.assertEqual(2, len(api.requests))


class WeatherAPITest(unittest.TestCase):

    layer = consumer.testing.WEATHER_API

    def test_unexpected_request_is_answered_500(self):
        import urllib.error
        import urllib.request
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(self.layer['http_url'] + '/nothing')
        self.assertEqual(500, caught.exception.code)
        self.layer['http_server'].reset()  # it was expected here
