"""The `rrdmerge` command.

    rrdmerge NEW OLD [OLD2 ...] [-o OUT] [--dry-run] [--graph DIR]
    rrdmerge --tree NEWDIR OLDDIR [OLDDIR2 ...] [-o OUTDIR] [--jobs N]
             [--dry-run] [--graph DIR]

Exit codes: 0 done, 1 a merge failed (in tree mode: any file failed or
was left alone), 2 usage error (NEW or the output is an OLD, too),
missing rrdtool, missing input or an input that is no RRD, 141 (like a
program killed by SIGPIPE) when the reader of the report went away, as
in `rrdmerge --json ... | head`.
"""

import argparse
import contextlib
import importlib.metadata
import json
import os
import sys

import gocept.rrdmerge.errors
import gocept.rrdmerge.filemerge
import gocept.rrdmerge.tree


INPUT_ERRORS = (
    gocept.rrdmerge.errors.InputNotFound,
    gocept.rrdmerge.errors.NotAnRRD,
    gocept.rrdmerge.errors.RRDToolNotFound,
    gocept.rrdmerge.errors.UsageError,
)
EXAMPLE = (
    'example: rrdmerge --tree /var/lib/pnp4nagios/perfdata'
    ' /backup/perfdata --dry-run')
# 128 + SIGPIPE: what a shell reports for a program killed by SIGPIPE.
EXIT_BROKEN_PIPE = 141


def parser():
    p = argparse.ArgumentParser(
        prog='rrdmerge',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            'Fill the unknown rows of NEW with the data OLD has for the'
            ' same time, bit for bit. With several OLDs, a cell comes from'
            ' the first that knows it. Known values (zeros too) are never'
            ' touched, nothing is interpolated. Without -o, NEW is'
            ' replaced atomically.'),
        epilog=EXAMPLE)
    p.add_argument('new', metavar='NEW', help='RRD (directory with --tree)'
                   ' to fill, e.g. the one the rebuilt server writes')
    p.add_argument('old', metavar='OLD', nargs='+', help='RRD (directory'
                   ' with --tree) with the history, e.g. from the backup;'
                   ' several: the first that knows a cell fills it')
    p.add_argument('-o', '--out', metavar='OUT',
                   help='write the result here instead of replacing NEW'
                   ' (a directory with --tree)')
    p.add_argument('--tree', action='store_true',
                   help='merge directory trees, files matched by'
                   ' relative path')
    p.add_argument('--jobs', '-j', type=int, default=1, metavar='N',
                   help='tree mode: merge N files in parallel')
    p.add_argument('--pattern', default='*.rrd',
                   help='tree mode: names of the files to merge'
                   ' (default: %(default)s)')
    p.add_argument('--dry-run', '-n', action='store_true',
                   help='write nothing, report what would be filled')
    p.add_argument('--graph', metavar='DIR',
                   help='draw each merged file before and after, filled'
                   ' spans marked, as DIR/NAME.png (rrdtool graph; also'
                   ' in a dry run)')
    p.add_argument('--text', action='store_true',
                   help='go through rrdtool dump/restore even where the'
                   ' binary layout is known (values lose precision)')
    p.add_argument('--rrdtool', metavar='PATH',
                   help='the rrdtool program (default: rrdtool on PATH)')
    p.add_argument('--json', action='store_true',
                   help='print the report as JSON')
    p.add_argument('--quiet', '-q', action='store_true',
                   help='print failures, warnings and the summary only')
    p.add_argument('--debug', action='store_true',
                   help='show tracebacks')
    p.add_argument('--version', action='version',
                   version='%(prog)s ' + importlib.metadata.version(
                       'gocept.layerkit'),
                   help="show the program's version and exit")
    return p


class ProgressBar:
    """A one-line progress bar on a terminal stream."""

    width = 30

    def __init__(self, stream):
        self.stream = stream

    def __call__(self, done, total, path):
        filled = self.width * done // total if total else self.width
        bar = '#' * filled + '.' * (self.width - filled)
        self.stream.write(f'\r[{bar}] {done}/{total} {path[-40:]:40}')
        self.stream.flush()

    def close(self):
        self.stream.write('\r' + ' ' * (self.width + 60) + '\r')
        self.stream.flush()


def _run(args, stdout, stderr):
    method = 'text' if args.text else 'auto'
    if not args.tree:
        report = gocept.rrdmerge.filemerge.merge(
            args.new, args.old, args.out, dry_run=args.dry_run,
            rrdtool=args.rrdtool, method=method, graph=args.graph)
        for source in report.sources:
            if source.swapped:
                stderr.write(f'rrdmerge: warning: {source.warnings()[0]}\n')
        if args.json:
            json.dump(report.as_dict(), stdout, indent=2)
            stdout.write('\n')
        elif args.quiet:
            stdout.write(report.lines()[0] + '\n')
        else:
            stdout.write(str(report) + '\n')
        return 0
    progress = ProgressBar(stderr) if stderr.isatty() else None
    try:
        report = gocept.rrdmerge.tree.merge_tree(
            args.new, args.old, args.out, jobs=args.jobs,
            dry_run=args.dry_run, pattern=args.pattern, progress=progress,
            rrdtool=args.rrdtool, method=method, graph=args.graph)
    finally:
        if progress is not None:
            progress.close()
    swapped = [f.path for f in report.files
               if f.action == 'merged' and f.report.looks_swapped]
    if swapped:
        stderr.write(
            f'rrdmerge: warning: {len(swapped)} files of NEWDIR were last'
            ' updated before their OLD (e.g. {}): are NEWDIR and OLDDIR'
            ' swapped?\n'.format(swapped[0]))
    if args.json:
        json.dump(report.as_dict(), stdout, indent=2)
        stdout.write('\n')
    else:
        for path in report.removed_temp_files:
            stdout.write(f'removed temp file of a killed run: {path}\n')
        for result in report.files:
            if result.problem or not args.quiet:
                stdout.write(f'{result}\n')
        stdout.write(report.summary() + '\n')
    return 0 if report.ok else 1


def main(argv=None, stdout=None, stderr=None):
    """Run the command; return the exit code."""
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    p = parser()
    try:
        with contextlib.redirect_stderr(stderr):
            args = p.parse_args(argv)
    except SystemExit as e:
        return e.code
    if args.jobs < 1:
        stderr.write('rrdmerge: error: --jobs must be at least 1\n')
        return 2
    if args.jobs != 1 and not args.tree:
        stderr.write('rrdmerge: error: --jobs needs --tree\n')
        return 2
    try:
        code = _run(args, stdout, stderr)
        stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        # The reader of the report went away (`| head`): stop quietly, as
        # programs killed by SIGPIPE do. The merge itself is done.
        _discard_output(stdout)
        return EXIT_BROKEN_PIPE
    except INPUT_ERRORS as e:
        if args.debug:
            raise
        stderr.write(f'rrdmerge: error: {e}\n')
        return 2
    except (gocept.rrdmerge.errors.Error, OSError) as e:
        if args.debug:
            raise
        stderr.write(f'rrdmerge: error: {_message(e)}\n')
        return 1


def _message(error):
    """One line for `error`; OSErrors as `file: reason`, not `[Errno N]`."""
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f'{error.filename}: {error.strerror}'
    return str(error)


def _discard_output(stream):
    """Point `stream`'s file descriptor at /dev/null.

    Python flushes sys.stdout at exit; to a closed pipe that prints an
    "Exception ignored ... BrokenPipeError" message.
    """
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not backed by a file descriptor (a StringIO)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
