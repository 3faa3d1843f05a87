"""Undo-capable test layers: zodblayer's storages with per-test copies.

The zodblayer's default isolation (a DemoStorage per test) only undoes
the test's own transactions in memory; ``isolation='copy'`` gives every
test its own copy of the real storage, so undo runs where it would in
production.
"""
import gocept.zodblayer


FILESTORAGE = gocept.zodblayer.FileStorageLayer(
    name='zodbundo:FileStorage', module=__name__, isolation='copy')

ZEO = gocept.zodblayer.ZEOLayer(
    name='zodbundo:ZEO', module=__name__, isolation='copy')

RELSTORAGE = gocept.zodblayer.RelStorageLayer(
    name='zodbundo:RelStorage', module=__name__, isolation='copy')

RELSTORAGE_HISTORY_FREE = gocept.zodblayer.RelStorageLayer(
    name='zodbundo:RelStorage:HistoryFree', module=__name__,
    isolation='copy', keep_history=False)
