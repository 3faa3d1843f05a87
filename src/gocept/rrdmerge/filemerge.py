"""Merge one RRD file: fill NEW's unknown cells from one or more OLDs."""

import os

import gocept.rrdmerge.atomic
import gocept.rrdmerge.errors
import gocept.rrdmerge.fill
import gocept.rrdmerge.graph
import gocept.rrdmerge.match
import gocept.rrdmerge.report
import gocept.rrdmerge.rrdfile
import gocept.rrdmerge.rrdtool
import gocept.rrdmerge.textmerge
import gocept.rrdmerge.verify


METHODS = ('auto', 'binary', 'text')


def check_input(path, label):
    """Raise a clear error unless `path` is an existing regular file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise gocept.rrdmerge.errors.InputNotFound(
            f'{label} {path}: no such file') from None
    except OSError as e:
        raise gocept.rrdmerge.errors.NotAnRRD(
            f'{label} {path}: cannot read: {e.strerror}') from None
    what = gocept.rrdmerge.rrdfile.kind(st.st_mode)
    if what == 'a directory':
        raise gocept.rrdmerge.errors.NotAnRRD(
            f'{label} {path}: is a directory, not an RRD file'
            ' (use --tree for directories)')
    if what is not None:
        raise gocept.rrdmerge.errors.NotAnRRD(
            f'{label} {path}: is {what}, not an RRD file')


def same_file(a, b):
    """Whether `a` and `b` name the same existing file or directory."""
    try:
        return os.path.samefile(a, b)
    except (FileNotFoundError, NotADirectoryError):
        return False


def old_paths(old):
    """`old` (a path or a sequence of paths) as a list of str."""
    if isinstance(old, (str, bytes, os.PathLike)):
        return [os.fspath(old)]
    result = [os.fspath(path) for path in old]
    if not result:
        raise ValueError('The `old` argument must name at least one OLD.')
    return result


def check_targets(new, olds, out, kind='file'):
    """Refuse to merge an OLD into itself or to overwrite a backup.

    Raises `UsageError`.
    """
    UsageError = gocept.rrdmerge.errors.UsageError
    numbered = list(enumerate(olds, 1))
    label = {n: 'OLD' if len(olds) == 1 else f'OLD {n}' for n, _ in numbered}
    for n, old in numbered:
        if same_file(new, old):
            raise UsageError(
                f'NEW {new} and {label[n]} {old} are the same {kind}')
        if same_file(out, old):
            raise UsageError(
                f'output {out} is {label[n]}: refusing to overwrite the'
                f' backup; write to NEW (leave out -o) or to another {kind}')
        # Backups made with hard links (rsnapshot) share unchanged files:
        # the same file twice is fine, the same directory twice is not.
        for m, other in numbered[n:] if kind == 'directory' else ():
            if same_file(old, other):
                raise UsageError(
                    f'{label[n]} {old} and {label[m]} {other} are the'
                    f' same {kind}; name each backup once')


def graph_title(new, report):
    verb = 'would fill' if report.dry_run else 'filled'
    return (f'{os.path.basename(new)}: {verb} {report.cells_filled} cells'
            ' (light lines after, dark before)')


def merge(new, old, out=None, dry_run=False, *, rrdtool=None,
          method='auto', verify_always=False, sync_directory=True,
          graph=None, graph_name=None):
    """Fill every unknown cell of NEW whose row time an OLD knows; return
    a `MergeReport`.

    `old` is one path or a sequence of them (several backups): each
    unknown cell of NEW takes the value of the first OLD, in the order
    given, that knows it. The result goes to `out`, NEW itself when None
    (then NEW is replaced atomically; inputs are never changed
    otherwise). With `dry_run` nothing is written, the report counts the
    cells that would be filled.

    `method` 'auto' patches the binary files and falls back to `rrdtool
    dump`/`restore` where the layout cannot be verified; 'binary' raises
    `UnsupportedLayout` instead, 'text' always takes the fallback.
    `rrdtool` names the rrdtool program. The binary layout is checked
    against `rrdtool info` once per format version and process, for
    every file with `verify_always`. `sync_directory=False` leaves the
    fsync of OUT's directory after the rename to the caller (tree mode
    does it once a directory).

    `graph` names a directory: a PNG of NEW before and after the merge
    (in a dry run: as it would be) is written there by `rrdtool graph`,
    named `graph_name` (default: NEW's name with `.png`).

    Raises `InputNotFound`, `NotAnRRD` (`OtherArchitecture` for a file
    of another machine), `UsageError` (an OLD given as NEW or OUT),
    `TargetBusy`, `RRDToolNotFound`, `RRDToolFailed` and OSError.
    """
    if method not in METHODS:
        raise ValueError(f'The `method` argument must be one of {METHODS}.')
    program = gocept.rrdmerge.rrdtool.find(rrdtool)
    new, olds = os.fspath(new), old_paths(old)
    out = new if out is None else os.fspath(out)
    check_input(new, 'NEW')
    for n, path in enumerate(olds, 1):
        check_input(path, 'OLD' if len(olds) == 1 else f'OLD {n}')
    if os.path.isdir(out):
        raise gocept.rrdmerge.errors.NotAnRRD(
            f'OUT {out}: is a directory; name the file to write')
    check_targets(new, olds, out)
    out_directory = os.path.dirname(os.path.abspath(out))
    if not dry_run and not os.path.isdir(out_directory):
        raise gocept.rrdmerge.errors.InputNotFound(
            f'OUT {out}: no such directory {out_directory}')
    if graph is not None:
        graph = gocept.rrdmerge.graph.target(
            graph, graph_name or gocept.rrdmerge.graph.name_for(new))

    def fresh_report():
        return gocept.rrdmerge.report.MergeReport(
            new=new, old=olds[0], out=out, dry_run=dry_run,
            sources=[gocept.rrdmerge.report.SourceReport(old=path, number=n)
                     for n, path in enumerate(olds, 1)])

    report = fresh_report()
    if method != 'text':
        try:
            return _merge_binary(program, new, olds, out, dry_run,
                                 verify_always, sync_directory, report,
                                 graph)
        except gocept.rrdmerge.errors.UnsupportedLayout as e:
            if method == 'binary':
                raise
            report = fresh_report()
            report.notes.append(f'binary layout not verified: {e}')
    report.method = 'text'
    report.notes.append(gocept.rrdmerge.report.TEXT_NOTE)
    # Locked like the binary route: an update between the dump and the
    # rename would be lost.
    with gocept.rrdmerge.atomic.locked(new, 'NEW'):
        gocept.rrdmerge.textmerge.merge(
            program, new, olds, out, dry_run, sync_directory, report, graph)
    return report


def _merge_binary(program, new, olds, out, dry_run, verify_always,
                  sync_directory, report, graph):
    in_place = same_file(new, out)
    # The lock keeps `rrdtool update` from changing NEW between our read
    # and the rename (it would lose that update).
    with gocept.rrdmerge.atomic.locked(new, 'NEW') as fd:
        new_header, new_data = gocept.rrdmerge.rrdfile.read_fd(fd, new)
        gocept.rrdmerge.verify.verify(program, new_header, verify_always)
        out_data = bytearray(new_data)
        for i, source in enumerate(report.sources):
            if any(same_file(source.old, other) for other in olds[:i]):
                continue  # a hard link to an earlier OLD: nothing new
            label = 'OLD' if len(olds) == 1 else f'OLD {source.number}'
            old_header, old_data = gocept.rrdmerge.rrdfile.read(
                source.old, label)
            gocept.rrdmerge.verify.verify(program, old_header, verify_always)
            match = gocept.rrdmerge.match.match(
                new_header, old_header, report, source)
            before = report.cells_filled
            gocept.rrdmerge.fill.fill(
                new_header, out_data, old_header, old_data, match)
            source.cells_filled = report.cells_filled - before
            del old_data  # one OLD in memory at a time
        if graph is not None:
            gocept.rrdmerge.graph.draw(
                program, graph, new_data, out_data, new_header,
                graph_title(new, report))
        if dry_run or (in_place and not report.cells_filled):
            return report
        gocept.rrdmerge.atomic.replace(
            out, gocept.rrdmerge.atomic.write_bytes(out_data), like=new,
            sync_directory=sync_directory)
        report.written = True
    return report
