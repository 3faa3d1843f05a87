"""Helpers the tests share."""
import os
import subprocess
import sys


def run_python(code, timeout=120):
    """Run `code` in a fresh interpreter with our sys.path."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run(
        [sys.executable, '-c', code], env=env, capture_output=True,
        text=True, timeout=timeout)
