"""History-preserving RelStorage: SQL with ORDER BY tid DESC LIMIT."""
import contextlib

import ZODB.utils

import gocept.zodbundo.backends
import gocept.zodbundo.ids
import gocept.zodbundo.info


class RelStorageBackend(gocept.zodbundo.backends.Backend):
    """History-preserving RelStorage: SQL with ORDER BY tid DESC LIMIT."""

    resolves_on_undo = False
    verifies_tids = True
    first_page = 50
    max_page = 5000

    @contextlib.contextmanager
    def _cursor(self):
        adapter = self.storage._adapter
        connmanager = adapter.connmanager
        conn, cursor = connmanager.open_for_load()
        try:
            if type(adapter).__name__ == 'PostgreSQLAdapter':
                # Without fresh statistics (a young or fast-growing
                # table), PostgreSQL plans `ORDER BY tid DESC LIMIT n` as
                # a bitmap scan of every row plus a sort; walking the
                # primary key backwards reads only n rows.
                cursor.execute('SET LOCAL enable_bitmapscan = off;'
                               ' SET LOCAL enable_seqscan = off')
            yield cursor
        finally:
            connmanager.rollback_and_close(conn, cursor)

    def _run(self, cursor, stmt, params=()):
        self.storage._adapter.runner.run_script_stmt(cursor, stmt, params)
        return cursor.fetchall()

    def locate(self, tid, progress=None):
        with self._cursor() as cursor:
            rows = self._run(
                cursor,
                'SELECT packed FROM "transaction" WHERE tid = %s',
                (ZODB.utils.u64(tid),))
        if not rows:
            raise self.unknown(tid)
        if rows[0][0]:
            raise self.packed(tid)
        return None

    def iter_log(self, until_tid=None, since_tid=None, progress=None):
        upper = ZODB.utils.u64(until_tid) if until_tid else 2 ** 63 - 1
        lower = ZODB.utils.u64(since_tid) if since_tid else 1
        page = self.first_page
        seen = 0
        with self._cursor() as cursor:
            while True:
                # Size and number of objects are read per transaction in
                # the same query (through the index on object_state.tid):
                # one round trip a page.
                rows = self._run(
                    cursor,
                    'SELECT tid, username, description, extension,'
                    ' (SELECT SUM(COALESCE(state_size, 0))'
                    '  FROM object_state o WHERE o.tid = t.tid),'
                    ' (SELECT COUNT(*)'
                    '  FROM object_state o WHERE o.tid = t.tid)'
                    ' FROM "transaction" t'
                    ' WHERE packed = %(FALSE)s AND tid <= %%s AND tid >= %%s'
                    ' ORDER BY tid DESC LIMIT %%s',
                    (upper, lower, page))
                if not rows:
                    return
                for row in rows:
                    yield _info(*row)
                if len(rows) < page:
                    return
                seen += len(rows)
                if progress is not None:
                    progress(seen)
                upper = rows[-1][0] - 1
                page = min(page * 2, self.max_page)


def _info(tid_int, user, description, extension, size, objects):
    tid = ZODB.utils.p64(tid_int)
    text = gocept.zodbundo.backends.text
    return gocept.zodbundo.info.TransactionInfo(
        tid=tid, time=gocept.zodbundo.ids.tid_time(tid),
        user=text(bytes(user or b'')),
        description=text(bytes(description or b'')),
        size=int(size or 0), objects=int(objects or 0),
        extension=gocept.zodbundo.backends.extension(extension))
