"""Run ZEO's runzeo, reporting the address it listens on.

Usage: python -m gocept.zodblayer._zeoserver ADDRESS_FILE PARENT_PID
       RUNZEO_ARGS...

runzeo binds port 0 to a free port but logs only the requested address;
ZEO announces the real one in its `Serving` event, which we write to
ADDRESS_FILE (atomically), so the layer never guesses a port. The server
also stops when the test process dies (Linux: PR_SET_PDEATHSIG, which
fires when the forking thread ends: `_process.spawn` forks from a thread
that lives as long as the servers, whichever thread set the layer up).
"""
import ctypes
import os
import signal
import sys


def write_address(path, event):
    import ZEO.StorageServer
    if not isinstance(event, ZEO.StorageServer.Serving):
        return
    host, port = event.address[:2]
    with open(path + '.tmp', 'w') as f:
        f.write(f'{host} {port}\n')
    os.rename(path + '.tmp', path)


def stop_when_parent_is_gone(parent_pid):
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return  # not Linux: the layer's tearDown is the only stop
    if os.getppid() != parent_pid:
        # The parent died before prctl took effect.
        os.kill(os.getpid(), signal.SIGTERM)


def main():
    address_file = sys.argv[1]
    stop_when_parent_is_gone(int(sys.argv[2]))
    import zope.event
    zope.event.subscribers.append(
        lambda event: write_address(address_file, event))
    import ZEO.runzeo
    ZEO.runzeo.main(sys.argv[3:])


if __name__ == '__main__':
    main()
