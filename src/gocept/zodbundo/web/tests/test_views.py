"""Every page and every refusal, through WebTest on FileStorage."""
import datetime
import unittest

import transaction
import webtest

import gocept.zodbundo.ids
import gocept.zodbundo.tests.layers
import gocept.zodbundo.web.tests.layers
import gocept.zodbundo.web.tests.scenario
from gocept.zodbundo.web.tests.layers import TOKEN


class FileStorageScenarioTest(gocept.zodbundo.web.tests.scenario.WebScenario,
                              unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.FILESTORAGE


class PageTest(unittest.TestCase):

    layer = gocept.zodbundo.tests.layers.FILESTORAGE

    def setUp(self):
        self.db = self.layer['zodbDB']
        self.root = self.layer['zodbRoot']
        self.tids = gocept.zodbundo.web.tests.scenario.build_history(
            self.root)
        self.browser = self.open()

    def open(self, login=True, **kw):
        app = gocept.zodbundo.web.tests.layers.make_app(self.db, **kw)
        browser = webtest.TestApp(
            app, extra_environ={'HTTP_HOST': 'localhost:80'})
        if login:
            browser.get('/?token=' + TOKEN)
        return browser

    def oid(self, name):
        return self.root['shop'][name]._p_oid.hex()

    def newest(self):
        return self.db.storage.lastTransaction()


class LogPageTest(PageTest):

    def test_newest_first_with_time_user_description_size(self):
        page = self.browser.get('/')
        rows = page.html.select('#log tr.transaction')
        self.assertEqual(
            [self.tids[k].hex() for k in ('script', 'later', 'bad',
                                          'create')],
            [r.select_one('.tid').text for r in rows][:4])
        cells = [td.text for td in rows[2].select('td')]
        self.assertEqual('importer', cells[3])
        self.assertRegex(cells[2], r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$')
        self.assertTrue(cells[5].isdigit())

    def test_zope_user_names_show_id_and_folder(self):
        self.root['z'] = 1
        txn = transaction.get()
        txn.user = '/shop/acl_users editor'
        transaction.commit()
        cell = self.browser.get('/').html.select(
            '#log tr.transaction')[0].select('td')[3]
        self.assertEqual('editor (/shop/acl_users)', cell.text)
        self.assertEqual('/shop/acl_users editor', cell['title'])

    def test_newlines_are_shown_not_breaking_the_row(self):
        page = self.browser.get('/')
        cell = page.html.select('#log tr.transaction')[2].select_one(
            '.description')
        self.assertEqual(
            'import run 7 \u21b5 prices from supplier.csv', cell.text)
        self.assertEqual(
            'import run 7\nprices from supplier.csv', cell['title'])

    def test_database_text_is_escaped(self):
        page = self.browser.get('/')
        self.assertNotIn('<script>document', page.text)
        self.assertIn('&lt;script&gt;document.title=', page.text)
        self.assertEqual(
            '<script>document.title="pwned"</script>',
            page.html.select('#log .description')[0].text)

    def test_paged_by_tid_not_by_offset(self):
        page = self.browser.get('/', params={'limit': '2'})
        self.assertEqual(2, len(page.html.select('#log tr.transaction')))
        older = page.html.select_one('#older')['href']
        self.assertIn('before=' + self.tids['later'].hex(), older)
        # A commit between two pages shifts nothing.
        self.root['x'] = 1
        transaction.commit()
        page = page.click(linkid='older')
        self.assertEqual(
            [self.tids['bad'].hex(), self.tids['create'].hex()],
            [t.text for t in page.html.select('#log .tid')])
        self.assertIsNotNone(page.html.select_one('#newest'))

    def test_filters_user_description_oid_and_time(self):
        def tids(**params):
            page = self.browser.get('/', params=params)
            return [t.text for t in page.html.select('#log .tid')]
        self.assertEqual([self.tids['later'].hex()], tids(user='bob'))
        self.assertEqual([self.tids['bad'].hex()],
                         tids(description='^import run \\d'))
        self.assertEqual(
            [self.tids[k].hex() for k in ('later', 'bad', 'create')],
            tids(oid=self.oid('a')))
        times = {k: gocept.zodbundo.ids.tid_time(v)
                 for k, v in self.tids.items()}
        def iso(seconds):
            return datetime.datetime.fromtimestamp(
                seconds, datetime.timezone.utc).isoformat()
        self.assertEqual(
            [self.tids['later'].hex(), self.tids['bad'].hex()],
            tids(since=iso((times['create'] + times['bad']) / 2),
                 until=iso((times['later'] + times['script']) / 2)))

    def test_bad_filters_are_400_naming_the_problem(self):
        for params, text in [
                ({'since': 'yesterday'}, 'Bad since'),
                ({'description': '(['}, 'Bad description pattern'),
                ({'oid': 'xyz'}, 'Bad oid'),
                ({'before': '123'}, 'Bad tid'),
                ({'limit': '0'}, 'Bad limit')]:
            page = self.browser.get('/', params=params, status=400)
            self.assertIn(text, page.html.select_one('#message').text)


class TransactionPageTest(PageTest):

    def test_objects_with_class_and_change(self):
        page = self.browser.get('/transaction/' + self.tids['bad'].hex())
        rows = page.html.select('#objects tr')[1:]
        self.assertEqual(
            {self.oid(n) for n in 'abc'},
            {r.select_one('.oid').text for r in rows})
        for row in rows:
            self.assertIn('persistent.mapping.PersistentMapping', row.text)
            self.assertEqual(
                "item 'price' changed: 10 → 99",
                ' '.join(row.select_one('.changes li').text.split()))

    def test_created_objects_and_escaped_values(self):
        page = self.browser.get('/transaction/' + self.tids['script'].hex())
        self.assertNotIn('<script>document', page.text)
        self.assertIn('created', page.text)
        oid = self.root['other']._p_oid.hex()
        [row] = [r for r in page.html.select('#objects tr')[1:]
                 if r.select_one('.oid').text == oid]
        self.assertIn("'<script>document.title=", row.text)

    def test_unknown_tid_is_400(self):
        page = self.browser.get('/transaction/0123456789abcdef', status=400)
        self.assertIn('Unknown tid 0123456789abcdef', page.text)


class ObjectPageTest(PageTest):

    def test_history_by_oid_with_changes(self):
        page = self.browser.get('/object/' + self.oid('a'))
        rows = page.html.select('#history tr.revision')
        self.assertEqual(
            [self.tids[k].hex() for k in ('later', 'bad', 'create')],
            [r.select_one('.tid').text for r in rows])
        self.assertIn('99 → 12', rows[0].text)
        self.assertIn('created', rows[2].text)
        self.assertIn('bob', rows[0].text)

    def test_found_by_path_item_then_attribute(self):
        page = self.browser.get(
            '/object', params={'path': '/shop/a'}).follow()
        self.assertIn(self.oid('a'), page.request.url)
        self.assertEqual('/shop/a', page.html.select_one('#path').text)

    def test_bad_path_names_the_step(self):
        page = self.browser.get(
            '/object', params={'path': '/shop/zzz'}, status=400)
        self.assertIn("/shop (persistent.mapping.PersistentMapping) has no"
                      " item or attribute 'zzz'", page.text)

    def test_paged_by_tid(self):
        page = self.browser.get('/object/' + self.oid('a'),
                                params={'limit': '1'})
        page = page.click(linkid='older')
        self.assertEqual([self.tids['bad'].hex()],
                         [t.text for t in page.html.select('#history .tid')])


class UndoPageTest(PageTest):

    def preview(self, **params):
        params.setdefault('tid', self.tids['bad'].hex())
        return self.browser.get('/undo', params=params)

    def test_conflict_names_object_and_later_transaction(self):
        page = self.preview()
        [row] = page.html.select('#plan tr.conflict')
        self.assertIn(self.oid('a'), row.text)
        self.assertEqual([self.tids['later'].hex()],
                         [a.text.strip() for a in row.select('a.later')])
        self.assertEqual(2, len(page.html.select('#plan tr.clean')))
        self.assertNotIn('commit', page.forms)

    def test_several_transactions_at_once(self):
        page = self.browser.get('/undo?tid={}&tid={}'.format(
            self.tids['bad'].hex(), self.tids['later'].hex()))
        self.assertIn('Undo is possible', page.text)

    def test_commit_redirects_to_the_result(self):
        page = self.preview(tid=self.tids['script'].hex())
        form = page.forms['commit']
        form['note'] = 'remove <b>bad</b> note'
        result = form.submit(status=303).follow()
        self.assertIn('remove <b>bad</b> note',
                      result.html.select_one('#result').text)
        self.assertNotIn('<b>bad</b>', result.text)
        self.assertEqual(self.newest().hex(),
                         result.html.select_one('#new-transaction').text)
        transaction.begin()
        self.assertNotIn('other', self.root)

    def test_commit_is_refused_when_the_plan_changed(self):
        page = self.preview(tid=self.tids['later'].hex())
        self.assertIn('Undo is possible', page.text)
        self.root['shop']['a']['price'] = 13
        transaction.commit()
        before = self.newest()
        page = page.forms['commit'].submit(status=409)
        self.assertIn('The database changed since the preview',
                      page.html.select_one('#message').text)
        self.assertIn('conflict', page.html.select_one('#verdict').text)
        self.assertEqual(before, self.newest())

    def test_post_without_csrf_token_is_refused(self):
        page = self.preview(tid=self.tids['later'].hex())
        form = page.forms['commit']
        form['csrf_token'] = 'forged'
        form.submit(status=400)
        fields = dict(form.submit_fields())
        del fields['csrf_token']
        self.browser.post('/undo', fields, status=400)
        self.assertEqual(self.tids['script'], self.newest())

    def test_post_from_another_site_is_refused(self):
        page = self.preview(tid=self.tids['later'].hex())
        page.forms['commit'].submit(
            headers={'Origin': 'http://evil.example'}, status=403)
        self.assertEqual(self.tids['script'], self.newest())

    def test_read_only_has_no_button_and_refuses_posts(self):
        browser = self.open(allow_commit=False)
        page = browser.get('/undo', params={'tid': self.tids['later'].hex()})
        self.assertNotIn('commit', page.forms)
        self.assertIn('--allow-commit', page.html.select_one(
            '#read-only').text)
        token = page.html.select_one('input[name=csrf_token]')
        self.assertIsNone(token)
        writable = self.preview(tid=self.tids['later'].hex())
        fields = dict(writable.forms['commit'].submit_fields())
        browser.post('/undo', fields, status=403)
        self.assertEqual(self.tids['script'], self.newest())

    def test_locked_file_says_why_instead_of_a_lock_error(self):
        browser = self.open(read_only_reason='Data.fs is locked by another'
                            ' process')
        page = browser.get('/undo', params={'tid': self.tids['later'].hex()})
        self.assertNotIn('commit', page.forms)
        self.assertIn('locked by another process',
                      page.html.select_one('#read-only').text)

    def test_unknown_tid_is_400(self):
        page = self.browser.get('/undo?tid=0123456789abcdef', status=400)
        self.assertIn('Unknown tid', page.text)
        self.browser.get('/undo', status=400)


class RevertPageTest(PageTest):

    def preview(self, name='a', before='bad'):
        return self.browser.get('/revert', params={
            'oid': self.oid(name), 'before': self.tids[before].hex()})

    def test_preview_lists_every_discarded_transaction(self):
        page = self.preview()
        self.assertEqual(
            [self.tids['later'].hex(), self.tids['bad'].hex()],
            [t.text for t in page.html.select('#discarded .tid')])
        self.assertIn(self.tids['create'].hex(),
                      page.html.select_one('#verdict').text)
        self.assertEqual("item 'price' changed: 12 → 10", ' '.join(
            page.html.select_one('#changes li').text.split()))

    def test_commit_and_result(self):
        result = self.preview().forms['commit'].submit(status=303).follow()
        self.assertIn('reverted object', result.text)
        transaction.begin()
        self.assertEqual(10, self.root['shop']['a']['price'])

    def test_commit_refused_when_the_object_changed(self):
        page = self.preview()
        self.root['shop']['a']['price'] = 14
        transaction.commit()
        before = self.newest()
        page = page.forms['commit'].submit(status=409)
        self.assertIn('changed since the preview', page.text)
        self.assertEqual(before, self.newest())

    def test_refused_where_the_object_did_not_exist(self):
        page = self.browser.get('/revert', params={
            'oid': self.oid('a'), 'before': self.tids['create'].hex()},
            status=409)
        self.assertIn('did not exist before', page.text)

    def test_read_only_refuses_posts(self):
        fields = dict(self.preview().forms['commit'].submit_fields())
        self.open(allow_commit=False).post('/revert', fields, status=403)


class AccessTest(PageTest):

    def test_no_token_is_403(self):
        browser = self.open(login=False)
        for path in ('/', '/transaction/' + self.tids['bad'].hex(),
                     '/undo?tid=' + self.tids['bad'].hex(), '/object'):
            page = browser.get(path, status=403)
            self.assertIn('open the URL', page.text)
        browser.get('/?token=wrong', status=403)

    def test_token_becomes_a_cookie_and_leaves_the_url(self):
        browser = self.open(login=False)
        response = browser.get('/object/{}?token={}'.format(
            self.oid('a'), TOKEN), status=302)
        self.assertEqual(
            'http://localhost/object/' + self.oid('a'), response.location)
        cookie = response.headers['Set-Cookie']
        self.assertIn('HttpOnly', cookie)
        self.assertIn('SameSite=Strict', cookie)
        response.follow(status=200)

    def test_foreign_host_header_is_403(self):
        for host in ('evil.example:80', 'localhost:8081',
                     'localhost.evil.example:80'):
            page = self.browser.get(
                '/', extra_environ={'HTTP_HOST': host}, status=403)
            self.assertIn('is not the address', page.text)

    def test_password(self):
        browser = self.open(login=False, credentials={'ops': 's3cret'})
        response = browser.get('/?token=' + TOKEN, status=401)
        self.assertIn('Basic', response.headers['WWW-Authenticate'])
        browser.authorization = ('Basic', ('ops', 'wrong'))
        browser.get('/?token=' + TOKEN, status=401)
        browser.authorization = ('Basic', ('ops', 's3cret'))
        browser.get('/?token=' + TOKEN, status=302).follow(status=200)
        page = browser.get('/undo', params={'tid': self.tids['script'].hex()})
        page.forms['commit'].submit(status=303)
        transaction.begin()
        undo = self.db.storage.undoLog(0, 1)[0]
        self.assertEqual(b' ops', b' ' + undo['user_name'].split()[-1])

    def test_password_without_token_is_403(self):
        browser = self.open(login=False, credentials={'ops': 's3cret'})
        browser.authorization = ('Basic', ('ops', 's3cret'))
        browser.get('/', status=403)


class PasswordFileTest(unittest.TestCase):

    def write(self, text, mode=0o600):
        import os
        import tempfile
        fd, path = tempfile.mkstemp()
        self.addCleanup(os.remove, path)
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def read(self, path):
        import gocept.zodbundo.web.security
        return gocept.zodbundo.web.security.read_password_file(path)

    def test_user_password_lines(self):
        self.assertEqual({'ops': 'a:b', 'dev': 'x'},
                         self.read(self.write('# users\nops:a:b\n\ndev:x\n')))

    def test_refusals_name_the_file_and_the_fix(self):
        for text, mode, message in [
                ('ops:x\n', 0o644, 'readable by others; run chmod 600'),
                ('just a password\n', 0o600, 'expected lines of'),
                ('\n', 0o600, 'no user:password line')]:
            path = self.write(text, mode)
            with self.assertRaises(ValueError) as caught:
                self.read(path)
            self.assertIn(path, str(caught.exception))
            self.assertIn(message, str(caught.exception))
        with self.assertRaises(ValueError) as caught:
            self.read('/nonexistent/pw')
        self.assertIn('/nonexistent/pw', str(caught.exception))

