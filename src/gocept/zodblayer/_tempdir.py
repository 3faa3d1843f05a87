"""Temp dirs that a later test run removes if their test process died.

tearDown removes a layer's temp dir; a test process that is killed never
gets there. Each dir records its creator's PID, and creating a new dir
first removes the dirs of dead creators (their servers die with them:
see `_zeoserver` and `postgresql.die_with_parent`).
"""
import os
import shutil
import tempfile


OWNER_FILE = 'owner.pid'


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.readline())
    except (OSError, ValueError):
        return None


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by another user
    return True


def remove_stale(parent, prefix):
    """Remove dirs named `prefix`* in `parent` whose creator is gone."""
    parent = parent or tempfile.gettempdir()
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(prefix):
            continue
        path = os.path.join(parent, name)
        owner = read_pid(os.path.join(path, OWNER_FILE))
        if owner is None:
            continue  # being created right now, or not ours
        if pid_alive(owner):
            continue
        server = read_pid(os.path.join(path, 'data', 'postmaster.pid'))
        if server is not None and pid_alive(server):
            continue
        shutil.rmtree(path, ignore_errors=True)


def make(prefix, parent=None):
    """A new temp dir that records our PID; stale ones are removed first."""
    remove_stale(parent, prefix)
    path = tempfile.mkdtemp(prefix=prefix, dir=parent)
    with open(os.path.join(path, OWNER_FILE), 'w') as f:
        f.write(f'{os.getpid()}\n')
    return path
