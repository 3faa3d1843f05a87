"""The zodb-undo command: log, history, show, undo and revert."""
import argparse
import datetime
import json
import logging
import os
import sys
import time
import urllib.parse

import ZODB
import ZODB.FileStorage
import zodburi
# The package shadows its module FileStorage with the class of that name.
from ZODB.FileStorage.FileStorage import FILESTORAGE_MAGIC

import gocept.zodbundo.errors
import gocept.zodbundo.ids
import gocept.zodbundo.tool


OK = 0
REFUSED = 1
USAGE = 2

# zodburi schemes whose query string takes `read_only`.
READ_ONLY_SCHEMES = ('file', 'zeo', 'postgres', 'mysql', 'sqlite', 'oracle')


ZEO_TIMEOUT = 10


class UsageError(Exception):
    """Bad command line: exit code 2."""


class CommandError(Exception):
    """The command cannot run (e.g. no server): exit code 1."""


class ArgumentParser(argparse.ArgumentParser):

    def error(self, message):
        raise UsageError(message)


def _storage_options(parser, default):
    group = parser.add_argument_group(
        'storage (exactly one; opened read-only unless committing)')
    group.add_argument('--file', metavar='PATH', default=default,
                       help='a FileStorage file (Data.fs)')
    group.add_argument('--zeo', metavar='HOST:PORT', default=default,
                       help='a ZEO server')
    group.add_argument('--uri', metavar='URI', default=default,
                       help='a zodburi URI (file://, zeo://, postgres://,'
                       ' zconfig://...)')
    group.add_argument('--config', metavar='ZCONFIG', default=default,
                       help='a ZConfig file with a storage section')
    group.add_argument('--json', action='store_true', default=default,
                       help='print JSON for scripts')
    group.add_argument('--debug', action='store_true', default=default,
                       help='print tracebacks')


def make_parser():
    parser = ArgumentParser(
        prog='zodb-undo',
        description='Find, preview, undo and revert ZODB transactions.'
        ' tids and oids: 16 hex digits or 0x-prefixed hex.',
        epilog='Exit codes: 0 done, 1 conflict or refused, 2 usage error.')
    _storage_options(parser, None)
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    # Options after the command must not reset those given before it.
    suppress = argparse.SUPPRESS

    cmd = commands.add_parser('log', help='list transactions, newest first')
    cmd.add_argument('--since', metavar='TIME', type=_time,
                     help='ISO date/time (UTC unless an offset is given)')
    cmd.add_argument('--until', metavar='TIME', type=_time)
    cmd.add_argument('--user', help='user name (or its last word)')
    cmd.add_argument('--description', metavar='REGEX',
                     help='regular expression searched in descriptions')
    cmd.add_argument('--oid', help='only transactions changing this object')
    cmd.add_argument('--limit', type=_count, default=20,
                     help='at most this many (0: all; default 20)')
    _storage_options(cmd, suppress)

    cmd = commands.add_parser('history', help='transactions of an object')
    cmd.add_argument('oid')
    cmd.add_argument('--size', type=_count, default=20)
    _storage_options(cmd, suppress)

    cmd = commands.add_parser('show', help='a transaction and its objects')
    cmd.add_argument('tid')
    _storage_options(cmd, suppress)

    cmd = commands.add_parser(
        'undo', help='undo transactions (a dry run unless --commit)')
    cmd.add_argument('tids', metavar='TID', nargs='+')
    cmd.add_argument('--cascade', action='store_true',
                     help='also undo later transactions touching the same'
                     ' objects')
    _commit_options(cmd)
    _storage_options(cmd, suppress)

    cmd = commands.add_parser(
        'revert', help="restore one object's state as before a transaction"
        ' (a dry run unless --commit)')
    cmd.add_argument('oid')
    cmd.add_argument('--before', metavar='TID', required=True)
    _commit_options(cmd)
    _storage_options(cmd, suppress)
    return parser


def _commit_options(cmd):
    cmd.add_argument('--commit', action='store_true',
                     help='write the new transaction')
    cmd.add_argument('--note', help='description of the new transaction')
    cmd.add_argument('--user', default='', help='user of the new transaction')


def _count(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            '{!r} is not a count (0 or more)'.format(text))
    return value


def _time(text):
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            '{!r} is no ISO date/time such as 2024-05-01T12:00'.format(
                text)) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when


def _with_read_only(uri):
    scheme = uri.split(':', 1)[0]
    if scheme not in READ_ONLY_SCHEMES:
        return uri
    parts = urllib.parse.urlsplit(uri)
    query = urllib.parse.parse_qsl(parts.query)
    if any(key == 'read_only' for key, value in query):
        return uri
    query.append(('read_only', '1'))
    return urllib.parse.urlunsplit(
        parts._replace(query=urllib.parse.urlencode(query)))


def open_db(args, writing):
    """Open the database the storage options name."""
    given = [name for name in ('file', 'zeo', 'uri', 'config')
             if getattr(args, name, None)]
    if len(given) != 1:
        raise UsageError(
            'give exactly one of --file, --zeo, --uri, --config'
            ' (got {})'.format(', '.join('--' + g for g in given) or
                               'none'))
    read_only = not writing
    if args.file:
        if not os.path.exists(args.file):
            raise UsageError('--file {}: no such file'.format(args.file))
        if os.path.isdir(args.file):
            raise UsageError('--file {}: a directory, not a FileStorage'
                             ' file (Data.fs)'.format(args.file))
        # Checked before opening: FileStorage leaves the file open when
        # it refuses it.
        with open(args.file, 'rb') as f:
            magic = f.read(len(FILESTORAGE_MAGIC))
        if magic != FILESTORAGE_MAGIC:
            raise UsageError('--file {}: not a FileStorage file'
                             ' (Data.fs)'.format(args.file))
        storage = ZODB.FileStorage.FileStorage(args.file, read_only=read_only)
        return ZODB.DB(storage)
    if args.zeo:
        try:
            import ZEO.ClientStorage
        except ModuleNotFoundError:
            raise CommandError(
                '--zeo needs the extra "zeo": pip install'
                ' "gocept.layerkit[zeo]"') from None
        host, sep, port = args.zeo.rpartition(':')
        if not sep or not port.isdigit():
            raise UsageError('--zeo {!r}: expected HOST:PORT'.format(
                args.zeo))
        import ZEO.Exceptions
        try:
            storage = ZEO.ClientStorage.ClientStorage(
                (host or '127.0.0.1', int(port)), read_only=read_only,
                wait_timeout=ZEO_TIMEOUT)
        except ZEO.Exceptions.ClientDisconnected:
            raise CommandError(
                'no ZEO server answered at {} within {} s'.format(
                    args.zeo, ZEO_TIMEOUT)) from None
        return ZODB.DB(storage)
    uri = args.uri or 'zconfig://' + os.path.abspath(args.config)
    if args.config and not os.path.exists(args.config):
        raise UsageError('--config {}: no such file'.format(args.config))
    if read_only:
        uri = _with_read_only(uri)
    try:
        factory, dbkw = zodburi.resolve_uri(uri)
    except zodburi.NoResolverForScheme:
        raise UsageError(
            'no zodburi resolver for {!r} URIs (is the package providing'
            ' it, e.g. RelStorage, installed?)'.format(
                uri.split(':', 1)[0])) from None
    except KeyError as e:  # zodburi's other errors are KeyErrors too
        raise UsageError('cannot open {}: {}'.format(uri, e)) from None
    section = getattr(getattr(factory, '__self__', None), 'config', None)
    if read_only and hasattr(section, 'read_only'):
        section.read_only = True  # a ZConfig storage section
    return ZODB.DB(factory(), **dbkw)


class Output:
    """Text or JSON on stdout; progress on a terminal's stderr."""

    def __init__(self, as_json, stdout, stderr):
        self.as_json = as_json
        self.stdout = stdout
        self.stderr = stderr
        self.start = time.monotonic()
        self.progress_shown = False

    def progress(self, count):
        # Only worth a line when a scan takes long, and only for humans.
        if time.monotonic() - self.start < 1.0:
            return
        if not getattr(self.stderr, 'isatty', lambda: False)():
            return
        self.stderr.write('\rscanning: {} transactions read'.format(count))
        self.stderr.flush()
        self.progress_shown = True

    def end_progress(self):
        if self.progress_shown:
            self.stderr.write('\n')
            self.progress_shown = False

    def emit(self, text, data):
        self.end_progress()
        if self.as_json:
            json.dump(data, self.stdout, indent=2, sort_keys=True)
            self.stdout.write('\n')
        else:
            self.stdout.write(text + '\n')


def run(args, db, output):
    tool = gocept.zodbundo.tool.UndoTool(db, progress=output.progress)
    command = args.command
    if command == 'log':
        infos = tool.iter_log(
            since=args.since, until=args.until, user=args.user,
            description=args.description, oid=args.oid)
        found = []
        for info in infos:
            found.append(info)
            if not output.as_json:
                output.emit(str(info), None)
            if args.limit and len(found) >= args.limit:
                break
        infos.close()
        if output.as_json:
            output.emit(None, [i.as_json() for i in found])
        return OK
    if command == 'history':
        infos = tool.history(args.oid, size=args.size or None)
        output.emit('\n'.join(str(i) for i in infos),
                    [i.as_json() for i in infos])
        return OK
    if command == 'show':
        info = tool.show(args.tid)
        lines = [str(info)] + [
            '  {}  {}  {} B'.format(c.oid_hex, c.class_name, c.size)
            for c in info.changes]
        output.emit('\n'.join(lines), info.as_json())
        return OK
    if command == 'undo':
        if not args.commit:
            plan = tool.preview(args.tids, cascade=args.cascade)
            text = str(plan) + '\n' + (
                'Dry run: nothing written; add --commit to undo.'
                if plan.clean else
                'Conflicts: undo would fail; try --cascade or revert.')
            output.emit(text, dict(plan=plan.as_json(), committed=False))
            return OK if plan.clean else REFUSED
        try:
            info = tool.undo(args.tids, note=args.note, user=args.user,
                             cascade=args.cascade)
        except gocept.zodbundo.errors.UndoConflict as conflict:
            output.emit(str(conflict.plan) + '\nNothing written.',
                        dict(plan=conflict.plan.as_json(), committed=False,
                             error=str(conflict)))
            return REFUSED
        output.emit('Committed {}'.format(info),
                    dict(committed=True, transaction=info.as_json()))
        return OK
    if command == 'revert':
        if not args.commit:
            plan = _revert_dry_run(tool, args)
            output.emit(plan, dict(committed=False, description=plan))
            return OK
        info = tool.revert(args.oid, before=args.before, note=args.note,
                           user=args.user)
        output.emit('Committed {}'.format(info),
                    dict(committed=True, transaction=info.as_json()))
        return OK
    raise UsageError('choose a command: log, history, show, undo, revert')


def _revert_dry_run(tool, args):
    # The same checks as the real revert, so the dry run refuses alike.
    state = tool._check_revert(args.oid, args.before)
    return ('Would restore {} to its state of {} (dry run: nothing'
            ' written; add --commit).'.format(
                gocept.zodbundo.ids.hexid(
                    gocept.zodbundo.ids.parse_oid(args.oid)),
                gocept.zodbundo.ids.hexid(state)))


def main(argv=None, stdout=None, stderr=None):
    """Run zodb-undo; return the exit code."""
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    command_line = argv is None
    argv = sys.argv[1:] if command_line else list(argv)
    debug = '--debug' in argv
    if command_line:
        # Storages log reconnects and the like; the command reports its
        # own errors in one line, so only show their errors (all with
        # --debug).
        logging.basicConfig(
            level=logging.DEBUG if debug else logging.ERROR,
            format='zodb-undo: %(name)s: %(message)s')
        if not debug:
            # The ZEO client logs an undo conflict the server reports as an
            # error, and the command reports it too: once is enough.
            logging.getLogger('ZEO').setLevel(logging.CRITICAL)
    try:
        args = make_parser().parse_args(argv)
        if not args.command:
            raise UsageError(
                'choose a command: log, history, show, undo, revert')
        writing = getattr(args, 'commit', False)
        output = Output(args.json, stdout, stderr)
        db = open_db(args, writing)
        try:
            return run(args, db, output)
        finally:
            output.end_progress()
            db.close()
    except UsageError as e:
        stderr.write('zodb-undo: error: {} (see zodb-undo --help)\n'.format(
            e))
        return USAGE
    except (gocept.zodbundo.errors.BadId,
            gocept.zodbundo.errors.BadArgument) as e:
        _report(stderr, e, debug)
        return USAGE
    except (gocept.zodbundo.errors.Error, CommandError) as e:
        _report(stderr, e, debug)
        return REFUSED
    except Exception as e:  # noqa: B902 one readable line, not a traceback
        _report(stderr, e, debug, prefix=type(e).__name__ + ': ')
        return REFUSED


def _report(stderr, error, debug, prefix=''):
    if debug:
        import traceback
        traceback.print_exception(error, file=stderr)
    message = ' '.join(str(error).split()) or type(error).__name__
    stderr.write('zodb-undo: {}{}\n'.format(prefix, message))


if __name__ == '__main__':
    sys.exit(main())
