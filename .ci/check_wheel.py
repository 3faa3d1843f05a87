"""Check an installed gocept.layerkit wheel: python check_wheel.py EXTRA.

Run in a fresh virtualenv where the wheel was installed with the extra
EXTRA ('' for none). Imports every package of the distribution: each
imports, or raises the ImportError that names an extra not installed here.
Runs each console script with --help and, where the help offers it,
--version, which must print the distribution's version.
"""
import importlib
import importlib.metadata
import os
import re
import subprocess
import sys


def packages(distribution):
    """The packages of `distribution` (gocept.X), from its RECORD."""
    return sorted({
        '.'.join(file.parts[:-1]) for file in distribution.files
        if file.name == '__init__.py' and len(file.parts) == 3})


def check_import(name, extra, problems):
    try:
        importlib.import_module(name)
    except ImportError as e:
        named = re.search(r'needs the extra "([a-z]+)"', str(e))
        if named is None or named.group(1) == extra:
            problems.append(f'import {name}: {e!r}')
        else:
            print(f'{name}: needs the extra "{named.group(1)}" (said so)')
    else:
        print(f'{name}: imported')


def check_script(entry_point, version, problems):
    script = os.path.join(os.path.dirname(sys.executable), entry_point.name)
    result = subprocess.run([script, '--help'], capture_output=True,
                            text=True)
    if result.returncode or 'usage:' not in result.stdout:
        problems.append(f'{entry_point.name} --help: exit code'
                        f' {result.returncode}, {result.stderr.strip()}')
        return
    if '--version' not in result.stdout:
        print(f'{entry_point.name} --help: ok (offers no --version)')
        return
    result = subprocess.run([script, '--version'], capture_output=True,
                            text=True)
    if result.returncode or version not in result.stdout:
        problems.append(f'{entry_point.name} --version: exit code'
                        f' {result.returncode}, {result.stdout.strip()!r},'
                        f' expected {version}')
    else:
        print(f'{entry_point.name} --version: {result.stdout.strip()}')


def main(extra):
    distribution = importlib.metadata.distribution('gocept.layerkit')
    problems = []
    names = packages(distribution)
    if not names:
        problems.append('the wheel holds no packages')
    for name in names:
        check_import(name, extra, problems)
    for entry_point in distribution.entry_points.select(
            group='console_scripts'):
        check_script(entry_point, distribution.version, problems)
    for problem in problems:
        print('PROBLEM:', problem)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
