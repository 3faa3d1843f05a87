"""Merge whole directory trees of RRD files."""

import concurrent.futures
import ctypes
import fnmatch
import os
import signal
import stat
import threading
import time

import gocept.rrdmerge.atomic
import gocept.rrdmerge.errors
import gocept.rrdmerge.filemerge
import gocept.rrdmerge.report
import gocept.rrdmerge.rrdfile
import gocept.rrdmerge.rrdtool


PR_SET_PDEATHSIG = 1  # from linux/prctl.h


def _files(directory, pattern, follow=None):
    """(files, directories): the relative paths of the files in
    `directory` whose names match `pattern`, and of its directories.

    Links to directories are followed (a host directory moved to another
    disk is still part of the tree to read) if `follow` is None or holds
    their relative path, but never back to a directory on the way down.
    """
    files, directories = set(), set()

    def visit(path, rel, ancestors):
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            entry_rel = os.path.join(rel, entry.name) if rel else entry.name
            try:
                is_dir = entry.is_dir()
                is_link = entry.is_symlink()
            except OSError:
                is_dir = is_link = False
            if is_dir:
                real = os.path.realpath(entry.path)
                if real in ancestors or (
                        is_link and follow is not None
                        and entry_rel not in follow):
                    continue
                directories.add(entry_rel)
                visit(entry.path, entry_rel, ancestors | {real})
            elif (fnmatch.fnmatch(entry.name, pattern)
                  and not gocept.rrdmerge.atomic.is_temp_name(entry.name)):
                files.add(entry_rel)

    visit(directory, '', {os.path.realpath(directory)})
    return files, directories


def _within(path, top):
    return os.path.commonpath([path, top]) == top


def _escape_route(top, rel):
    """The first link on the way from `top` down `rel` that leads out of
    `top`, as (link, where it points)."""
    real_top = os.path.realpath(top)
    path = top
    for part in rel.split(os.sep):
        path = os.path.join(path, part)
        if os.path.islink(path) and not _within(
                os.path.realpath(path), real_top):
            return path, os.path.realpath(path)
    return path, os.path.realpath(path)


class _LeftAlone(Exception):
    """The target of a file is not to be written; args[0] says why."""


def _target(outdir, rel, olddirs):
    """The real path to write for `rel` in `outdir`.

    Raises `_LeftAlone` if that path is outside `outdir` (a link leads
    out), and `UsageError` if it is inside an OLD directory.
    """
    real_out = os.path.realpath(outdir)
    real = os.path.realpath(os.path.join(outdir, rel))
    for olddir in olddirs:
        real_old = os.path.realpath(olddir)
        if _within(real, real_old):
            raise gocept.rrdmerge.errors.UsageError(
                f'{os.path.join(outdir, rel)} is a link into OLDDIR'
                f' {olddir} ({real}): refusing to write a backup; replace'
                ' the link with a copy of the file')
    if not _within(real, real_out):
        link, points_to = _escape_route(outdir, rel)
        raise _LeftAlone(
            f'{link} is a link to {points_to}, outside {outdir}: no write'
            ' follows a link out of the target tree; merge it on its own'
            f' (rrdmerge {os.path.join(outdir, rel)} OLD)')
    return real


def _copy(source, target, dry_run):
    """Copy one RRD atomically, after checking it is one."""
    fd = gocept.rrdmerge.rrdfile.open_regular(source)
    try:
        try:
            gocept.rrdmerge.rrdfile.read_fd(fd, source)
        except gocept.rrdmerge.errors.UnsupportedLayout:
            pass  # rrdtool may still read it; copying does not look inside.
        if not dry_run:
            gocept.rrdmerge.atomic.replace(
                target, _copy_from(fd), like=source, sync_directory=False)
    finally:
        os.close(fd)


def _copy_from(source_fd):
    """A `writer` for `atomic.replace()` that copies the open file."""
    def writer(fd, path):
        offset = 0
        while True:
            chunk = os.pread(source_fd, 1 << 20, offset)
            if not chunk:
                break
            gocept.rrdmerge.atomic.write_bytes(chunk)(fd, path)
            offset += len(chunk)
    return writer


def _make_directories(out, source, top):
    """Create the missing directories of the real path `out` below `top`.

    Each gets the mode and, where allowed, the owner of its counterpart
    beside `source` (at the same depth from the file), so that the
    monitoring server can still create files in a host directory only
    OLD had.
    """
    out_dir, source_dir = os.path.dirname(out), os.path.dirname(source)
    missing = []
    while not os.path.isdir(out_dir) and out_dir != top:
        missing.append((out_dir, source_dir))
        out_dir, source_dir = (
            os.path.dirname(out_dir), os.path.dirname(source_dir))
    os.makedirs(top, exist_ok=True)  # OUTDIR itself
    for out_dir, source_dir in reversed(missing):
        try:
            os.mkdir(out_dir)
        except FileExistsError:
            continue  # another job made it
        st = os.stat(source_dir)
        fd = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
            gocept.rrdmerge.atomic.give_owner(fd, st, out_dir, required=False)
        finally:
            os.close(fd)


def _one(task):
    """Handle one relative path; never raises for a bad file."""
    rel, new, olds, out, top, dry_run, options = task
    result = gocept.rrdmerge.report.FileResult(rel, 'failed', dry_run=dry_run)
    options = dict(options, dry_run=dry_run, sync_directory=False)
    graph = options.pop('graph', None)
    try:
        if not dry_run:
            _make_directories(out, new or olds[0][1], top)
        if new and olds:
            result.report = gocept.rrdmerge.filemerge.merge(
                new, [path for _, path in olds], out, graph=graph,
                graph_name=None if graph is None else (
                    os.path.splitext(rel)[0] + '.png'), **options)
            result.action = 'merged'
        elif olds:
            (number, first), rest = olds[0], olds[1:]
            if rest:
                # The first OLD stands in for NEW: the others fill its gaps.
                result.report = gocept.rrdmerge.filemerge.merge(
                    first, [path for _, path in rest], out, **options)
                for source, (n, _) in zip(result.report.sources, rest):
                    source.number = n
            else:
                _copy(first, out, dry_run)
            result.action, result.source = 'copied from OLD', number
        else:
            _copy(new, out, dry_run)
            result.action = 'kept'
        return result
    except (gocept.rrdmerge.errors.Error, OSError) as e:
        result.error = str(e)
    except Exception as e:
        result.error = f'unexpected {e.__class__.__name__}: {e}'
    result.action, result.report = 'failed', None
    return result


def _die_with_parent(parent):
    """Worker initializer: end this process when `parent` dies.

    Without it, workers of a killed (kill -9) run live on forever. Linux
    sends the signal set by prctl(PR_SET_PDEATHSIG); elsewhere a thread
    watches for the parent to go.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0):
            raise OSError(ctypes.get_errno(), 'prctl failed')
    except (OSError, AttributeError):
        threading.Thread(
            target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)


def _watch_parent(parent):
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def merge_tree(newdir, olddir, out=None, jobs=1, dry_run=False, *,
               pattern='*.rrd', progress=None, rrdtool=None,
               method='auto', verify_always=False, graph=None):
    """Merge every RRD in OLDDIR into its namesake in NEWDIR; return a
    `TreeReport`.

    `olddir` is one directory or a sequence of them (several backups;
    a cell comes from the first that knows it). Files are matched by
    their path relative to the directories and by `pattern` (other
    files are not looked at). Files only OLDs have are copied (from the
    first OLD that has it, the later ones filling its gaps), files only
    NEW has are kept. Links to directories are followed (in NEWDIR only
    where an OLD has that directory, so a link to / is not walked). The
    results go to `out`, NEWDIR itself when None.
    A bad file is reported and the rest still merged. No write follows a
    link out of the output tree: a file whose target lies behind such a
    link is left alone and reported; one whose target lies in an OLD
    directory fails. `jobs` > 1 merges in that many processes (they end
    with this one). `progress(done, total, path)` is called after each
    file. Temp files of killed earlier runs in the output tree are
    removed first. `graph` names a directory for a PNG per merged file
    (named after its relative path). The other options are those of
    `merge()`.
    """
    if jobs < 1:
        raise ValueError('The `jobs` argument must be at least 1.')
    rrdtool = gocept.rrdmerge.rrdtool.find(rrdtool)
    newdir = os.fspath(newdir)
    olddirs = gocept.rrdmerge.filemerge.old_paths(olddir)
    labels = [('NEWDIR', newdir)] + [
        ('OLDDIR' if len(olddirs) == 1 else f'OLDDIR {n}', path)
        for n, path in enumerate(olddirs, 1)]
    for label, path in labels:
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
        newdir, olddirs, outdir, 'directory')
    real_out = os.path.realpath(outdir)
    for n, path in enumerate(olddirs, 1):
        if _within(real_out, os.path.realpath(path)):
            raise gocept.rrdmerge.errors.UsageError(
                f'output {outdir} lies in OLDDIR {path}: refusing to write'
                ' into a backup; write to another directory')
    report = gocept.rrdmerge.report.TreeReport(
        new=newdir, old=olddirs[0], olds=olddirs, out=outdir,
        dry_run=dry_run)
    if not dry_run and os.path.isdir(outdir):
        report.removed_temp_files = gocept.rrdmerge.atomic.remove_stale(
            outdir)

    old_files, old_directories = [], set()
    for path in olddirs:
        files, directories = _files(path, pattern)
        old_files.append(files)
        old_directories |= directories
    # In NEWDIR only links to what an OLD has are followed: a link to a
    # big unrelated tree (or to /) is not walked.
    new_files, _ = _files(newdir, pattern, follow=old_directories)
    options = dict(rrdtool=rrdtool, method=method,
                   verify_always=verify_always)
    if graph is not None:
        options['graph'] = graph
    results = {}
    tasks = []
    targets = {}
    rels = sorted(new_files.union(*old_files))

    def done(result):
        results[result.path] = result
        if progress is not None:
            progress(len(results), len(rels), result.path)

    for rel in rels:
        result = gocept.rrdmerge.report.FileResult(
            rel, 'failed', dry_run=dry_run)
        new = os.path.join(newdir, rel) if rel in new_files else None
        olds = [(n, os.path.join(path, rel))
                for n, (path, files) in enumerate(zip(olddirs, old_files), 1)
                if rel in files]
        if not olds and out is None:
            result.action = 'kept'  # nothing to write
            done(result)
            continue
        try:
            target = _target(outdir, rel, olddirs)
        except _LeftAlone as e:
            result.action, result.reason = 'left alone', e.args[0]
        except gocept.rrdmerge.errors.UsageError as e:
            result.error = str(e)
        else:
            if target not in targets:
                targets[target] = rel
                tasks.append((rel, new, olds, target, real_out, dry_run,
                              options))
                continue
            result.action = 'kept'
            result.reason = f'the same file as {targets[target]}'
        done(result)

    if jobs == 1 or len(tasks) < 2:
        for task in tasks:
            done(_one(task))
    else:
        with concurrent.futures.ProcessPoolExecutor(
                jobs, initializer=_die_with_parent,
                initargs=(os.getpid(),)) as pool:
            futures = [pool.submit(_one, task) for task in tasks]
            for future in concurrent.futures.as_completed(futures):
                done(future.result())
    report.files = [results[rel] for rel in rels]
    if not dry_run:
        # Renames (and new directories) are durable once their directory
        # is synced: do it once a directory, not once a file.
        gocept.rrdmerge.atomic.sync_directories(
            _directories(real_out, [task[3] for task in tasks]))
    return report


def _directories(top, paths):
    """The existing directories of `paths` up to and including `top`."""
    result = set()
    for path in paths:
        directory = os.path.dirname(path)
        while directory not in result and os.path.isdir(directory) and (
                _within(directory, top)):
            result.add(directory)
            directory = os.path.dirname(directory)
    return result
