"""Set up a fresh checkout: a virtualenv, pinned zc.buildout, bin/buildout.

Needs only python3 (3.10+). Safe to run again: an existing virtualenv with
the pinned zc.buildout is reused and buildout only installs what changed.
The tests also need a few Debian packages (PostgreSQL, rrdtool, Chromium):
run as root, it installs the missing ones with apt-get; otherwise it names
the command to run.

    python3 bootstrap.py            # then bin/test, bin/python, ...
    python3 bootstrap.py --no-buildout --no-system-packages
"""
import argparse
import glob
import os
import pathlib
import shutil
import subprocess
import sys
import venv

HERE = pathlib.Path(__file__).resolve().parent
VENV = HERE / '.venv'
# Installed into the virtualenv, in the versions constraints.txt pins. The
# recipes too: buildout loading them from eggs beside its own `zc`
# namespace package warns on every run.
TOOLS = ['zc.buildout', 'setuptools', 'wheel', 'zc.recipe.egg',
         'zc.recipe.testrunner']
# Debian package -> how to tell it is there. gocept.zodblayer starts
# PostgreSQL clusters, gocept.rrdmerge runs rrdtool, the real-browser tests
# drive Chromium.
SYSTEM_PACKAGES = {
    'postgresql': lambda: glob.glob('/usr/lib/postgresql/*/bin/initdb'),
    'rrdtool': lambda: shutil.which('rrdtool'),
    'chromium': lambda: shutil.which('chromium'),
    'chromium-driver': lambda: shutil.which('chromedriver'),
}


def say(message):
    print(f'bootstrap: {message}', flush=True)


def run(*command):
    say(' '.join(str(part) for part in command))
    result = subprocess.run(command, cwd=HERE)
    if result.returncode:
        sys.exit(f'bootstrap: {command[0]} failed with exit code'
                 f' {result.returncode}; its output above says why.')


def install_system_packages():
    missing = [name for name, present in SYSTEM_PACKAGES.items()
               if not present()]
    if not missing:
        return
    command = ['apt-get', 'install', '-y', '-q', '--no-install-recommends',
               *missing]
    if os.geteuid() != 0 or not shutil.which('apt-get'):
        say('some tests need these system packages: ' + ' '.join(missing)
            + '; install them with: sudo apt-get update && sudo '
            + ' '.join(command))
        return
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    for step in (['apt-get', 'update', '-q'], command):
        say(' '.join(step))
        if subprocess.run(step, env=env).returncode:
            sys.exit(f'bootstrap: {step[0]} {step[1]} failed; its output'
                     ' above says why (or run with --no-system-packages).')


def pins():
    """Return the `name==version` lines of constraints.txt for TOOLS."""
    wanted = {name.lower() for name in TOOLS}
    with open(HERE / 'constraints.txt', encoding='utf-8') as f:
        lines = [line.strip() for line in f]
    found = [line for line in lines
             if line.partition('==')[0].lower() in wanted]
    if len(found) != len(wanted):
        sys.exit('bootstrap: constraints.txt must pin ' + ', '.join(TOOLS))
    return found


def installed(python, pinned):
    """Return True when the virtualenv already has the pinned packages."""
    probe = subprocess.run(
        [python, '-m', 'pip', 'freeze', '--all'],
        capture_output=True, text=True, cwd=HERE)
    lines = {line.strip().lower() for line in probe.stdout.splitlines()}
    return all(pin.lower() in lines for pin in pinned)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--no-buildout', action='store_true',
        help='only create the virtualenv and install zc.buildout')
    parser.add_argument(
        '--no-system-packages', action='store_true',
        help='do not install the Debian packages the tests need')
    args = parser.parse_args(argv)
    if sys.version_info < (3, 10):
        sys.exit('bootstrap: gocept.layerkit needs Python 3.10 or newer.')
    if not args.no_system_packages:
        install_system_packages()
    python = VENV / 'bin' / 'python'
    if not python.exists():
        say(f'creating virtualenv {VENV.relative_to(HERE)}')
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    pinned = pins()
    if installed(python, pinned):
        say('zc.buildout is installed already')
    else:
        run(python, '-m', 'pip', 'install', '--quiet',
            '--constraint', HERE / 'constraints.txt', *pinned)
    if not args.no_buildout:
        run(VENV / 'bin' / 'buildout', '-c', HERE / 'buildout.cfg')
    return 0


if __name__ == '__main__':
    sys.exit(main())
