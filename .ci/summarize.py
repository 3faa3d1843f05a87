"""Count a test run's results: summarize.py zope|pytest LOG EXIT_STATUS.

Prints "PASSED FAILED SKIPPED" on stdout and, on stderr, what was skipped
(pytest -rs: the reasons; zope.testrunner: the layers, since its parallel
workers do not report reasons). zope.testrunner's "Ran N tests" and
"Total: N tests" include skipped tests, so they are taken out of the
passed ones; its per-layer "Ran" lines are the only complete count of
skipped tests (the "Total" line leaves out those of parallel workers).
A log may hold several runs (tox prints "ENV: commands[N]> ..." before
each). A runner that failed without counting a failure (an import error,
a crash) counts as one failure.
"""
import re
import sys


# With colors (-c) zope.testrunner says "E errors, S skipped".
RAN = re.compile(
    r'^ *Ran (\d+) tests with (\d+) failures?, (\d+) errors?(?:,| and)'
    r' (\d+) skipped')
TOTAL = re.compile(
    r'^Total: (\d+) tests, (\d+) failures?, (\d+) errors?(?:,| and)'
    r' (\d+) skipped')
LAYER = re.compile(r'^Running (\S+) tests:')
TOX_COMMAND = re.compile(r'^\S+: commands\[\d+\]> ')
PYTEST_SUMMARY = re.compile(r'^=+ (.*\d+ \w+.*) in [\d.]+s.* =+$')
PYTEST_SKIP = re.compile(r'^SKIPPED \[\d+\] (.*)$')


def zope(lines):
    tests = failed = skipped = 0
    for run in runs(lines):
        layer = counted = total = None
        for line in run:
            if match := LAYER.match(line):
                layer = match.group(1)
            if match := RAN.match(line):
                n, f, e, s = map(int, match.groups())
                counted = (n, f + e)
                if s:
                    skipped += s
                    print(f'skipped: {s} in layer {layer}', file=sys.stderr)
            if match := TOTAL.match(line):
                n, f, e, s = map(int, match.groups())
                total = (n, f + e)
        n, bad = total or counted or (0, 0)
        tests += n
        failed += bad
    return tests, failed, skipped


def runs(lines):
    run = []
    for line in lines:
        if TOX_COMMAND.match(line) and run:
            yield run
            run = []
        run.append(line)
    yield run


def pytest(lines):
    counts = {}
    for line in lines:
        match = PYTEST_SUMMARY.match(line)
        if match:
            counts = {word: int(n) for n, word in
                      re.findall(r'(\d+) (\w+)', match.group(1))}
        match = PYTEST_SKIP.match(line)
        if match:
            print(f'skipped: {match.group(1)}', file=sys.stderr)
    failed = counts.get('failed', 0) + counts.get('error', 0) + counts.get(
        'errors', 0)
    skipped = counts.get('skipped', 0)
    return counts.get('passed', 0) + failed + skipped, failed, skipped


def main(kind, path, status):
    with open(path, errors='replace') as f:
        # Colors off: the patterns match plain text.
        lines = [re.sub(r'\x1b\[[0-9;]*m', '', line.rstrip('\n'))
                 for line in f]
    tests, failed, skipped = {'zope': zope, 'pytest': pytest}[kind](lines)
    if int(status) and not failed:
        failed += 1
        tests += 1
    print(tests - failed - skipped, failed, skipped)


if __name__ == '__main__':
    main(*sys.argv[1:])
