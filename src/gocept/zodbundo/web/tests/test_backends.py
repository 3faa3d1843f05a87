"""The operator's scenario through the pages on ZEO and RelStorage."""
import unittest

import gocept.zodbundo.tests.layers
import gocept.zodbundo.web.tests.scenario


class ZEOScenarioTest(gocept.zodbundo.web.tests.scenario.WebScenario,
                      unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.ZEO


class RelStorageScenarioTest(gocept.zodbundo.web.tests.scenario.WebScenario,
                             unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.RELSTORAGE
