"""The operator's scenario, through the pages, on any undoable storage.

A bad import run changed three objects; a later edit changed one of them
again. Find the bad run by filtering, preview its undo (a conflict with
the later edit), undo with cascade, see the result.
"""
import persistent.mapping
import transaction
import webtest

import gocept.zodbundo.web.tests.layers


def build_history(root):
    """Commit the scenario; return {name: tid}."""
    tids = {}
    shop = root['shop'] = persistent.mapping.PersistentMapping()
    for name in ('a', 'b', 'c'):
        shop[name] = persistent.mapping.PersistentMapping(price=10)
    _commit('create shop', 'alice')
    tids['create'] = shop._p_serial
    for name in ('a', 'b', 'c'):
        shop[name]['price'] = 99
    _commit('import run 7\nprices from supplier.csv', 'importer')
    tids['bad'] = shop['a']._p_serial
    shop['a']['price'] = 12
    _commit('manual fix of a', 'bob')
    tids['later'] = shop['a']._p_serial
    root['other'] = persistent.mapping.PersistentMapping(
        note='<script>document.title="pwned"</script>')
    _commit('<script>document.title="pwned"</script>', 'mallory')
    tids['script'] = root['other']._p_serial
    return tids


def _commit(note, user):
    txn = transaction.get()
    txn.note(note)
    txn.user = user
    transaction.commit()


class WebScenario:
    """Mixin for a TestCase whose layer gives an undoable `zodbDB`."""

    def setUp(self):
        super().setUp()
        self.root = self.layer['zodbRoot']
        self.tids = build_history(self.root)
        self.browser = webtest.TestApp(
            gocept.zodbundo.web.tests.layers.make_app(self.layer['zodbDB']),
            extra_environ={'HTTP_HOST': 'localhost:80'})
        self.browser.get('/?token=' + gocept.zodbundo.web.tests.layers.TOKEN)

    def prices(self):
        transaction.begin()
        return [self.root['shop'][n]['price'] for n in 'abc']

    def test_find_preview_conflict_cascade_undo_result(self):
        log = self.browser.get('/', params={'description': 'import'})
        rows = log.html.select('#log tr.transaction')
        self.assertEqual(1, len(rows))
        bad = self.tids['bad'].hex()
        self.assertIn(bad, rows[0].text)
        self.assertIn('import run 7 \u21b5 prices', rows[0].text)
        preview = log.click(href='/transaction/' + bad).click(
            linkid='preview-undo')
        self.assertIn('conflict', preview.html.select_one('#verdict').text)
        [conflict] = preview.html.select('#plan tr.conflict')
        self.assertIn(self.tids['later'].hex(), conflict.text)
        self.assertNotIn('commit', preview.forms)
        preview = preview.click(linkid='preview-cascade')
        self.assertIn('Undo is possible', preview.html.select_one(
            '#verdict').text)
        result = preview.forms['commit'].submit().maybe_follow()
        self.assertEqual(
            {self.tids['bad'].hex(), self.tids['later'].hex()},
            {a.text.strip() for a in result.html.select('a.undone')})
        self.assertEqual([10, 10, 10], self.prices())
        new = result.click(linkid='new-transaction')
        self.assertIn('Undo of', new.html.select_one('#description').text)
