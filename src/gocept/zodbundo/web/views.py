"""The pages: each view returns the dict its template shows.

Every read goes through `UndoTool` (log, show, history, preview) or the
storage's own `loadSerial`/`loadBefore` for the records a page compares;
every write through `UndoTool.undo`/`revert`, after the plan the user saw
has been computed again and found unchanged.
"""
import datetime
import hashlib
import json

import pyramid.exceptions
import pyramid.httpexceptions
import pyramid.view
import ZODB.POSException

import gocept.zodbundo.backends
import gocept.zodbundo.errors
import gocept.zodbundo.ids
import gocept.zodbundo.paths
import gocept.zodbundo.web.security
import gocept.zodbundo.web.states


PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_OBJECTS_SHOWN = 200
HISTORY_PAGE_SIZE = 20


def _tool(request):
    return request.registry.settings['zodbundo.tool']


def _commits(request):
    return request.registry.settings['zodbundo.commits']


def _base(request, title):
    return dict(title=title, commits=_commits(request),
                storage=gocept.zodbundo.backends.storage_name(
                    _tool(request).db.storage))


def _isotime(seconds):
    return datetime.datetime.fromtimestamp(
        seconds, datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC')


def one_line(text):
    """`text` on one line: line breaks shown as ↵, never breaking a row."""
    text = (text or '').replace('\r\n', '\n').replace('\r', '\n')
    return text.replace('\n', ' \u21b5 ')


def _row(info):
    return dict(tid=info.tid_hex, time=_isotime(info.time),
                user=one_line(info.user_display), full_user=info.user,
                description=one_line(info.description),
                full_description=info.description, size=info.size)


def _time(request, name):
    text = request.GET.get(name, '').strip()
    if not text:
        return None
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise gocept.zodbundo.errors.BadArgument(
            'Bad {}: {!r} is no ISO date/time such as'
            ' 2024-05-01T12:00 (UTC).'.format(name, text)) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when


def _text(request, name):
    return request.GET.get(name, '').strip() or None


def _limit(request, default):
    text = request.GET.get('limit', '').strip()
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise gocept.zodbundo.errors.BadArgument(
            'Bad limit: {!r}; give 1 to {}.'.format(text, MAX_PAGE_SIZE))
    return int(text)


def _page(infos, before, limit):
    """(up to `limit` infos older than `before`, tid of the next page)."""
    rows = []
    try:
        for info in infos:
            if before is not None and info.tid >= before:
                continue
            if len(rows) == limit:
                return rows, rows[-1].tid_hex
            rows.append(info)
    finally:
        infos.close()
    return rows, None


def _until(until, before):
    """The tighter of the `until` filter and the page's start."""
    if before is None:
        return until
    start = gocept.zodbundo.ids.tid_time(before)
    if until is None or until.timestamp() > start:
        return start
    return until


@pyramid.view.view_config(route_name='log', renderer='templates/log.pt')
def log(request):
    """Newest first, `limit` a page; paged by `before=TID`, never offset."""
    tool = _tool(request)
    filters = dict(since=_time(request, 'since'),
                   until=_time(request, 'until'),
                   user=_text(request, 'user'),
                   description=_text(request, 'description'),
                   oid=_text(request, 'oid'))
    before = _text(request, 'before')
    if before is not None:
        before = gocept.zodbundo.ids.parse_tid(before)
    limit = _limit(request, PAGE_SIZE)
    infos = tool.iter_log(
        since=filters['since'], until=_until(filters['until'], before),
        user=filters['user'], description=filters['description'],
        oid=filters['oid'])
    rows, older = _page(infos, before, limit)
    query = {k: request.GET[k] for k in (
        'since', 'until', 'user', 'description', 'oid', 'limit')
        if request.GET.get(k, '').strip()}
    result = _base(request, 'Transactions')
    result.update(
        rows=[_row(i) for i in rows], form=query, filtered=bool(
            set(query) - {'limit'}),
        first_page=request.route_url('log', _query=query)
        if before is not None else None,
        older=request.route_url('log', _query=dict(query, before=older))
        if older else None)
    return result


def _load_serial(storage, oid, tid):
    try:
        return storage.loadSerial(oid, tid)
    except ZODB.POSException.POSKeyError:
        return None


def _load_before(storage, oid, tid):
    try:
        found = storage.loadBefore(oid, tid)
    except ZODB.POSException.POSKeyError:
        return None, None
    if not found:
        return None, None
    return found[0], found[1]


def _changes(old, new):
    try:
        return gocept.zodbundo.web.states.diff(old, new), None
    except Exception as error:  # noqa: B902 an unreadable record is
        return [], 'unreadable record: {}'.format(  # shown, not fatal
            str(error) or type(error).__name__)


@pyramid.view.view_config(
    route_name='transaction', renderer='templates/transaction.pt')
def transaction_page(request):
    """A transaction's objects and what changed in each."""
    tool = _tool(request)
    info = tool.show(request.matchdict['tid'])
    storage = tool.db.storage
    objects = []
    for change in info.changes[:MAX_OBJECTS_SHOWN]:
        new = _load_serial(storage, change.oid, info.tid)
        old, old_tid = _load_before(storage, change.oid, info.tid)
        changes, problem = _changes(old, new)
        objects.append(dict(
            oid=change.oid_hex, class_name=change.class_name,
            size=change.size, created=old is None and new is not None,
            removed=new is None, changes=changes, problem=problem,
            previous=gocept.zodbundo.ids.hexid(old_tid) if old_tid
            else None))
    result = _base(request, 'Transaction ' + info.tid_hex)
    result.update(
        info=_row(info), extension=_extension(info.extension),
        objects=objects, hidden=max(0, len(info.changes) - len(objects)),
        count=len(info.changes))
    return result


def _extension(extension):
    return [(str(k), gocept.zodbundo.web.states._short(v))
            for k, v in sorted(extension.items(), key=lambda i: str(i[0]))]


@pyramid.view.view_config(route_name='find_object')
def find_object(request):
    """`?oid=` or `?path=/a/b/c`: redirect to the object's history."""
    path = _text(request, 'path')
    oid = _text(request, 'oid')
    query = {}
    if path is not None:
        oid = gocept.zodbundo.paths.resolve_path(_tool(request).db, path)
        query['path'] = path
    elif oid is not None:
        oid = gocept.zodbundo.ids.parse_oid(oid)
    else:
        raise gocept.zodbundo.errors.BadArgument(
            'Give an oid or a path such as /shop/items/42.')
    raise pyramid.httpexceptions.HTTPFound(request.route_url(
        'object', oid=gocept.zodbundo.ids.hexid(oid), _query=query))


@pyramid.view.view_config(route_name='object',
                          renderer='templates/object.pt')
def object_page(request):
    """An object's revisions, newest first, with what each changed."""
    tool = _tool(request)
    oid = gocept.zodbundo.ids.parse_oid(request.matchdict['oid'])
    before = _text(request, 'before')
    if before is not None:
        before = gocept.zodbundo.ids.parse_tid(before)
    limit = _limit(request, HISTORY_PAGE_SIZE)
    infos = tool.iter_log(oid=oid, until=_until(None, before))
    rows, older = _page(infos, before, limit)
    storage = tool.db.storage
    revisions = []
    for index, info in enumerate(rows):
        data = _load_serial(storage, oid, info.tid)
        if index + 1 < len(rows):
            old = _load_serial(storage, oid, rows[index + 1].tid)
        else:
            old = _load_before(storage, oid, info.tid)[0]
        changes, problem = _changes(old, data)
        revision = _row(info)
        revision.update(changes=changes, problem=problem,
                        created=old is None and data is not None,
                        revertable=old is not None and data is not None)
        revisions.append(revision)
    current = _load_before(storage, oid, b'\xff' * 8)[0]
    query = {k: request.GET[k] for k in ('path', 'limit')
             if request.GET.get(k, '').strip()}
    result = _base(request, 'Object ' + gocept.zodbundo.ids.hexid(oid))
    result.update(
        oid=gocept.zodbundo.ids.hexid(oid), path=_text(request, 'path'),
        class_name=gocept.zodbundo.backends.class_name(current),
        revisions=revisions,
        first_page=request.route_url(
            'object', oid=gocept.zodbundo.ids.hexid(oid), _query=query)
        if before is not None else None,
        older=request.route_url(
            'object', oid=gocept.zodbundo.ids.hexid(oid),
            _query=dict(query, before=older)) if older else None)
    return result


def fingerprint(data):
    """A digest of what a preview showed, to compare at commit time."""
    return hashlib.sha256(json.dumps(
        data, sort_keys=True).encode('utf-8')).hexdigest()


def _undo_request(params):
    tids = [t for t in params.getall('tid') if t.strip()]
    if not tids:
        raise gocept.zodbundo.errors.BadArgument(
            'Choose at least one transaction to undo.')
    return tids, params.get('cascade') in ('1', 'on', 'true')


def _undo_preview(request, tids, cascade, message=None):
    tool = _tool(request)
    plan = tool.preview(tids, cascade=cascade)
    entries = []
    for entry in plan.entries:
        entries.append(dict(
            oid=entry.oid_hex, class_name=entry.class_name,
            status=entry.status,
            tid=gocept.zodbundo.ids.hexid(entry.tid),
            later=entry.later_tids_hex, reason=entry.reason))
    transactions = [_row(tool.show(tid)) for tid in plan.tids]
    result = _base(request, 'Undo preview')
    result.update(
        plan=plan, entries=entries, transactions=transactions,
        requested=[gocept.zodbundo.ids.hexid(
            gocept.zodbundo.ids.parse_tid(t)) for t in tids],
        cascade=cascade, fingerprint=fingerprint(plan.as_json()),
        message=message,
        cascade_url=request.route_url(
            'undo', _query=[('tid', t) for t in tids] + [('cascade', '1')])
        if not cascade else None)
    return result


@pyramid.view.view_config(route_name='undo', request_method='GET',
                          renderer='templates/undo.pt')
def undo_preview(request):
    """What undoing `?tid=...` (optionally `&cascade=1`) would do."""
    tids, cascade = _undo_request(request.GET)
    return _undo_preview(request, tids, cascade)


def _check_commits(request):
    commits = _commits(request)
    if not commits.allowed:
        raise pyramid.httpexceptions.HTTPForbidden(commits.reason)


@pyramid.view.view_config(route_name='undo', request_method='POST',
                          renderer='templates/undo.pt')
def undo_commit(request):
    """Undo exactly what the preview showed, or show the new preview."""
    _check_commits(request)
    tids, cascade = _undo_request(request.POST)
    tool = _tool(request)
    plan = tool.preview(tids, cascade=cascade)
    if fingerprint(plan.as_json()) != request.POST.get('plan'):
        request.response.status = 409
        return _undo_preview(
            request, tids, cascade, message='The database changed since'
            ' the preview: this is the new plan. Nothing was written.')
    if not plan.clean:
        request.response.status = 409
        return _undo_preview(request, tids, cascade)
    try:
        # The previewed transactions exactly, cascade already applied.
        info = tool.undo(plan.tids, note=_note(request), user=_user(request))
    except gocept.zodbundo.errors.UndoConflict:
        request.response.status = 409
        return _undo_preview(
            request, tids, cascade, message='Undo conflicted with a'
            ' transaction committed just now. Nothing was written.')
    raise pyramid.httpexceptions.HTTPSeeOther(
        request.route_url('result', tid=info.tid_hex))


def _note(request):
    return request.POST.get('note', '').strip() or None


def _user(request):
    return gocept.zodbundo.web.security.basic_user(
        request.headers.get('Authorization')) or 'zodb-undo serve'


def _revert_request(params):
    oid = params.get('oid', '').strip()
    before = params.get('before', '').strip()
    if not oid or not before:
        raise gocept.zodbundo.errors.BadArgument(
            'Give the oid to revert and the tid before which to restore'
            ' it.')
    return (gocept.zodbundo.ids.parse_oid(oid),
            gocept.zodbundo.ids.parse_tid(before))


def _revert_preview(request, oid, before, message=None):
    tool = _tool(request)
    plan = tool.preview_revert(oid, before)
    storage = tool.db.storage
    current = _load_serial(storage, plan.oid, plan.current_tid)
    old = _load_serial(storage, plan.oid, plan.restored_tid)
    changes, problem = _changes(current, old)
    result = _base(request, 'Revert preview')
    result.update(
        plan=dict(oid=plan.oid_hex, before=gocept.zodbundo.ids.hexid(
            plan.before), restored=gocept.zodbundo.ids.hexid(
                plan.restored_tid)),
        discarded=[_row(i) for i in plan.discarded],
        class_name=plan.class_name, changes=changes, problem=problem,
        fingerprint=fingerprint(plan.as_json()), message=message)
    return result


@pyramid.view.view_config(route_name='revert', request_method='GET',
                          renderer='templates/revert.pt')
def revert_preview(request):
    """What reverting `?oid=` to its state before `&before=` would do."""
    oid, before = _revert_request(request.GET)
    return _revert_preview(request, oid, before)


@pyramid.view.view_config(route_name='revert', request_method='POST',
                          renderer='templates/revert.pt')
def revert_commit(request):
    """Revert as previewed, or show the new preview."""
    _check_commits(request)
    oid, before = _revert_request(request.POST)
    tool = _tool(request)
    plan = tool.preview_revert(oid, before)
    if fingerprint(plan.as_json()) != request.POST.get('plan'):
        request.response.status = 409
        return _revert_preview(
            request, oid, before, message='The object changed since the'
            ' preview: this is the new plan. Nothing was written.')
    # Refused (409) if the object changes between here and the commit.
    info = tool.revert(oid, before=before, note=_note(request),
                       user=_user(request), plan=plan)
    raise pyramid.httpexceptions.HTTPSeeOther(
        request.route_url('result', tid=info.tid_hex))


@pyramid.view.view_config(route_name='result',
                          renderer='templates/result.pt')
def result_page(request):
    """The transaction a commit wrote, with links to what it undid."""
    info = _tool(request).show(request.matchdict['tid'])
    undone = info.extension.get('undo_of') or []
    revert = info.extension.get('revert_of') or None
    result = _base(request, 'Committed ' + info.tid_hex)
    result.update(info=_row(info), undone=[str(t) for t in undone],
                  revert=revert, count=len(info.changes))
    return result


@pyramid.view.view_config(context=gocept.zodbundo.errors.Error,
                          renderer='templates/error.pt')
def error_page(error, request):
    """Our errors as a page: bad input 400, refusals 409."""
    bad_input = isinstance(error, (gocept.zodbundo.errors.BadId,
                                   gocept.zodbundo.errors.BadArgument))
    request.response.status = 400 if bad_input else 409
    result = _base(request, 'Bad request' if bad_input else 'Refused')
    result.update(message=' '.join(str(error).split()))
    return result


@pyramid.view.view_config(context=pyramid.httpexceptions.HTTPForbidden,
                          renderer='templates/error.pt')
@pyramid.view.view_config(context=pyramid.exceptions.BadCSRFToken,
                          renderer='templates/error.pt')
def forbidden_page(error, request):
    """403 (read-only) and 400 (bad CSRF token) with their reason."""
    request.response.status = error.status_code
    result = _base(request, error.title)
    result.update(message=error.detail or error.explanation)
    return result
