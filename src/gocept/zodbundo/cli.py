"""The zodb-undo command: log, history, show, undo and revert."""
import argparse
import contextlib
import datetime
import json
import logging
import sys
import textwrap
import time

import gocept.zodbundo.errors
import gocept.zodbundo.ids
import gocept.zodbundo.opening
import gocept.zodbundo.tool


OK = 0
REFUSED = 1
USAGE = 2

UsageError = gocept.zodbundo.opening.UsageError
CommandError = gocept.zodbundo.opening.CommandError
open_db = gocept.zodbundo.opening.open_db


class ArgumentParser(argparse.ArgumentParser):

    def error(self, message):
        raise UsageError(message)


TID_HELP = gocept.zodbundo.ids.TID_FORMS
OID_HELP = '16 hex digits or 0x-prefixed hex (e.g. 0x2a)'

EXAMPLE = """\
example (a dry run first, then the same with --commit):
  zodb-undo --file var/filestorage/Data.fs undo 03f1c2a4b5d6e7f8
"""


def _storage_options(parser, default):
    group = parser.add_argument_group(
        'storage (exactly one; opened read-only unless committing; never'
        ' created)')
    group.add_argument('--file', metavar='PATH', default=default,
                       help='a FileStorage file (Data.fs)')
    group.add_argument('--zeo', metavar='HOST:PORT', default=default,
                       help='a ZEO server')
    group.add_argument('--uri', metavar='URI', default=default,
                       help='a zodburi URI (file://, zeo://, postgres://,'
                       ' zconfig://...)')
    group.add_argument('--config', metavar='ZCONFIG', default=default,
                       help='a ZConfig file with a storage section')
    group.add_argument('--blobs', metavar='DIR', default=default,
                       help='the blob directory of a FileStorage (default:'
                       ' blobs/ or blobstorage/ beside Data.fs, or'
                       ' var/blobstorage in a buildout); for ZEO the'
                       ' client blob cache')
    group.add_argument('--json', action='store_true', default=default,
                       help='print JSON for scripts')
    group.add_argument('--debug', action='store_true', default=default,
                       help='print tracebacks and every log message')


def make_parser():
    parser = ArgumentParser(
        prog='zodb-undo',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
            'Find, preview, undo and revert ZODB transactions. tids: {};'
            ' oids: {}.'.format(TID_HELP, OID_HELP)),
        epilog='exit codes: 0 done, 1 conflict or refused, 2 usage'
        ' error.\n\n' + EXAMPLE)
    parser.add_argument('--version', action='version',
                        version='%(prog)s {}'.format(_version()),
                        help="print gocept.layerkit's version and exit")
    _storage_options(parser, None)
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    # Options after the command must not reset those given before it.
    suppress = argparse.SUPPRESS

    cmd = commands.add_parser('log', help='list transactions, newest first')
    cmd.add_argument('--since', metavar='TIME', type=_time,
                     help='ISO date/time (UTC unless an offset is given)')
    cmd.add_argument('--until', metavar='TIME', type=_time,
                     help='ISO date/time, inclusive (UTC unless an offset'
                     ' is given)')
    cmd.add_argument('--user', help='user name; for Zope\'s "path id"'
                     ' names the id, the user folder path or both')
    cmd.add_argument('--description', metavar='REGEX',
                     help='regular expression searched in descriptions'
                     ' (^ and $ match at every line)')
    cmd.add_argument('--oid', help='only transactions changing this object'
                     ' ({})'.format(OID_HELP))
    cmd.add_argument('--limit', type=_count, default=20,
                     help='at most this many (0: all; default 20)')
    _storage_options(cmd, suppress)

    cmd = commands.add_parser('history', help='transactions of an object')
    cmd.add_argument('oid', nargs='?',
                     help='the object ({}; or give --path instead)'.format(
                         OID_HELP))
    cmd.add_argument('--path', metavar='/A/B/C',
                     help='find the object from the root: item access,'
                     ' then attribute access at each step')
    cmd.add_argument('--size', type=_count, default=20,
                     help='at most this many (0: all; default 20)')
    _storage_options(cmd, suppress)

    cmd = commands.add_parser('show', help='a transaction and its objects')
    cmd.add_argument('tid', help='the transaction ({})'.format(TID_HELP))
    _storage_options(cmd, suppress)

    cmd = commands.add_parser(
        'undo', help='undo transactions (a dry run unless --commit)')
    cmd.add_argument('tids', metavar='TID', nargs='+',
                     help='transactions to undo in one new transaction'
                     ' ({})'.format(TID_HELP))
    cmd.add_argument('--cascade', action='store_true',
                     help='also undo later transactions touching the same'
                     ' objects')
    _commit_options(cmd)
    _storage_options(cmd, suppress)

    cmd = commands.add_parser(
        'revert', help="restore one object's state as before a transaction"
        ' (a dry run unless --commit)')
    cmd.add_argument('oid', help='the object ({})'.format(OID_HELP))
    cmd.add_argument('--before', metavar='TID', required=True,
                     help='restore the state just before this transaction'
                     ' ({})'.format(TID_HELP))
    _commit_options(cmd)
    _storage_options(cmd, suppress)

    cmd = commands.add_parser(
        'serve', help='serve pages to find, preview and undo transactions'
        ' (extra "web")')
    _serve_arguments(cmd)
    _storage_options(cmd, suppress)
    return parser


def _serve_arguments(cmd):
    # Without the extra the other commands still work.
    cmd.add_argument(
        '--listen', metavar='HOST:PORT', default='127.0.0.1:0',
        help='address to listen on (default 127.0.0.1 and a free port;'
        ' [::1]:PORT for IPv6); anything but loopback needs'
        ' --password-file')
    cmd.add_argument(
        '--allow-commit', action='store_true',
        help='offer undo and revert (read-only without it)')
    cmd.add_argument(
        '--password-file', metavar='FILE',
        help='require HTTP basic auth with a user:password line of FILE'
        ' (mode 600)')


def _verdict(plan):
    if plan.clean:
        return 'Dry run: nothing written; add --commit to undo.'
    if plan.already_undone:
        return ('Already undone (see above); to redo the change, undo the'
                ' undo transaction named there.')
    return 'Conflicts: undo would fail; try --cascade or revert.'


def _version():
    import importlib.metadata
    try:
        return importlib.metadata.version('gocept.layerkit')
    except importlib.metadata.PackageNotFoundError:
        return 'unknown (not installed)'


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
        infos = tool.history(_history_oid(args, db), size=args.size or None)
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
            text = str(plan) + '\n' + _verdict(plan)
            output.emit(text, dict(plan=plan.as_json(), committed=False))
            return OK if plan.clean else REFUSED
        try:
            info = tool.undo(args.tids, note=args.note, user=args.user,
                             cascade=args.cascade)
        except gocept.zodbundo.errors.UndoConflict as conflict:
            output.emit(str(conflict.plan) + '\nNothing written.' + (
                ' ' + _verdict(conflict.plan)
                if conflict.plan.already_undone else ''),
                        dict(plan=conflict.plan.as_json(), committed=False,
                             error=str(conflict)))
            return REFUSED
        output.emit('Committed {}'.format(info),
                    dict(committed=True, transaction=info.as_json()))
        return OK
    if command == 'revert':
        plan = tool.preview_revert(args.oid, before=args.before)
        if not args.commit:
            output.emit(
                str(plan) + '\nDry run: nothing written; add --commit to'
                ' revert.', dict(committed=False, plan=plan.as_json()))
            return OK
        info = tool.revert(args.oid, before=args.before, note=args.note,
                           user=args.user, plan=plan)
        output.emit('{}\nCommitted {}'.format(plan, info),
                    dict(committed=True, plan=plan.as_json(),
                         transaction=info.as_json()))
        return OK
    raise UsageError('choose a command: log, history, show, undo, revert')


def _serve(args, stdout, stderr):
    # Imported here: the other commands work without the extra "web".
    import warnings
    with warnings.catch_warnings():
        # Pyramid 2.1 imports pkg_resources; not the operator's business.
        warnings.filterwarnings(
            'ignore', 'pkg_resources is deprecated', UserWarning)
        import gocept.zodbundo.web.serve
    return gocept.zodbundo.web.serve.serve(args, open_db, stdout, stderr)


def _history_oid(args, db):
    if (args.oid is None) == (args.path is None):
        raise UsageError('history: give an OID or --path, not both')
    if args.path is not None:
        import gocept.zodbundo.paths
        return gocept.zodbundo.paths.resolve_path(db, args.path)
    return args.oid


class LogLines(logging.Handler):
    """Log records as one line each on stderr; tracebacks only with
    --debug, and of one kind (e.g. a failed conflict resolution per
    object) at most `repeat` lines, then a count."""

    repeat = 3

    def __init__(self, stream, debug):
        super().__init__(logging.DEBUG if debug else logging.ERROR)
        self.stream = stream
        self.debug = debug
        self.seen = {}

    def emit(self, record):
        key = (record.name, str(record.msg))
        count = self.seen[key] = self.seen.get(key, 0) + 1
        if count > self.repeat and not self.debug:
            return
        try:
            message = ' '.join(record.getMessage().split())
        except Exception:  # noqa: B902 a bad log call must not stop us
            message = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message += ' ({}: {})'.format(
                type(error).__name__, ' '.join(str(error).split()))
        self.stream.write('zodb-undo: {}: {}\n'.format(record.name, message))
        if self.debug and record.exc_info:
            import traceback
            traceback.print_exception(*record.exc_info, file=self.stream)

    def close(self):
        for (name, msg), count in self.seen.items():
            if count > self.repeat and not self.debug:
                self.stream.write(
                    'zodb-undo: {}: {} more like "{}"\n'.format(
                        name, count - self.repeat,
                        ' '.join(msg.split())[:60]))
        self.seen = {}
        super().close()


class _Logging:
    """Route log records to `LogLines` while the command runs."""

    def __init__(self, stderr, debug):
        self.handler = LogLines(stderr, debug)
        self.debug = debug

    def __enter__(self):
        root = logging.getLogger()
        self.root_level = root.level
        self.zeo_level = logging.getLogger('ZEO').level
        root.addHandler(self.handler)
        root.setLevel(min(root.level or logging.WARNING,
                          self.handler.level))
        if not self.debug:
            # The ZEO client logs an undo conflict the server reports as
            # an error, and the command reports it too: once is enough.
            logging.getLogger('ZEO').setLevel(logging.CRITICAL)

    def __exit__(self, *exc):
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self.root_level)
        logging.getLogger('ZEO').setLevel(self.zeo_level)
        self.handler.close()


def main(argv=None, stdout=None, stderr=None):
    """Run zodb-undo; return the exit code."""
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = '--debug' in argv
    with _Logging(stderr, debug):
        return _main(argv, stdout, stderr, debug)


def _main(argv, stdout, stderr, debug):
    try:
        try:
            with contextlib.redirect_stdout(stdout):
                args = make_parser().parse_args(argv)
        except SystemExit as e:  # --help, --version
            return e.code
        if not args.command:
            raise UsageError(
                'choose a command: log, history, show, undo, revert, serve')
        if args.command == 'serve':
            return _serve(args, stdout, stderr)
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
