"""Benchmark: gocept.zodbundo against the seed recipe for undoing.

The seed route (the blog post's recipe): ``db.history(oid)``, then
``db.undoInfo(specification=dict(time=...))`` with its default arguments
to map the tid's time to an undo id, then ``db.undo(id)`` and commit.
Ours: ``UndoTool(db).undo(tid)``. For reference, "direct" is
``db.undo(base64(tid))`` and commit: FileStorage's own undo, which walks
back from the end of the file to find the transaction.

FileStorage: 100,000 small transactions (fsync off while building, on
while measuring); targets 10, 1,000 and 100,000 transactions deep.
RelStorage (history preserving, PostgreSQL of gocept.zodblayer's
PostgreSQLLayer): 20,000 transactions (``synchronous_commit`` off while
building, on while measuring); targets 10 and 20,000 deep. Every undo
undoes a different target transaction at the same depth (each touches its
own object, so none conflicts); figures are the minimum of `--repeat`
runs. ``log --limit 20`` is timed as the history grows, next to the
storage's ``undoLog(0, -20)``; peak memory by tracemalloc.

    bin/python bench/zodbundo.py [--repeat 5] [--fs-size 100000]
                                 [--rs-size 20000] [--skip-relstorage]
                                 [--skip-web] [--web-repeat 21]
                                 [--zodbbrowser-repeat 3] [--skip-zope-form]
                                 [--check]

Web section (``--skip-web`` leaves it out): on the same FileStorage,
the median time of ``gocept.zodbundo.web``'s log page of 20 rows (first
page and a page 50,000 transactions deep) and of the history page of an object with
1,000 revisions, each a full WSGI request rendered by Chameleon, at 5,000
and at 100,000 transactions; next to the storage call Zope's
``manage_UndoForm`` makes (``undoable_transactions``: ``db.undoInfo(first,
first + 20, spec)``; without Zope's DTML rendering, so a lower bound of
Zope's time) and zodbbrowser's view of the same object (its
``@@zodbbrowser`` page: state and every revision; median of
``--zodbbrowser-repeat``, default 3, after one warm-up request). And
Zope's whole undo form as an operator sees it (``--skip-zope-form``
leaves it out): ``/Control_Panel/Database/main/manage_UndoForm`` (Zope 6.3,
``App.Undo.UndoSupport``) requested as manager through Zope's WSGI
publisher (gocept.zopelayer's ZopeLayer, on a copy of the file since Zope
commits its application root), the first page and the page
``first_transaction`` 50,000 deep, median of ``--web-repeat`` after a
warm-up request that checks it lists the right 20 transactions, requested
in turn with our page (interleaved, so load hits both alike). Targets:
each page under 50 ms at the median, flat within 1.3x from 5,000 to
100,000 transactions, at least 2x faster than each peer.

``--check`` exits 1 when a target ratio is missed.
"""
import argparse
import base64
import html
import importlib
import os
import pickle
import re
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc

import persistent.mapping
import transaction
import ZODB
import ZODB.Connection
import ZODB.FileStorage.FileStorage

import gocept.zodbundo


CLASS_PICKLE = pickle.dumps(persistent.mapping.PersistentMapping, 3)


def state(i):
    """A small PersistentMapping record, as ZODB writes it."""
    return CLASS_PICKLE + pickle.dumps({'data': {'n': i}}, 3)


def best(function, arguments):
    """Minimum wall time of function(a) over `arguments`, in seconds."""
    times = []
    for argument in arguments:
        start = time.perf_counter()
        function(argument)
        times.append(time.perf_counter() - start)
    return min(times)


def peak_memory(function):
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def ms(seconds):
    return '{:9.2f} ms'.format(seconds * 1000)


def mib(size):
    return '{:7.2f} MiB'.format(size / 2 ** 20)


class Report:

    def __init__(self):
        self.misses = []

    def line(self, text=''):
        print(text, flush=True)

    def ratio(self, label, seed, ours, target=None):
        ratio = seed / ours if ours else float('inf')
        verdict = ''
        if target is not None:
            ok = ratio >= target
            verdict = '  target >= {}x: {}'.format(
                target, 'met' if ok else 'MISSED')
            if not ok:
                self.misses.append(label)
        self.line('  {:<44} seed {}  ours {}  {:8.1f}x{}'.format(
            label, ms(seed), ms(ours), ratio, verdict))

    def flat(self, label, small, large, limit):
        growth = large / small if small else float('inf')
        ok = growth <= limit
        if not ok:
            self.misses.append(label)
        self.line('  {:<44} growth {:5.2f}x  target <= {}x: {}'.format(
            label, growth, limit, 'met' if ok else 'MISSED'))


# The history is built by writing records straight through the storage
# API (one object per transaction); the objects are made by ZODB itself.

class History:
    """Builds `size` transactions with undo targets at `depths`."""

    targets_per_depth = 3  # seed route, ours, direct: `repeat` each

    def __init__(self, size, depths, repeat):
        self.size = size
        self.depths = depths
        self.repeat = repeat
        self.per_depth = self.targets_per_depth * repeat
        # position (index from the start) -> (depth, k)
        self.slots = {}
        self.total = max(size, max(depths) + self.per_depth + 1)
        for depth in depths:
            for k in range(self.per_depth):
                self.slots[self.total - 1 - depth - k] = (depth, k)
        self.target_oids = {}
        self.target_tids = {}
        self.filler_oids = []

    def create_objects(self, db):
        manager = transaction.TransactionManager()
        connection = db.open(manager)
        root = connection.root()
        for depth in self.depths:
            for k in range(self.per_depth):
                obj = persistent.mapping.PersistentMapping(n=-1)
                root['t{}-{}'.format(depth, k)] = obj
        fillers = [persistent.mapping.PersistentMapping(n=-1)
                   for i in range(100)]
        root['fillers'] = persistent.mapping.PersistentMapping(
            items=fillers)
        manager.get().note('create objects')
        manager.commit()
        for depth in self.depths:
            for k in range(self.per_depth):
                self.target_oids[depth, k] = root[
                    't{}-{}'.format(depth, k)]._p_oid
        self.filler_oids = [f._p_oid for f in fillers]
        connection.close()

    def write(self, storage, checkpoint=None):
        """Commit the transactions through `storage` (an instance)."""
        storage.poll_invalidations()
        serials = {}
        oids = list(self.filler_oids) + list(self.target_oids.values())
        for oid in oids:
            serials[oid] = storage.load(oid)[1]
        for i in range(self.total):
            slot = self.slots.get(i)
            if slot is None:
                oid = self.filler_oids[i % len(self.filler_oids)]
                description = 'filler {}'.format(i)
            else:
                oid = self.target_oids[slot]
                description = 'target depth {} #{}'.format(*slot)
            meta = ZODB.Connection.TransactionMetaData(
                user='bench', description=description)
            storage.tpc_begin(meta)
            storage.store(oid, serials[oid], state(i), '', meta)
            storage.tpc_vote(meta)
            finished = []
            tid = storage.tpc_finish(meta, finished.append)
            serials[oid] = finished[0] if finished else tid
            if slot is not None:
                self.target_tids[slot] = serials[oid]
            if checkpoint is not None:
                checkpoint(i + 1)

    def targets(self, depth, which):
        """[(oid, tid)] for route `which` (0 seed, 1 ours, 2 direct)."""
        ks = range(which * self.repeat, (which + 1) * self.repeat)
        return [(self.target_oids[depth, k], self.target_tids[depth, k])
                for k in ks]


def seed_route(db):
    def undo(target):
        oid, tid = target
        hist = db.history(oid)
        info = db.undoInfo(specification=dict(time=hist[0]['time']))
        db.undo(info[0]['id'])
        transaction.commit()
    return undo


def direct_route(db):
    def undo(target):
        oid, tid = target
        db.undo(base64.encodebytes(tid).rstrip())
        transaction.commit()
    return undo


def our_route(tool):
    def undo(target):
        oid, tid = target
        tool.undo(tid)
    return undo


def measure_undo(report, db, history, depth, target_ratio):
    tool = gocept.zodbundo.UndoTool(db)
    preview = best(lambda t: tool.preview(t[1]),
                   history.targets(depth, 1)[:1] * history.repeat)
    seed = best(seed_route(db), history.targets(depth, 0))
    ours = best(our_route(tool), history.targets(depth, 1))
    direct = best(direct_route(db), history.targets(depth, 2))
    report.line('  depth {:>7,}: direct undo by computed id {}, preview {}'
                .format(depth, ms(direct), ms(preview)))
    report.ratio('undo at depth {:,}'.format(depth), seed, ours,
                 target_ratio)
    return seed, ours


def log_timer(db, tool, repeat):
    def measure(size):
        ours = best(lambda i: tool.log(limit=20), range(repeat))
        undo_log = best(lambda i: db.storage.undoLog(0, -20), range(repeat))
        return size, ours, undo_log
    return measure


def report_logs(report, storage, logs, limit):
    """Print `log --limit 20` times as history grew; check they stay flat."""
    report.line('  log --limit 20 as history grows (ours vs'
                ' undoLog(0, -20)):')
    for count, ours, undo_log in logs:
        report.line('    {:>7,} transactions: ours {}  undoLog {}'
                    .format(count, ms(ours), ms(undo_log)))
    report.flat('{} log --limit 20, {:,} -> {:,}'.format(
        storage, logs[0][0], logs[-1][0]), logs[0][1], logs[-1][1], limit)


def median(function, repeat):
    """Median wall time of `repeat` calls of function(), in seconds."""
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class WebPages:
    """Requests to gocept.zodbundo.web's pages, straight through WSGI."""

    def __init__(self, db):
        import gocept.zodbundo.web
        self.app = gocept.zodbundo.web.make_app(
            db, 'bench', ['localhost:80'])

    def get(self, path):
        import webob
        request = webob.Request.blank(path, headers={
            'Host': 'localhost:80', 'Cookie': 'zodbundo_token=bench'})
        response = request.get_response(self.app)
        if response.status_code != 200:
            raise AssertionError('{} answered {}: {}'.format(
                path, response.status, response.text[:300]))
        return response

    def timer(self, path, repeat):
        return median(lambda: self.get(path), repeat)


def deep_tid(tool, depth):
    """The tid `depth` transactions back from the newest."""
    for count, info in enumerate(tool.iter_log(), 1):
        if count == depth:
            return info.tid
    raise ValueError('history shorter than {}'.format(depth))


def interleaved(functions, repeat):
    """Median seconds of each function, called in turn `repeat` times, so
    load from elsewhere on the machine hits them alike."""
    times = [[] for f in functions]
    for i in range(repeat):
        for function, spent in zip(functions, times):
            start = time.perf_counter()
            function()
            spent.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def web_times(db, small_db, history, repeat, deep):
    """({page: median seconds}, {page: seconds at the small size})."""
    pages = WebPages(db)
    small_pages = WebPages(small_db)
    tool = gocept.zodbundo.UndoTool(db)
    oid = history.filler_oids[0].hex()
    times = {}
    small = {}
    for page, path in (('log page 1', '/?limit=20'),
                       ('history page of one object', '/object/' + oid)):
        small[page], times[page] = interleaved(
            [lambda: small_pages.get(path), lambda: pages.get(path)], repeat)
    # A fresh app: the first request finds the tid without the positions
    # later requests remember (FileStorage's Marks).
    pages = WebPages(db)
    pages.get('/?limit=1')  # compiles the template
    path = '/?limit=20&before=' + deep_tid(tool, deep).hex()
    page = 'log page {:,} deep'.format(deep)
    times[page + ', first request'] = median(lambda: pages.get(path), 1)
    times[page] = median(lambda: pages.get(path), repeat)
    return times, small


def zope_undo_form(db):
    """Zope's `undoable_transactions` (what manage_UndoForm lists), or
    None where Zope is not installed.

    Zope's own method on a stand-in object whose `_p_jar` is `db`'s:
    the storage call and Zope's formatting of every entry, without the
    DTML rendering (so a lower bound of the form's time).
    """
    try:
        import App.Undo
    except ImportError:
        return None
    import types
    context = types.SimpleNamespace(_p_jar=types.SimpleNamespace(
        db=lambda: db))

    def undoable(first):
        return App.Undo.UndoSupport.undoable_transactions(
            context, first, first + 20, 20)
    return undoable


def web(report, args, db, history, small_path):
    report.line('Web pages (median of {} requests, WSGI + Chameleon):'
                .format(args.web_repeat))
    deep = min(50000, history.total - 100)
    small_db = ZODB.DB(ZODB.FileStorage.FileStorage(
        small_path, read_only=True))
    try:
        large, small_times = web_times(
            db, small_db, history, args.web_repeat, deep)
        tool = gocept.zodbundo.UndoTool(small_db)
        small_revisions = len(tool.history(history.filler_oids[0], None))
    finally:
        small_db.close()
    revisions = len(gocept.zodbundo.UndoTool(db).history(
        history.filler_oids[0], None))
    for page, seconds in sorted(large.items()):
        if page.endswith('first request'):
            report.line('  {:<44} {}  (once, not a median)'.format(
                page, ms(seconds)))
            continue
        verdict = 'met' if seconds < 0.05 else 'MISSED'
        if seconds >= 0.05:
            report.misses.append('web ' + page + ' under 50 ms')
        report.line('  {:<44} {}  target < 50 ms: {}'.format(
            page, ms(seconds), verdict))
    report.line('  (the object has {:,} revisions at {:,} transactions,'
                ' {:,} at {:,})'.format(revisions, history.total,
                                        small_revisions, args.fs_size // 20))
    for page in ('log page 1', 'history page of one object'):
        report.flat('web {} {:,} -> {:,}'.format(
            page, args.fs_size // 20, history.total),
            small_times[page], large[page], 1.3)
    undoable = zope_undo_form(db)
    for first, page in ((0, 'log page 1'),
                        (deep, 'log page {:,} deep'.format(deep))):
        storage_call = median(lambda: db.undoInfo(first, first + 20),
                              args.web_repeat)
        report.line('  {:<44} undoInfo({:,}, +20) alone {}'.format(
            page, first, ms(storage_call)))
        if undoable is None:
            continue
        zope = median(lambda: undoable(first), args.web_repeat)
        report.ratio('{} vs Zope undoable_transactions'.format(page),
                     zope, large[page], 2)
    if undoable is None:
        report.line('  Zope: not installed (extra "zope"), not compared')
    if not args.skip_zope_form:
        zope_form(report, args, db, deep)
    browser = zodbbrowser_app(db)
    if browser is None:
        report.line('  zodbbrowser: not installed (extra "bench"),'
                    ' not compared')
        return
    path = '/@@zodbbrowser?oid=0x{:x}'.format(
        int.from_bytes(history.filler_oids[0], 'big'))
    size = len(wsgi_get(browser, path).body)  # and compiles its templates
    seconds = median(lambda: wsgi_get(browser, path), args.zodbbrowser_repeat)
    report.ratio('history page of one object vs zodbbrowser',
                 seconds, large['history page of one object'], 2)
    report.line('  (zodbbrowser lists all {:,} revisions in one page of'
                ' {}; ours pages by 20)'.format(revisions, mib(size).strip()))


def zope_form(report, args, db, deep):
    """Zope's whole undo form next to our log page, interleaved.

    Zope starts (gocept.zopelayer's ZopeLayer) on a copy of the file, as
    it needs an application root: its start-up commits a few transactions
    on top, so the deep page asks for `first_transaction` that many
    further back, to show the same transactions as ours.
    """
    try:
        import gocept.zopelayer
    except ImportError:
        report.line('  Zope undo form: Zope not installed (extra "zope"),'
                    ' not compared')
        return
    path = db.storage.getName()
    copy = path + '.zope'
    shutil.copyfile(path, copy)
    zope_db = ZODB.DB(ZODB.FileStorage.FileStorage(copy))
    base = _database_layer(zope_db)
    layer = gocept.zopelayer.ZopeLayer(
        bases=(base,), name='UndoForm', module=__name__)
    try:
        base.setUp()
        layer.setUp()
        try:
            app = layer['wsgi_app']
            extra = _newer_than(zope_db, db.lastTransaction())
            auth = {'Authorization': 'Basic ' + base64.b64encode(
                '{}:{}'.format(gocept.zopelayer.SITE_OWNER_NAME,
                               gocept.zopelayer.SITE_OWNER_PASSWORD)
                .encode()).decode()}
            report.line('  Zope undo form: Zope started on a copy of the'
                        ' file ({} transactions more)'.format(extra))
            # Zope's first page starts with its own transactions; the
            # deep one shows the same transactions as ours.
            ours = WebPages(db)
            before = deep_tid(gocept.zodbundo.UndoTool(db), deep).hex()
            pages = ((0, 'log page 1', _description(zope_db, 0),
                      '/?limit=20'),
                     (deep + extra, 'log page {:,} deep'.format(deep),
                      _description(db, deep),
                      '/?limit=20&before=' + before))
            for first, page, newest, path in pages:
                url = ('/Control_Panel/Database/main/manage_UndoForm'
                       '?first_transaction:int={}'
                       '&last_transaction:int={}'.format(first, first + 20))
                body = wsgi_get(app, url, auth).text  # warm-up
                rows = _undo_form_rows(body)
                if len(rows) != 20 or rows[0] != newest:
                    raise AssertionError(
                        '{} lists {} transactions from {!r}, not 20 from'
                        ' {!r}'.format(url, len(rows), rows[:1], newest))
                ours.get(path)  # warm-up
                zope, our = interleaved(
                    [lambda: wsgi_get(app, url, auth),
                     lambda: ours.get(path)], args.web_repeat)
                report.ratio('{} vs Zope manage_UndoForm'.format(page),
                             zope, our, 2)
        finally:
            layer.tearDown()
    finally:
        base.tearDown()
        zope_db.close()
        os.remove(copy)
        for suffix in ('.index', '.lock', '.tmp'):
            if os.path.exists(copy + suffix):
                os.remove(copy + suffix)


def _database_layer(db):
    """A base layer providing `zodbDB` (= `db`) for ZopeLayer."""
    import plone.testing

    class Database(plone.testing.Layer):

        def setUp(self):
            self['zodbDB'] = db

        def tearDown(self):
            del self['zodbDB']

    return Database(name='UndoFormDatabase', module=__name__)


def _undo_form_rows(body):
    """The descriptions in the rows of Zope's undo form, top down."""
    # A row: checkbox cell, then "<td> description by <strong>user".
    return [html.unescape(m) for m in re.findall(
        r'name="transaction_info:list"[^>]*>.*?<td>\s*(.*?)\s*by <strong>',
        body, re.S)]


def _description(db, index):
    """Description of the transaction `index` back from the newest."""
    for count, info in enumerate(gocept.zodbundo.UndoTool(db).iter_log()):
        if count == index:
            return info.description
    raise ValueError('history shorter than {}'.format(index))


def _newer_than(db, tid):
    """Number of transactions in `db` committed after `tid`."""
    count = 0
    for info in gocept.zodbundo.UndoTool(db).iter_log():
        if info.tid <= tid:
            return count
        count += 1
    return count


def wsgi_get(app, path, headers=None):
    import webob
    response = webob.Request.blank(
        path, headers=dict({'Host': 'localhost:80'}, **(headers or {}))
    ).get_response(app)
    if response.status_code != 200:
        raise AssertionError('{} answered {}: {}'.format(
            path, response.status, response.text[:300]))
    return response


def zodbbrowser_app(db):
    """zodbbrowser's WSGI application over `db`, set up as its standalone
    command does (zodbbrowser.standalone.main without the server), or None
    where zodbbrowser is not installed. Registers its ZCML globally: call
    it last."""
    try:
        import zodbbrowser.standalone
    except ImportError:
        return None
    import zope.app.appsetup.interfaces
    import zope.component
    import zope.event
    import ZODB.interfaces
    import ZODB.MappingStorage
    import zodbbrowser.state
    standalone = zodbbrowser.standalone
    options = standalone.Options()
    standalone.configure(options)
    zope.component.provideUtility(
        db, ZODB.interfaces.IDatabase, name='<target>')
    internal = ZODB.DB(ZODB.MappingStorage.MappingStorage())
    zope.event.notify(zope.app.appsetup.interfaces.DatabaseOpened(internal))
    app = standalone.create_wsgi_app(options, internal)
    zope.event.notify(zope.app.appsetup.interfaces.ProcessStarting())
    zodbbrowser.state.install_provides_hack()
    return app


def filestorage(report, args, directory):
    size = args.fs_size
    depths = [10, 1000, size]
    history = History(size, depths, args.repeat)
    path = os.path.join(directory, 'Data.fs')
    report.line('FileStorage: building {:,} transactions...'.format(
        history.total))
    start = time.perf_counter()
    db = ZODB.DB(ZODB.FileStorage.FileStorage(path))
    history.create_objects(db)
    tool = gocept.zodbundo.UndoTool(db)
    checkpoints = {size // 20, size // 10, size // 5, size // 2}
    logs = []
    measure_log = log_timer(db, tool, args.repeat)
    small_path = os.path.join(directory, 'Data-small.fs')

    def checkpoint(count):
        if count in checkpoints:
            logs.append(measure_log(count))
        if count == size // 20 and not args.skip_web:
            # A copy to measure the pages at this size later, next to
            # the full size (FileStorage has flushed every commit).
            shutil.copyfile(path, small_path)

    # Like synchronous_commit=off: no fsync while building.
    module = importlib.import_module('ZODB.FileStorage.FileStorage')
    fsync = module.fsync
    module.fsync = None
    try:
        instance = db._mvcc_storage.new_instance()
        history.write(instance, checkpoint)
        instance.release()
    finally:
        module.fsync = fsync
    db.close()
    report.line('  built in {:.1f} s, {:.1f} MiB'.format(
        time.perf_counter() - start, os.path.getsize(path) / 2 ** 20))
    db = ZODB.DB(ZODB.FileStorage.FileStorage(path))
    try:
        tool = gocept.zodbundo.UndoTool(db)
        logs.append(log_timer(db, tool, args.repeat)(history.total))
        report_logs(report, 'FileStorage', logs, 1.5)
        targets = {10: 500, 1000: 100, size: 2.5}
        for depth in depths:
            measure_undo(report, db, history, depth, targets.get(depth))
        memory(report, db)
        if not args.skip_web:
            web(report, args, db, history, small_path)
    finally:
        db.close()
    return path


def memory(report, db):
    tool = gocept.zodbundo.UndoTool(db)
    last = db.lastTransaction()
    start = time.perf_counter()
    everything = peak_memory(lambda: db.undoInfo(0, sys.maxsize))
    seconds = time.perf_counter() - start
    seed = peak_memory(lambda: db.undoInfo(
        specification=dict(time=gocept.zodbundo.ids.tid_time(last))))
    ours = peak_memory(lambda: tool.log(limit=20))
    preview = peak_memory(lambda: tool.preview(last))
    report.line('  peak memory: undoInfo(0, maxsize) {} ({} under'
                ' tracemalloc), seed undoInfo(spec) {}, ours log {},'
                ' preview {}'.format(mib(everything), ms(seconds),
                                     mib(seed), mib(ours), mib(preview)))


def zeo(report, args, path):
    """log --limit 20 over ZEO on the FileStorage just measured."""
    import ZEO
    address, stop = ZEO.server(path=path, threaded=False)
    try:
        db = ZEO.DB(address)
        try:
            tool = gocept.zodbundo.UndoTool(db)
            ours = best(lambda i: tool.log(limit=20), range(args.repeat))
            undo_log = best(lambda i: db.undoLog(0, -20),
                            range(args.repeat))
            user = best(lambda i: tool.log(limit=20, user='bench'),
                        range(args.repeat))
            report.line(
                'ZEO (server on that FileStorage): log --limit 20 {},'
                ' with a user filter {}, undoLog(0, -20) {}'.format(
                    ms(ours), ms(user), ms(undo_log)))
        finally:
            db.close()
    finally:
        stop()


def relstorage(report, args, directory):
    import gocept.zodblayer
    import psycopg2
    import relstorage.adapters.postgresql
    import relstorage.options
    import relstorage.storage
    layer = gocept.zodblayer.POSTGRESQL
    layer.setUp()
    try:
        dsn = layer['postgresql_dsn']
        admin = psycopg2.connect(dsn)
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute('DROP DATABASE IF EXISTS zodbundo_bench')
            cursor.execute('CREATE DATABASE zodbundo_bench')
        admin.close()
        base = psycopg2.extensions.make_dsn(dsn, dbname='zodbundo_bench')

        def open_db(synchronous_commit):
            options = relstorage.options.Options(
                keep_history=True, cache_local_mb=0)
            adapter = relstorage.adapters.postgresql.PostgreSQLAdapter(
                dsn=psycopg2.extensions.make_dsn(
                    base, options='-c synchronous_commit={}'.format(
                        synchronous_commit)),
                options=options)
            return ZODB.DB(relstorage.storage.RelStorage(
                adapter, options=options))

        size = args.rs_size
        depths = [10, size]
        history = History(size, depths, args.repeat)
        report.line('RelStorage: building {:,} transactions...'.format(
            history.total))
        start = time.perf_counter()
        db = open_db('off')
        history.create_objects(db)
        tool = gocept.zodbundo.UndoTool(db)
        logs = []
        measure_log = log_timer(db, tool, args.repeat)
        checkpoints = {size // 4, size // 2, size * 3 // 4}

        def checkpoint(count):
            if count in checkpoints:
                logs.append(measure_log(count))

        instance = db._mvcc_storage.new_instance()
        history.write(instance, checkpoint)
        instance.release()
        db.close()
        report.line('  built in {:.1f} s'.format(
            time.perf_counter() - start))
        db = open_db('on')
        try:
            tool = gocept.zodbundo.UndoTool(db)
            logs.append(log_timer(db, tool, args.repeat)(history.total))
            report_logs(report, 'RelStorage', logs, 1.2)
            undos = {}
            for depth in depths:
                undos[depth] = measure_undo(
                    report, db, history, depth,
                    5 if depth == size else None)
            report.line('  our undo, depth {:,} vs 10: {:.2f}x (flat in'
                        ' history size)'.format(
                            size, undos[size][1] / undos[10][1]))
        finally:
            db.close()
    finally:
        layer.tearDown()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--fs-size', type=int, default=100000)
    parser.add_argument('--rs-size', type=int, default=20000)
    parser.add_argument('--skip-relstorage', action='store_true')
    parser.add_argument('--skip-web', action='store_true')
    parser.add_argument('--web-repeat', type=int, default=21)
    parser.add_argument('--zodbbrowser-repeat', type=int, default=3)
    parser.add_argument(
        '--skip-zope-form', action='store_true',
        help="leave out Zope's whole undo form (manage_UndoForm through"
             " Zope's publisher)")
    parser.add_argument('--check', action='store_true')
    args = parser.parse_args(argv)
    report = Report()
    directory = tempfile.mkdtemp(prefix='zodbundo-bench.')
    started = time.perf_counter()
    try:
        path = filestorage(report, args, directory)
        zeo(report, args, path)
        if not args.skip_relstorage:
            relstorage(report, args, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    report.line('Total {:.0f} s. Targets missed: {}'.format(
        time.perf_counter() - started, ', '.join(report.misses) or 'none'))
    return 1 if args.check and report.misses else 0


if __name__ == '__main__':
    sys.exit(main())
