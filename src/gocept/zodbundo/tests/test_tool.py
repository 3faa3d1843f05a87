import unittest

import gocept.zodbundo.tests.layers
import gocept.zodbundo.tests.scenarios


class FileStorageTests(gocept.zodbundo.tests.scenarios.UndoScenarios,
                       unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.FILESTORAGE


class ZEOTests(gocept.zodbundo.tests.scenarios.UndoScenarios,
               unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.ZEO


if gocept.zodbundo.tests.layers.RELSTORAGE is not None:
    class RelStorageTests(gocept.zodbundo.tests.scenarios.UndoScenarios,
                          unittest.TestCase):

        layer = gocept.zodbundo.tests.layers.RELSTORAGE
        resolves_on_undo = False
