"""Merge whole directory trees of RRD files."""

import concurrent.futures
import fnmatch
import os
import stat

import gocept.rrdmerge.atomic
import gocept.rrdmerge.errors
import gocept.rrdmerge.filemerge
import gocept.rrdmerge.report
import gocept.rrdmerge.rrdfile
import gocept.rrdmerge.rrdtool


def _files(directory, pattern):
    result = set()
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames.sort()
        for name in filenames:
            if gocept.rrdmerge.atomic.is_temp_name(name):
                continue
            if fnmatch.fnmatch(name, pattern):
                result.add(os.path.relpath(
                    os.path.join(dirpath, name), directory))
    return result


def _copy(source, target, dry_run):
    """Copy one RRD atomically, after checking it is one."""
    with open(source, 'rb') as f:
        data = f.read()
    try:
        gocept.rrdmerge.rrdfile.parse(data, source)
    except gocept.rrdmerge.errors.UnsupportedLayout:
        pass  # rrdtool may still read it; copying does not look inside.
    if not dry_run:
        gocept.rrdmerge.atomic.replace(
            target, gocept.rrdmerge.atomic.write_bytes(data), like=source,
            sync_directory=False)


def _make_directories(out, source, rel):
    """Create the missing directories of `out` (which ends in `rel`).

    Each gets the mode and, where allowed, the owner of its counterpart
    beside `source` (which ends in `rel` too), so that the monitoring
    server can still create files in a host directory only OLD had.
    """
    out_dir, source_dir = os.path.dirname(out), os.path.dirname(source)
    missing = []
    for _ in os.path.dirname(rel).split(os.sep):
        if os.path.isdir(out_dir):
            break
        missing.append((out_dir, source_dir))
        out_dir, source_dir = (
            os.path.dirname(out_dir), os.path.dirname(source_dir))
    else:
        os.makedirs(out_dir, exist_ok=True)  # OUTDIR itself
    for out_dir, source_dir in reversed(missing):
        try:
            os.mkdir(out_dir)
        except FileExistsError:
            continue  # another job made it
        st = os.stat(source_dir)
        fd = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
            gocept.rrdmerge.atomic.give_owner(fd, st, out_dir, required=False)
        finally:
            os.close(fd)


def _one(task):
    """Handle one relative path; never raises for a bad file."""
    rel, new, old, out, dry_run, options = task
    try:
        if not dry_run:
            _make_directories(out, new or old, rel)
        if new and old:
            report = gocept.rrdmerge.filemerge.merge(
                new, old, out, dry_run=dry_run, sync_directory=False,
                **options)
            return gocept.rrdmerge.report.FileResult(
                rel, 'merged', report=report)
        if old:
            _copy(old, out, dry_run)
            return gocept.rrdmerge.report.FileResult(rel, 'copied from OLD')
        if out != new:
            _copy(new, out, dry_run)
        return gocept.rrdmerge.report.FileResult(rel, 'kept')
    except (gocept.rrdmerge.errors.Error, OSError) as e:
        return gocept.rrdmerge.report.FileResult(
            rel, 'failed', error=str(e))
    except Exception as e:
        return gocept.rrdmerge.report.FileResult(
            rel, 'failed', error=f'unexpected {e.__class__.__name__}: {e}')


def merge_tree(newdir, olddir, out=None, jobs=1, dry_run=False, *,
               pattern='*.rrd', progress=None, rrdtool=None,
               method='auto', verify_always=False):
    """Merge every RRD in OLDDIR into its namesake in NEWDIR; return a
    `TreeReport`.

    Files are matched by their path relative to the two directories and
    by `pattern` (other files are not looked at). Files only OLD has are
    copied, files only NEW has are kept. The results go to `out`, NEWDIR
    itself when None. A bad file is reported and the rest still merged.
    `jobs` > 1 merges in that many processes. `progress(done, total,
    path)` is called after each file. Temp files of killed earlier runs
    in the output tree are removed first. The other options are those of
    `merge()`.
    """
    if jobs < 1:
        raise ValueError('The `jobs` argument must be at least 1.')
    rrdtool = gocept.rrdmerge.rrdtool.find(rrdtool)
    newdir, olddir = os.fspath(newdir), os.fspath(olddir)
    for path, label in ((newdir, 'NEWDIR'), (olddir, 'OLDDIR')):
        if not os.path.exists(path):
            raise gocept.rrdmerge.errors.InputNotFound(
                f'{label} {path}: no such directory')
        if not os.path.isdir(path):
            raise gocept.rrdmerge.errors.NotAnRRD(
                f'{label} {path}: is a file, not a directory'
                ' (leave out --tree to merge single files)')
    outdir = newdir if out is None else os.fspath(out)
    if os.path.exists(outdir) and not os.path.isdir(outdir):
        raise gocept.rrdmerge.errors.NotAnRRD(
            f'OUTDIR {outdir}: is a file, not a directory')
    gocept.rrdmerge.filemerge.check_targets(
        newdir, olddir, outdir, 'directory')
    report = gocept.rrdmerge.report.TreeReport(
        new=newdir, old=olddir, out=outdir, dry_run=dry_run)
    if not dry_run and os.path.isdir(outdir):
        report.removed_temp_files = gocept.rrdmerge.atomic.remove_stale(
            outdir)

    new_files = _files(newdir, pattern)
    old_files = _files(olddir, pattern)
    options = dict(rrdtool=rrdtool, method=method,
                   verify_always=verify_always)
    tasks = []
    for rel in sorted(new_files | old_files):
        tasks.append((
            rel,
            os.path.join(newdir, rel) if rel in new_files else None,
            os.path.join(olddir, rel) if rel in old_files else None,
            os.path.join(outdir, rel), dry_run, options))

    results = {}

    def done(result):
        results[result.path] = result
        if progress is not None:
            progress(len(results), len(tasks), result.path)

    if jobs == 1:
        for task in tasks:
            done(_one(task))
    else:
        with concurrent.futures.ProcessPoolExecutor(jobs) as pool:
            futures = [pool.submit(_one, task) for task in tasks]
            for future in concurrent.futures.as_completed(futures):
                done(future.result())
    report.files = [results[task[0]] for task in tasks]
    if not dry_run:
        # Renames (and new directories) are durable once their directory
        # is synced: do it once a directory, not once a file.
        gocept.rrdmerge.atomic.sync_directories(
            _directories(outdir, [task[3] for task in tasks]))
    return report


def _directories(top, paths):
    """The existing directories of `paths` up to and including `top`."""
    result = set()
    top = os.path.abspath(top)
    for path in paths:
        directory = os.path.dirname(os.path.abspath(path))
        while directory not in result and os.path.isdir(directory) and (
                directory == top or directory.startswith(top + os.sep)):
            result.add(directory)
            directory = os.path.dirname(directory)
    return result
