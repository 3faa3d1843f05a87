"""Run the `rrdtool` program."""

import os
import shutil
import subprocess

import gocept.rrdmerge.errors


ENVIRON_KEY = 'GOCEPT_RRDMERGE_RRDTOOL'


def find(program=None):
    """Path of the rrdtool program.

    `program` (or the environment variable GOCEPT_RRDMERGE_RRDTOOL) may
    name another program; the default is `rrdtool` on the PATH.
    """
    program = program or os.environ.get(ENVIRON_KEY) or 'rrdtool'
    path = shutil.which(program)
    if path is None:
        raise gocept.rrdmerge.errors.RRDToolNotFound(
            f'rrdtool program {program!r} not found: install rrdtool'
            f' (e.g. apt-get install rrdtool) or set {ENVIRON_KEY}')
    return path


def run(program, *args):
    """Run `program args...`; return stdout as text, raise on failure."""
    try:
        result = subprocess.run(
            (program,) + args, stdin=subprocess.DEVNULL,
            capture_output=True)
    except OSError as e:
        raise gocept.rrdmerge.errors.RRDToolNotFound(
            f'cannot run rrdtool program {program!r}: {e.strerror}')
    if result.returncode:
        message = result.stderr.decode('utf-8', 'replace').strip()
        message = message.splitlines()[-1] if message else (
            f'exit status {result.returncode}')
        # Name the file: rrdtool's own messages often do not.
        raise gocept.rrdmerge.errors.RRDToolFailed(
            f'rrdtool {" ".join(args[:2])} failed: {message}')
    return result.stdout.decode('utf-8', 'replace')
