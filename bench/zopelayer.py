"""Benchmark gocept.zopelayer against plone.testing.zope's functional stack.

Run: bin/python bench/zopelayer.py [--quick]

Both contenders run the same tests: open the ZMI root (`manage_main`) as
a manager and add a folder through the ZMI's add form.  Ours is
`ZopeLayer` on a `FileStorageLayer` (isolation 'demo', the default, and
'copy' for undo tests); plone.testing's is `zope.FUNCTIONAL_TESTING` on
`zope.STARTUP` (its own DemoStorage), with a fixture adding the manager as
plone.app.testing does.  Measured, in one run, contenders taking turns:

- layer setUp of the whole stack (median of rounds);
- per-test overhead: testSetUp + testTearDown of the stack (median);
- a ZMI request: GET manage_main as manager (median), and adding a folder
  (add form + POST, median).

Targets: setUp at most 1.2x, per-test overhead at most 1.0x, request at
most 1.05x plone.testing's.
"""
import argparse
import sys
import statistics
import time

import plone.testing
import plone.testing.zca
import plone.testing.zope
import transaction

import gocept.zodblayer
import gocept.zopelayer


AUTH = (f'Basic {gocept.zopelayer.SITE_OWNER_NAME}:'
        f'{gocept.zopelayer.SITE_OWNER_PASSWORD}')


class PloneOwner(plone.testing.Layer):
    """A manager in plone.testing's Zope, as plone.app.testing adds one."""

    defaultBases = (plone.testing.zope.STARTUP,)

    def setUp(self):
        with plone.testing.zope.zopeApp() as app:
            app.acl_users.userFolderAddUser(
                gocept.zopelayer.SITE_OWNER_NAME,
                gocept.zopelayer.SITE_OWNER_PASSWORD, ['Manager'], [])


PLONE_OWNER = PloneOwner(name='bench:PloneOwner', module=__name__)
PLONE_FUNCTIONAL = plone.testing.zope.FunctionalTesting(
    bases=(PLONE_OWNER,), name='bench:PloneFunctional', module=__name__)


class Contender:
    """A stack of layers (bases first) and how its tests browse."""

    def __init__(self, name, layers, browser, url):
        self.name = name
        self.layers = layers
        self.browser = browser
        self.url = url

    def set_up(self):
        for layer in self.layers:
            layer.setUp()

    def tear_down(self):
        for layer in reversed(self.layers):
            layer.tearDown()

    def test_set_up(self):
        for layer in self.layers:
            if hasattr(layer, 'testSetUp'):
                layer.testSetUp()

    def test_tear_down(self):
        for layer in reversed(self.layers):
            if hasattr(layer, 'testTearDown'):
                layer.testTearDown()


def ours(isolation):
    zodb = gocept.zodblayer.FileStorageLayer(
        name=f'bench:FileStorage:{isolation}', module=__name__,
        isolation=isolation)
    zope = gocept.zopelayer.ZopeLayer(
        bases=(zodb,), name=f'bench:Zope:{isolation}', module=__name__)
    return Contender(
        f'ZopeLayer on FileStorageLayer ({isolation})', [zodb, zope],
        lambda: zope.browser(login=True), lambda: zope['wsgi_url'])


def plone_testing():
    def browser():
        b = plone.testing.zope.Browser(PLONE_FUNCTIONAL['app'])
        b.addHeader('Authorization', AUTH)
        return b
    return Contender(
        'plone.testing.zope FUNCTIONAL_TESTING stack',
        [plone.testing.zca.LAYER_CLEANUP, plone.testing.zope.STARTUP,
         PLONE_OWNER, PLONE_FUNCTIONAL],
        browser, lambda: 'http://nohost')


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def median_ms(samples):
    return statistics.median(samples) * 1000


def measure_set_up(contender):
    seconds = timed(contender.set_up)
    contender.tear_down()
    return seconds


def measure_tests(contender, tests, requests):
    """Per-test overhead, ZMI GET and folder adding, in seconds."""
    overhead, get, add = [], [], []
    contender.set_up()
    try:
        for number in range(tests):
            start = time.perf_counter()
            contender.test_set_up()
            middle = time.perf_counter()
            if number < requests:
                browser = contender.browser()
                url = contender.url()
                get.append(timed(lambda: browser.open(url + '/manage_main')))

                def add_folder():
                    browser.open(
                        url + '/manage_addProduct/OFSP/folderAdd')
                    browser.getControl(name='id').value = f'f{number}'
                    browser.getControl('Add').click()
                add.append(timed(add_folder))
                assert f'f{number}' in browser.contents
            transaction.abort()
            end = time.perf_counter()
            contender.test_tear_down()
            overhead.append(middle - start + time.perf_counter() - end)
    finally:
        contender.tear_down()
    return overhead, get, add


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true',
                        help='few rounds: a smoke run, figures are noise')
    parser.add_argument('--rounds', type=int, default=7,
                        help='rounds; in each, every contender is set up'
                             ' once for setUp and once for its share of'
                             ' the tests (default: 7)')
    parser.add_argument('--tests', type=int, default=700,
                        help='tests per contender (default: 700)')
    parser.add_argument('--requests', type=int, default=140,
                        help='tests that browse, per contender'
                             ' (default: 140)')
    parser.add_argument('--check', action='store_true',
                        help='exit 1 when a target is missed')
    args = parser.parse_args(argv)
    missed = []
    if args.quick:
        args.rounds, args.tests, args.requests = 2, 40, 10
    contenders = [ours('demo'), plone_testing(), ours('copy')]
    for contender in contenders:  # warm up: imports, first ZCML parse
        measure_set_up(contender)

    set_up = {c.name: [] for c in contenders}
    for _ in range(args.rounds):
        for contender in contenders:
            set_up[contender.name].append(measure_set_up(contender))
    # In rounds, contenders taking turns, so load from elsewhere on the
    # machine hits them alike.
    results = {c.name: ([], [], []) for c in contenders}
    for _ in range(args.rounds):
        for contender in contenders:
            figures = measure_tests(contender, args.tests // args.rounds,
                                    args.requests // args.rounds)
            for samples, more in zip(results[contender.name], figures):
                samples.extend(more)

    ours_demo, theirs = contenders[0].name, contenders[1].name
    print('== layer setUp of the stack (median) ==')
    for name, samples in set_up.items():
        print(f'{name:48} {median_ms(samples):8.1f} ms')
    ratio = median_ms(set_up[ours_demo]) / median_ms(set_up[theirs])
    print(f'setUp ratio ours (demo) / plone.testing: {ratio:.2f}x'
          ' (target <= 1.2x)')
    if ratio > 1.2:
        missed.append('setUp')
    for index, title, target in ((0, 'per-test overhead', 1.0),
                                 (1, 'ZMI request: GET manage_main', 1.05),
                                 (2, 'adding a folder in the ZMI', None)):
        print()
        print(f'== {title} (median) ==')
        for name, figures in results.items():
            print(f'{name:48} {median_ms(figures[index]):8.3f} ms'
                  f'  (n={len(figures[index])})')
        ratio = (median_ms(results[ours_demo][index])
                 / median_ms(results[theirs][index]))
        goal = f' (target <= {target}x)' if target else ''
        print(f'{title} ratio ours (demo) / plone.testing: {ratio:.2f}x{goal}')
        if target and ratio > target:
            missed.append(title)
    for name in missed:
        print(f'MISSED: {name}')
    return 1 if args.check and missed else 0


if __name__ == '__main__':
    sys.exit(main())
