"""Benchmark gocept.zodblayer against plone.testing's ZODB layers.

Run: bin/python bench/zodblayer.py [--quick]

Measures, in one run:
- layer setUp time per layer (median of several runs);
- per-test isolation overhead (testSetUp + testTearDown) for each of our
  layers and isolation modes, and for plone.testing: ``zodb.EMPTY_ZODB``
  (a connection on one DemoStorage, no per-test isolation) and the stack
  plone.testing's functional layers build on a FileStorage: a
  ``zodb.EmptyZODB`` whose ``createStorage`` returns a FileStorage, a
  "Startup" ``stackDemoStorage`` in setUp and a "FunctionalTest"
  ``stackDemoStorage`` per test (plone.testing.zope.FunctionalTesting);
  and, as a lower bound, one ``stackDemoStorage`` per test directly over
  the FileStorage database;
- commit latency of a small transaction on each storage.
"""
import argparse
import os
import shutil
import sys
import statistics
import tempfile
import time

import plone.testing
import plone.testing.zodb
import transaction

import gocept.zodblayer


def median_ms(samples):
    return statistics.median(samples) * 1000


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


class FileStorageZODB(plone.testing.zodb.EmptyZODB):
    """plone.testing's EmptyZODB on a FileStorage (its documented hook)."""

    def createStorage(self):
        import ZODB.FileStorage
        self.tempdir = tempfile.mkdtemp(prefix='bench.plone.')
        return ZODB.FileStorage.FileStorage(
            os.path.join(self.tempdir, 'Data.fs'),
            blob_dir=os.path.join(self.tempdir, 'blobs'))

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.tempdir)


PLONE_FS_ZODB = FileStorageZODB(name='bench:PloneFS', module=__name__)


class StartupStack(plone.testing.Layer):
    """Like plone.testing.zope.Startup: a DemoStorage over the base."""

    defaultBases = (PLONE_FS_ZODB,)

    def setUp(self):
        self['zodbDB'] = plone.testing.zodb.stackDemoStorage(
            self.get('zodbDB'), name='Startup')

    def tearDown(self):
        del self['zodbDB']


PLONE_STARTUP = StartupStack(name='bench:PloneStartup', module=__name__)


class FunctionalStack(plone.testing.Layer):
    """Like plone.testing.zope.FunctionalTesting, without Zope."""

    defaultBases = (PLONE_STARTUP,)

    def testSetUp(self):
        self['zodbDB'] = db = plone.testing.zodb.stackDemoStorage(
            self.get('zodbDB'), name='FunctionalTest')
        self['zodbConnection'] = connection = db.open()
        self['zodbRoot'] = connection.root()
        transaction.begin()

    def testTearDown(self):
        transaction.abort()
        self['zodbConnection'].close()
        del self['zodbConnection']
        del self['zodbRoot']
        # plone.testing closes the stacked database here; that would
        # close the FileStorage underneath (DemoStorage closes its base),
        # so it is only dropped, as the Startup one is.
        del self['zodbDB']


PLONE_FUNCTIONAL = FunctionalStack(
    name='bench:PloneFunctional', module=__name__)


class BareFileStorageZODB(FileStorageZODB):
    """The FileStorage database only: no connection per test."""

    def testSetUp(self):
        pass

    def testTearDown(self):
        pass


PLONE_MINIMAL = FunctionalStack(
    bases=(BareFileStorageZODB(name='bench:PloneFSBare', module=__name__),),
    name='bench:PloneMinimal', module=__name__)


def setup_order(layer):
    order = []

    def visit(current):
        for base in current.__bases__:
            visit(base)
        if current not in order:
            order.append(current)
    visit(layer)
    return order


def set_up(layer):
    for each in setup_order(layer):
        each.setUp()


def tear_down(layer):
    for each in reversed(setup_order(layer)):
        each.tearDown()


def per_test(layer, runs, body=0):
    """Seconds of testSetUp + testTearDown along the stack, per run.

    `body` seconds of test work (not timed) run between the two.
    """
    order = setup_order(layer)
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        for each in order:
            each.testSetUp()
        elapsed = time.perf_counter() - start
        layer['zodbRoot']['bench'] = i  # a test's write, not timed
        transaction.commit()
        if body:
            time.sleep(body)  # stands for the test's own work
        start = time.perf_counter()
        for each in reversed(order):
            each.testTearDown()
        samples.append(elapsed + time.perf_counter() - start)
    return samples


def commit_latency(layer, runs):
    db = layer['zodbDB']
    manager = transaction.TransactionManager()
    connection = db.open(transaction_manager=manager)
    root = connection.root()
    samples = []
    try:
        for i in range(runs):
            manager.begin()
            root['counter'] = i
            samples.append(timed(manager.commit))
    finally:
        manager.abort()
        connection.close()
    return samples


def setup_times(make_layer, runs, base=None):
    samples = []
    for i in range(runs):
        layer = make_layer(i)
        samples.append(timed(layer.setUp))
        layer.tearDown()
    return samples


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true',
                        help='fewer repetitions (a smoke test)')
    parser.add_argument('--check', action='store_true',
                        help='exit 1 when a target is missed')
    args = parser.parse_args(argv)
    scale = 0.2 if args.quick else 1.0
    missed = []

    def n(count):
        return max(3, int(count * scale))

    print('== layer setUp (median of runs) ==')
    rows = []
    rows.append(('FileStorageLayer', setup_times(
        lambda i: gocept.zodblayer.FileStorageLayer(
            name=f'b{i}', module=__name__), n(20))))
    rows.append(('ZEOLayer', setup_times(
        lambda i: gocept.zodblayer.ZEOLayer(
            name=f'b{i}', module=__name__), n(7))))
    saved = os.environ.get('GOCEPT_POSTGRESQL_CACHE')
    os.environ['GOCEPT_POSTGRESQL_CACHE'] = ''
    try:
        rows.append(('PostgreSQLLayer, no template cache (initdb)',
                     setup_times(lambda i: gocept.zodblayer.PostgreSQLLayer(
                         name=f'b{i}', module=__name__), n(5))))
    finally:
        if saved is None:
            del os.environ['GOCEPT_POSTGRESQL_CACHE']
        else:
            os.environ['GOCEPT_POSTGRESQL_CACHE'] = saved
    pg_samples = setup_times(
        lambda i: gocept.zodblayer.PostgreSQLLayer(
            name=f'b{i}', module=__name__), n(10))
    rows.append(('PostgreSQLLayer (cached template)', pg_samples))
    pg = gocept.zodblayer.PostgreSQLLayer(name='bench:PG', module=__name__)
    pg.setUp()
    try:
        rows.append(('RelStorageLayer (on a running PostgreSQLLayer)',
                     setup_times(lambda i: gocept.zodblayer.RelStorageLayer(
                         name=f'b{i}', module=__name__, bases=(pg,)),
                         n(10))))
        for name, samples in rows:
            print(f'{name:55} {median_ms(samples):8.1f} ms'
                  f'  (n={len(samples)})')
        pg_median = median_ms(pg_samples)
        print(f'PostgreSQLLayer setUp target < 2000 ms: {pg_median:.0f} ms'
              f' = {pg_median / 2000:.2f} of the budget')
        if pg_median >= 2000:
            missed.append('PostgreSQLLayer setUp')

        print()
        print('== per-test isolation: testSetUp + testTearDown (median) ==')
        layers = [
            ('plone.testing zodb.EMPTY_ZODB (no isolation)',
             plone.testing.zodb.EMPTY_ZODB, n(500)),
            ('plone.testing FileStorage stack (stackDemoStorage)',
             PLONE_FUNCTIONAL, n(500)),
            ('plone.testing stackDemoStorage on FileStorage, minimal',
             PLONE_MINIMAL, n(500)),
            ('FileStorageLayer demo', gocept.zodblayer.FileStorageLayer(
                name='bench:FS', module=__name__), n(500)),
            ('FileStorageLayer copy', gocept.zodblayer.FileStorageLayer(
                name='bench:FS:copy', module=__name__, isolation='copy'),
             n(200)),
            ('ZEOLayer demo', gocept.zodblayer.ZEOLayer(
                name='bench:ZEO', module=__name__), n(200)),
            ('ZEOLayer copy', gocept.zodblayer.ZEOLayer(
                name='bench:ZEO:copy', module=__name__, isolation='copy'),
             n(10)),
            ('RelStorageLayer demo', gocept.zodblayer.RelStorageLayer(
                name='bench:RS', module=__name__, bases=(pg,)), n(200)),
            ('RelStorageLayer copy', gocept.zodblayer.RelStorageLayer(
                name='bench:RS:copy', module=__name__, bases=(pg,),
                isolation='copy'), n(40)),
        ]
        body_layers = [
            ('ZEOLayer copy, tests of 0.4 s, no spare server',
             gocept.zodblayer.ZEOLayer(
                 name='bench:ZEO:copy:nospare', module=__name__,
                 isolation='copy', spare_server=False), n(8)),
            ('ZEOLayer copy, tests of 0.4 s, spare server',
             gocept.zodblayer.ZEOLayer(
                 name='bench:ZEO:copy:spare', module=__name__,
                 isolation='copy'), n(8)),
        ]
        results = {}
        for name, layer, runs in layers + body_layers:
            stack = [each for each in setup_order(layer) if each is not pg]
            for each in stack:
                each.setUp()
            try:
                body = 0.4 if 'tests of 0.4 s' in name else 0
                results[name] = median_ms(per_test(layer, runs, body))
            finally:
                for each in reversed(stack):
                    each.tearDown()
            print(f'{name:55} {results[name]:8.3f} ms  (n={runs})')
        ours = results['FileStorageLayer demo']
        theirs = results['plone.testing FileStorage stack (stackDemoStorage)']
        minimal = results[
            'plone.testing stackDemoStorage on FileStorage, minimal']
        print(f'FileStorageLayer demo / plone.testing FileStorage stack:'
              f' {ours / theirs:.2f}x (target <= 1.2x)')
        if ours / theirs > 1.2:
            missed.append('FileStorageLayer demo isolation')
        print(f'FileStorageLayer demo / minimal stackDemoStorage:'
              f' {ours / minimal:.2f}x')

        print()
        print('== commit latency of a small transaction (median) ==')
        storages = [
            ('MappingStorage (plone.testing EMPTY_ZODB)',
             plone.testing.zodb.EMPTY_ZODB),
            ('FileStorage', gocept.zodblayer.FileStorageLayer(
                name='bench:FS:commit', module=__name__)),
            ('ZEO (FileStorage)', gocept.zodblayer.ZEOLayer(
                name='bench:ZEO:commit', module=__name__)),
            ('RelStorage history-preserving',
             gocept.zodblayer.RelStorageLayer(
                 name='bench:RS:commit', module=__name__, bases=(pg,))),
            ('RelStorage history-free', gocept.zodblayer.RelStorageLayer(
                name='bench:RS:hf:commit', module=__name__, bases=(pg,),
                keep_history=False)),
        ]
        latencies = {}
        for name, layer in storages:
            layer.setUp()
            try:
                latencies[name] = median_ms(commit_latency(layer, n(200)))
            finally:
                layer.tearDown()
        base = latencies['FileStorage']
        for name, value in latencies.items():
            print(f'{name:55} {value:8.3f} ms  ({value / base:5.2f}x'
                  ' FileStorage)')
    finally:
        pg.tearDown()
    for name in missed:
        print(f'MISSED: {name}')
    return 1 if args.check and missed else 0


if __name__ == '__main__':
    sys.exit(main())
