"""The test layers: a fake weather API under the app."""
import gocept.httplayer
import gocept.wsgilayer
import plone.testing.zca

import consumer
import consumer.app


ZCML = plone.testing.zca.ZCMLSandbox(
    filename='configure.zcml', package=consumer,
    name='Consumer:ZCML', module=__name__)

WEATHER_API = gocept.httplayer.HTTPServerLayer(
    name='Consumer:WeatherAPI', module=__name__)


class AppLayer(gocept.wsgilayer.WSGILayer):

    def make_wsgi_app(self):
        return consumer.app.make_app(self['http_url'] + '/weather')


APP = AppLayer(bases=(ZCML, WEATHER_API), name='Consumer:App',
               module=__name__)
