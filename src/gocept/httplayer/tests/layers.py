"""Layers shared by the tests of gocept.httplayer."""

import gocept.httplayer


HTTP_LAYER = gocept.httplayer.HTTPServerLayer(
    name='HTTPServerLayer', module=__name__)
