"""Replace a file atomically, and lock a live RRD while reading it.

The new contents go to a temp file beside the target, named
`.<name>.rrdmerge-<pid>-<random>.tmp`, which is fsynced, given the
target's mode and owner, and renamed over the target. A reader sees the
old file or the new one, never a half-written one. A process killed
before the rename leaves its temp file behind; `remove_stale()` deletes
those whose process is gone (tree mode does so before it starts).
"""

import contextlib
import errno
import fcntl
import os
import re
import stat
import tempfile
import time

import gocept.rrdmerge.errors
import gocept.rrdmerge.rrdfile


TEMP_NAME = re.compile(r'^\..+\.rrdmerge-(\d+)-[^.]+\.tmp$')
LOCK_TIMEOUT = 2.0


def temp_prefix(target):
    return f'.{os.path.basename(target)}.rrdmerge-{os.getpid()}-'


def is_temp_name(name):
    return TEMP_NAME.match(name) is not None


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(directory):
    """Remove temp files of dead merge processes in `directory`'s tree.

    Returns the paths removed.
    """
    removed = []
    for dirpath, dirnames, filenames in os.walk(directory):
        for name in filenames:
            match = TEMP_NAME.match(name)
            if match and not _process_alive(int(match.group(1))):
                path = os.path.join(dirpath, name)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    removed.append(path)
    return removed


def _fsync_directory(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace(target, writer, like=None, sync_directory=True):
    """Write `target` atomically: `writer(fd, temp_path)` fills the temp file.

    The result gets the mode and owner of `target` if it exists (an error
    if the owner cannot be kept), else those of the file `like` (its owner
    only where allowed, as `cp -p` does). A symlink as `target` is
    followed: the file it points to is replaced, the link stays. The temp
    file is fsynced before the rename; the directory afterwards (which
    makes the rename itself durable) unless `sync_directory` is false:
    then the caller does it with `sync_directories()`.
    """
    target = os.path.realpath(target)
    directory = os.path.dirname(target)
    try:
        st = os.stat(target)
        keep_owner = True
    except FileNotFoundError:
        st = os.stat(like) if like else None
        keep_owner = False
    fd, temp = tempfile.mkstemp(
        prefix=temp_prefix(target), suffix='.tmp', dir=directory)
    try:
        try:
            writer(fd, temp)
            if st is not None:
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
                give_owner(fd, st, target, required=keep_owner)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    if sync_directory:
        _fsync_directory(directory)


def give_owner(fd, st, target, required):
    """Give the file behind `fd` the owner in `st` (if not ours already).
    """
    if (st.st_uid, st.st_gid) == (os.getuid(), os.getgid()):
        return
    try:
        os.fchown(fd, st.st_uid, st.st_gid)
    except PermissionError:
        if required:
            raise gocept.rrdmerge.errors.Error(
                f'{target}: cannot keep its owner {st.st_uid}:{st.st_gid};'
                ' run as that user or as root') from None


def sync_directories(directories):
    """fsync each of `directories` (once)."""
    for directory in sorted(set(directories)):
        _fsync_directory(directory)


def write_bytes(data):
    """A `writer` for `replace()` that writes `data`."""
    def writer(fd, path):
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    return writer


@contextlib.contextmanager
def locked(path, label=None):
    """Hold a read lock on `path`, yield its file descriptor.

    `path` must be a regular file (`rrdfile.open_regular()`; `label`
    goes into its errors).

    `rrdtool update` takes a write lock while it changes a file, so while
    this lock is held the file does not change under us, and an update
    that comes in fails (and is retried by the next check) instead of
    being lost when the file is replaced.
    """
    fd = gocept.rrdmerge.rrdfile.open_regular(path, label)
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EACCES, errno.EAGAIN):
                    raise
                if time.monotonic() > deadline:
                    raise gocept.rrdmerge.errors.TargetBusy(
                        f'{path}: locked by another process (rrdtool'
                        ' update?); try again') from None
                # No blocking wait: Linux has no fcntl lock with a
                # timeout, and bounding F_SETLKW with SIGALRM would take
                # over the caller's signal handler (main thread only).
                # rrdtool holds its lock for milliseconds: poll briefly.
                time.sleep(0.01)
        yield fd
    finally:
        os.close(fd)
