"""Merge one RRD file: fill NEW's unknown cells from OLD."""

import os

import gocept.rrdmerge.atomic
import gocept.rrdmerge.errors
import gocept.rrdmerge.fill
import gocept.rrdmerge.match
import gocept.rrdmerge.report
import gocept.rrdmerge.rrdfile
import gocept.rrdmerge.rrdtool
import gocept.rrdmerge.textmerge
import gocept.rrdmerge.verify


METHODS = ('auto', 'binary', 'text')


def check_input(path, label):
    """Raise a clear error unless `path` is an existing file."""
    if not os.path.exists(path):
        raise gocept.rrdmerge.errors.InputNotFound(
            f'{label} {path}: no such file')
    if os.path.isdir(path):
        raise gocept.rrdmerge.errors.NotAnRRD(
            f'{label} {path}: is a directory, not an RRD file'
            ' (use --tree for directories)')


def same_file(a, b):
    """Whether `a` and `b` name the same existing file or directory."""
    try:
        return os.path.samefile(a, b)
    except FileNotFoundError:
        return False


def check_targets(new, old, out, kind='file'):
    """Refuse to merge OLD into itself or to overwrite the backup."""
    if same_file(new, old):
        raise gocept.rrdmerge.errors.Error(
            f'NEW {new} and OLD {old} are the same {kind}')
    if same_file(out, old):
        raise gocept.rrdmerge.errors.Error(
            f'output {out} is OLD: refusing to overwrite the backup;'
            f' write to NEW (leave out -o) or to another {kind}')


def merge(new, old, out=None, dry_run=False, *, rrdtool=None,
          method='auto', verify_always=False, sync_directory=True):
    """Fill every unknown cell of NEW whose row time OLD knows; return a
    `MergeReport`.

    The result goes to `out`, NEW itself when None (then NEW is replaced
    atomically; inputs are never changed otherwise). With `dry_run`
    nothing is written, the report counts the cells that would be filled.

    `method` 'auto' patches the binary files and falls back to `rrdtool
    dump`/`restore` where the layout cannot be verified; 'binary' raises
    `UnsupportedLayout` instead, 'text' always takes the fallback.
    `rrdtool` names the rrdtool program. The binary layout is checked
    against `rrdtool info` once per format version and process, for
    every file with `verify_always`. `sync_directory=False` leaves the
    fsync of OUT's directory after the rename to the caller (tree mode
    does it once a directory).
    """
    if method not in METHODS:
        raise ValueError(f'The `method` argument must be one of {METHODS}.')
    program = gocept.rrdmerge.rrdtool.find(rrdtool)
    new, old = os.fspath(new), os.fspath(old)
    out = new if out is None else os.fspath(out)
    check_input(new, 'NEW')
    check_input(old, 'OLD')
    if os.path.isdir(out):
        raise gocept.rrdmerge.errors.NotAnRRD(
            f'OUT {out}: is a directory; name the file to write')
    check_targets(new, old, out)
    out_directory = os.path.dirname(os.path.abspath(out))
    if not dry_run and not os.path.isdir(out_directory):
        raise gocept.rrdmerge.errors.InputNotFound(
            f'OUT {out}: no such directory {out_directory}')

    def fresh_report():
        return gocept.rrdmerge.report.MergeReport(
            new=new, old=old, out=out, dry_run=dry_run)

    report = fresh_report()
    if method != 'text':
        try:
            return _merge_binary(program, new, old, out, dry_run,
                                 verify_always, sync_directory, report)
        except gocept.rrdmerge.errors.UnsupportedLayout as e:
            if method == 'binary':
                raise
            report = fresh_report()
            report.notes.append(f'binary layout not verified: {e}')
    report.method = 'text'
    report.notes.append(gocept.rrdmerge.report.TEXT_NOTE)
    # Locked like the binary route: an update between the dump and the
    # rename would be lost.
    with gocept.rrdmerge.atomic.locked(new):
        gocept.rrdmerge.textmerge.merge(
            program, new, old, out, dry_run, sync_directory, report)
    return report


def _merge_binary(program, new, old, out, dry_run, verify_always,
                  sync_directory, report):
    in_place = same_file(new, out)
    # The lock keeps `rrdtool update` from changing NEW between our read
    # and the rename (it would lose that update).
    with gocept.rrdmerge.atomic.locked(new) as fd:
        new_data = gocept.rrdmerge.atomic.read_locked(fd)
        new_header = gocept.rrdmerge.rrdfile.parse(new_data, new)
        old_header, old_data = gocept.rrdmerge.rrdfile.read(old)
        gocept.rrdmerge.verify.verify(program, new_header, verify_always)
        gocept.rrdmerge.verify.verify(program, old_header, verify_always)
        match = gocept.rrdmerge.match.match(new_header, old_header, report)
        out_data = bytearray(new_data)
        gocept.rrdmerge.fill.fill(
            new_header, out_data, old_header, old_data, match)
        if dry_run or (in_place and not report.cells_filled):
            return report
        gocept.rrdmerge.atomic.replace(
            out, gocept.rrdmerge.atomic.write_bytes(out_data), like=new,
            sync_directory=sync_directory)
        report.written = True
    return report
