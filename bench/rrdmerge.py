"""Benchmark: gocept.rrdmerge against `rrdtool create --source`.

A tree of pnp4nagios-like RRD pairs (step 60, GAUGE data sources 1, 2, 3,
AVERAGE/MAX/MIN at 1:2880, 5:2880, 30:4320, 360:5840; half a year of old
data, a two-day outage whose edges cut coarse buckets, two weeks of new
data) is merged by

- gocept.rrdmerge's tree merge (binary), with 1 and 2 jobs,
- the same with three backups per file (OLD1 lost ten days that OLD2
  has; OLD3 is an older copy that adds nothing), with 1 and 2 jobs,
- `rrdtool create OUT --template NEW --source NEW --source OLD`, one
  process per file, 1 and 2 at a time,
- gocept.rrdmerge's dump/restore fallback (`--text`), 2 jobs,

and every output cell is checked against the ideal merge (NEW's known
cells, else the first OLD's known cell for the same RRA, data source and
time): wrong, lost, invented, or right but not bit-exact. `--graph DIR`
is timed on its own, over `--graph-pairs` files.

Run: bin/python bench/rrdmerge.py [--pairs N] [--distinct N]

Making RRDs with rrdtool update takes about half a second a pair, so
`--distinct` pairs (different data and gap edges) are made once, cached
under the temp dir, and copied to fill the tree of `--pairs` files.
"""

import argparse
import concurrent.futures
import hashlib
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import gocept.rrdmerge
import gocept.rrdmerge.rrdfile
import gocept.rrdmerge.testing


STEP = 60
CACHE_VERSION = 'v1'
SERVICES = ('load', 'disk', 'users')


def make_pair(args):
    """One distinct NEW/OLD pair made with rrdtool; returns its paths."""
    directory, seed = args
    make = gocept.rrdmerge.testing
    rnd = random.Random(seed)
    base = 1700000000 - 1700000000 % 3600 + 7 * STEP
    old_start = base
    old_end = old_start + 182 * 86400
    # Two days plus some minutes: edges off the 30 and 360 minute grid.
    outage = 2 * 86400 + (17 + 7 * seed) * STEP
    new_start = old_end + outage
    new_end = new_start + 14 * 86400

    def rows(begin, end):
        result = []
        for t in range(begin, end, STEP):
            minute = (t - begin) // STEP
            if minute % 997 == 13:
                result.append((t, (None, None, None)))
            elif 120 <= minute % 5000 < 180:
                result.append((t, (0.0, 0.0, 0.0)))
            else:
                result.append((t, (rnd.uniform(0, 100), rnd.gauss(0, 1e5),
                                   rnd.random() / 3)))
        return result

    new = os.path.join(directory, f'new-{seed}.rrd')
    old = os.path.join(directory, f'old-{seed}.rrd')
    make.create(old, old_start - STEP, archives=make.PNP_ARCHIVES)
    make.update(old, rows(old_start, old_end))
    make.create(new, new_start - STEP, archives=make.PNP_ARCHIVES)
    make.update(new, rows(new_start, new_end))
    return new, old


def tree(cache, pairs, distinct):
    """NEWDIR and OLDDIR of `pairs` files; made once and cached."""
    root = os.path.join(cache, f'{CACHE_VERSION}-{pairs}-{distinct}')
    done = os.path.join(root, 'complete')
    newdir = os.path.join(root, 'new')
    olddir = os.path.join(root, 'old')
    sources = os.path.join(root, 'distinct')
    if os.path.exists(done):
        print(f'using cached tree {root}')
    else:
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(sources)
        started = time.perf_counter()
        with concurrent.futures.ProcessPoolExecutor(2) as pool:
            made = list(pool.map(
                make_pair, [(sources, seed) for seed in range(distinct)]))
        for i in range(pairs):
            new, old = made[i % distinct]
            rel = os.path.join(f'host{i // len(SERVICES):03d}',
                               f'{SERVICES[i % len(SERVICES)]}.rrd')
            for source, top in ((new, newdir), (old, olddir)):
                os.makedirs(os.path.join(top, os.path.dirname(rel)),
                            exist_ok=True)
                shutil.copyfile(source, os.path.join(top, rel))
        with open(done, 'w') as f:
            f.write('ok\n')
        print(f'made {distinct} distinct pairs with rrdtool and a tree of'
              f' {pairs} pairs in {time.perf_counter() - started:.1f} s'
              f' ({root})')
    rels = sorted(
        os.path.relpath(os.path.join(d, n), newdir)
        for d, _, names in os.walk(newdir) for n in names)
    return newdir, olddir, rels


# OLD1 of the three-backup run lost these ten days (OLD2 has them).
LOST = (1700000000 + 150 * 86400, 1700000000 + 160 * 86400)


def lose_days(source, target):
    """Copy the RRD `source` to `target` with the LOST days unknown."""
    header, data = gocept.rrdmerge.rrdfile.read(source)
    data = bytearray(data)
    nan = struct.pack('<d', math.nan) * len(header.data_sources)
    for archive in header.archives:
        for row in range(archive.rows):
            if LOST[0] < archive.time_of(row) <= LOST[1]:
                offset = header.cell_offset(archive, row, 0)
                data[offset:offset + len(nan)] = nan
    with open(target, 'wb') as f:
        f.write(data)


def backup_trees(olddir, rels):
    """OLDDIR1 (ten days lost) and OLDDIR3 (copies of OLD's files) beside
    OLDDIR; made once. Copies, not hard links: rrdmerge reads a file that
    is a hard link to an earlier OLD's only once."""
    root = os.path.dirname(olddir)
    lost, older = os.path.join(root, 'old.1'), os.path.join(root, 'old.3')
    done = os.path.join(root, 'backups-complete')
    if not os.path.exists(done):
        shutil.rmtree(lost, ignore_errors=True)
        os.makedirs(lost)
        shutil.rmtree(older, ignore_errors=True)
        made = {}
        for rel in rels:
            source = os.path.join(olddir, rel)
            for top in (lost, older):
                os.makedirs(os.path.join(top, os.path.dirname(rel)),
                            exist_ok=True)
            with open(source, 'rb') as f:
                key = hashlib.sha1(f.read()).hexdigest()
            if key in made:
                os.link(made[key], os.path.join(lost, rel))
            else:
                lose_days(source, os.path.join(lost, rel))
                made[key] = os.path.join(lost, rel)
            shutil.copyfile(source, os.path.join(older, rel))
        with open(done, 'w') as f:
            f.write('ok\n')
    return lost, older


def chronological(path):
    """{rra index: (cf, pdp_per_row, end time, rows oldest first)}."""
    header, data = gocept.rrdmerge.rrdfile.read(path)
    result = {}
    for a in header.archives:
        size = len(header.data_sources) * 8
        block = data[a.offset:a.offset + a.rows * size]
        split = (a.cur_row + 1) * size
        result[a.index] = (a.cf, a.pdp_per_row, a.end,
                           block[split:] + block[:split])
    return result, len(header.data_sources)


def ideal_chronological(new, *olds):
    cells = gocept.rrdmerge.testing.ideal_merge(new, *olds)
    header, _ = gocept.rrdmerge.rrdfile.read(new)
    result = {}
    for a in header.archives:
        chunks = []
        for row in range(a.rows):
            t = a.start + row * a.period
            chunks.extend(cells[a.index, t, ds] for ds in header.ds_names)
        result[a.index] = (a.cf, a.pdp_per_row, a.end, b''.join(chunks))
    return result


def classify(ideal, output, ds_count):
    """Count cells: wrong, lost, invented, not bit-exact, checked."""
    counts = dict(wrong=0, lost=0, invented=0, inexact=0, checked=0)
    for index, (cf, pdp, end, block) in ideal.items():
        out_cf, out_pdp, out_end, out_block = output[index]
        assert (cf, pdp) == (out_cf, out_pdp)
        if end == out_end and block == out_block:
            counts['checked'] += len(block) // 8
            continue
        period = STEP * pdp
        rows = len(block) // (8 * ds_count)
        out_rows = len(out_block) // (8 * ds_count)
        start = end - (rows - 1) * period
        out_start = out_end - (out_rows - 1) * period
        want = struct.unpack(f'<{rows * ds_count}d', block)
        have = struct.unpack(f'<{out_rows * ds_count}d', out_block)
        for i, w in enumerate(want):
            counts['checked'] += 1
            row, ds = divmod(i, ds_count)
            out_row = (start + row * period - out_start) // period
            h = (have[out_row * ds_count + ds] if 0 <= out_row < out_rows
                 else math.nan)
            if math.isnan(w):
                if not math.isnan(h):
                    counts['invented'] += 1
            elif math.isnan(h):
                counts['lost'] += 1
            elif block[i * 8:i * 8 + 8] != struct.pack('<d', h):
                if math.isclose(w, h, rel_tol=1e-9, abs_tol=1e-300):
                    counts['inexact'] += 1
                else:
                    counts['wrong'] += 1
    return counts


def check(outdir, rels, newdir, olddirs, ideals):
    """Sum the cell counts over the tree; identical outputs counted once.
    """
    total = dict(wrong=0, lost=0, invented=0, inexact=0, checked=0)
    seen = {}
    for rel in rels:
        path = os.path.join(outdir, rel)
        with open(os.path.join(newdir, rel), 'rb') as f:
            key = (hashlib.sha1(f.read()).hexdigest(), len(olddirs))
        with open(path, 'rb') as f:
            out_key = key + (hashlib.sha1(f.read()).hexdigest(),)
        if out_key not in seen:
            if key not in ideals:
                ideals[key] = ideal_chronological(
                    os.path.join(newdir, rel),
                    *[os.path.join(d, rel) for d in olddirs])
            output, ds_count = chronological(path)
            seen[out_key] = classify(ideals[key], output, ds_count)
        for name, value in seen[out_key].items():
            total[name] += value
    return total


def rrdtool_route(newdir, olddir, outdir, rels, jobs):
    for rel in rels:
        os.makedirs(os.path.dirname(os.path.join(outdir, rel)),
                    exist_ok=True)

    def one(rel):
        new = os.path.join(newdir, rel)
        subprocess.run(
            ['rrdtool', 'create', os.path.join(outdir, rel),
             '--template', new, '--source', new,
             '--source', os.path.join(olddir, rel)], check=True)

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, rels))
    return time.perf_counter() - started


def ours(newdir, olddir, outdir, jobs, method='auto', graph=None):
    started = time.perf_counter()
    report = gocept.rrdmerge.merge_tree(
        newdir, olddir, outdir, jobs=jobs, method=method, graph=graph)
    elapsed = time.perf_counter() - started
    assert report.ok, report.summary()
    if not isinstance(olddir, str):
        given = [0] * len(olddir)
        for result in report.files:
            for source in result.report.sources:
                given[source.number - 1] += source.cells_filled
        print('    cells from each backup: ' + ', '.join(
            f'OLD{n} {count}' for n, count in enumerate(given, 1)))
    return elapsed


def run_route(kind, jobs, files, rels, newdir, olddirs, outdir, tmp, i):
    """Time one route over `files`; returns seconds."""
    if kind == 'rrdtool':
        return rrdtool_route(newdir, olddirs[0], outdir, files, jobs)
    if kind == 'ours3':
        return ours(newdir, olddirs, outdir, jobs)
    olddir = olddirs[0]
    if len(files) != len(rels):
        # A subtree with fewer files, made once.
        subset_new = os.path.join(tmp, f'new{i}')
        subset_old = os.path.join(tmp, f'old{i}')
        if not os.path.exists(subset_new):
            for rel in files:
                for top, sub in ((newdir, subset_new),
                                 (olddir, subset_old)):
                    os.makedirs(os.path.dirname(os.path.join(sub, rel)),
                                exist_ok=True)
                    shutil.copyfile(os.path.join(top, rel),
                                    os.path.join(sub, rel))
        newdir, olddir = subset_new, subset_old
    return ours(newdir, olddir, outdir, jobs,
                'text' if kind == 'text' else 'auto')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pairs', type=int, default=300)
    parser.add_argument('--distinct', type=int, default=20)
    parser.add_argument('--text-pairs', type=int, default=30,
                        help='files for the slow dump/restore route')
    parser.add_argument('--graph-pairs', type=int, default=30,
                        help='files for the separate --graph timing')
    parser.add_argument('--repeat', type=int, default=2,
                        help='runs of each route; the fastest counts')
    parser.add_argument('--cache', default=os.path.join(
        tempfile.gettempdir(), 'gocept.rrdmerge-bench'))
    parser.add_argument('--check', action='store_true',
                        help='exit 1 when a target is missed: ours not'
                        ' bit-exact, or slower than rrdtool create --source')
    args = parser.parse_args(argv)
    version = subprocess.run(
        ['rrdtool'], capture_output=True, text=True).stdout.splitlines()[0]
    print(f'rrdtool: {version}')
    print(f'cpus: {os.cpu_count()}, python {sys.version.split()[0]},'
          ' load average {:.1f} {:.1f} {:.1f}'.format(*os.getloadavg()))
    newdir, olddir, rels = tree(args.cache, args.pairs, args.distinct)
    lost, older = backup_trees(olddir, rels)
    ideals = {}
    runs = [
        ('gocept.rrdmerge (binary)', 1, 'ours', rels),
        ('gocept.rrdmerge (binary)', 2, 'ours', rels),
        ('gocept.rrdmerge, 3 backups', 1, 'ours3', rels),
        ('gocept.rrdmerge, 3 backups', 2, 'ours3', rels),
        ('rrdtool create --source', 1, 'rrdtool', rels),
        ('rrdtool create --source', 2, 'rrdtool', rels),
        ('gocept.rrdmerge --text (dump/restore)', 2, 'text',
         rels[:args.text_pairs]),
    ]
    results = []
    times = {i: [] for i in range(len(runs))}
    counts = {}
    with tempfile.TemporaryDirectory(prefix='rrdmerge-bench-') as tmp:
        # Rounds over all routes, so that load from elsewhere on the
        # machine hits them alike.
        for attempt in range(args.repeat):
            last = attempt == args.repeat - 1
            for i, (name, jobs, kind, files) in enumerate(runs):
                if kind == 'text' and attempt:
                    continue  # slow and far behind: once is enough
                outdir = os.path.join(tmp, f'out{i}')
                olddirs = ([lost, olddir, older] if kind == 'ours3'
                           else [olddir])
                times[i].append(run_route(
                    kind, jobs, files, rels, newdir, olddirs, outdir, tmp,
                    i))
                print(f'  {name}, {jobs} job(s): {times[i][-1]:.2f} s')
                if last or kind == 'text':
                    counts[i] = check(outdir, files, newdir, olddirs, ideals)
                shutil.rmtree(outdir)
        for i, (name, jobs, kind, files) in enumerate(runs):
            results.append((name, jobs, len(files), min(times[i]), counts[i]))
        graph_times = graph_run(args, newdir, olddir, rels, tmp)
        cpu_one = cpu_per_file(newdir, [olddir], rels, tmp)
        cpu_three = cpu_per_file(newdir, [lost, olddir, older], rels, tmp)

    base = {jobs: elapsed / n for name, jobs, n, elapsed, _ in results
            if name.endswith('(binary)')}
    print()
    print(f'{args.pairs} pairs ({args.distinct} distinct), '
          f'{results[0][4]["checked"] // args.pairs} cells a file')
    header = (f'{"route":40} {"jobs":>4} {"files":>5} {"total s":>8}'
              f' {"ms/file":>8} {"x ours":>7} {"wrong":>6} {"lost":>6}'
              f' {"invented":>8} {"inexact":>8}')
    print(header)
    print('-' * len(header))
    for name, jobs, n, elapsed, c in results:
        per_file = elapsed / n
        print(f'{name:40} {jobs:>4} {n:>5} {elapsed:>8.2f}'
              f' {per_file * 1000:>8.1f} {per_file / base[jobs]:>7.2f}'
              f' {c["wrong"]:>6} {c["lost"]:>6} {c["invented"]:>8}'
              f' {c["inexact"]:>8}')
    print()
    print('x ours: time per file relative to gocept.rrdmerge (binary) with'
          ' one backup and the same number of jobs (target for 3 backups:'
          ' at most 2.5). inexact: known in the ideal merge'
          ' and in the output, equal to 1e-9 but not bit for bit.'
          ' gocept.rrdmerge fsyncs every file it writes; rrdtool does not.')
    print()
    print(f'CPU time per file (jobs 1, 20 files, fastest of 5): one backup'
          f' {cpu_one * 1000:.1f} ms, three backups {cpu_three * 1000:.1f}'
          f' ms ({cpu_three / cpu_one:.2f}x)')
    plain, drawn = graph_times
    n = min(args.graph_pairs, len(rels))
    print()
    print(f'--graph, 2 jobs, {n} files: {plain / n * 1000:.1f} ms/file'
          f' without, {drawn / n * 1000:.1f} ms/file with'
          f' ({drawn / plain:.2f}x); not part of the figures above')
    missed = [
        f'{name}, {jobs} job(s): '
        + ('not bit-exact' if any(c[k] for k in (
            'wrong', 'lost', 'invented', 'inexact')) else 'x ours > 2.5')
        for name, jobs, n, elapsed, c in results
        if name.startswith('gocept.rrdmerge,') or name.endswith('(binary)')
        if any(c[k] for k in ('wrong', 'lost', 'invented', 'inexact'))
        or elapsed / n / base[jobs] > 2.5]
    print('targets (ours bit-exact; 3 backups at most 2.5x one): '
          + ('; '.join(f'MISSED {m}' for m in missed) or 'met'))
    return 1 if args.check and missed else 0


def cpu_per_file(newdir, olddirs, rels, tmp, files=20, rounds=5):
    """CPU seconds per file (this process, jobs 1) of merging the first
    `files` files with `olddirs`: fastest of `rounds`. Unlike wall time,
    barely touched by load from elsewhere on the machine."""
    best = math.inf
    out = os.path.join(tmp, 'cpu-out.rrd')
    for _ in range(rounds):
        started = time.process_time()
        for rel in rels[:files]:
            gocept.rrdmerge.merge(
                os.path.join(newdir, rel),
                [os.path.join(d, rel) for d in olddirs], out)
        best = min(best, time.process_time() - started)
    os.unlink(out)
    return best / min(files, len(rels))


def graph_run(args, newdir, olddir, rels, tmp):
    """Seconds for a tree merge of the first files without and with
    `--graph` (fastest of --repeat each)."""
    files = rels[:args.graph_pairs]
    subset_new, subset_old = (os.path.join(tmp, 'graph-new'),
                              os.path.join(tmp, 'graph-old'))
    for rel in files:
        for top, sub in ((newdir, subset_new), (olddir, subset_old)):
            os.makedirs(os.path.dirname(os.path.join(sub, rel)),
                        exist_ok=True)
            shutil.copyfile(os.path.join(top, rel), os.path.join(sub, rel))
    result = []
    for graph in (None, os.path.join(tmp, 'graphs')):
        times = []
        for attempt in range(args.repeat):
            outdir = os.path.join(tmp, 'graph-out')
            shutil.rmtree(outdir, ignore_errors=True)
            times.append(ours(subset_new, subset_old, outdir, 2,
                              graph=graph))
        result.append(min(times))
        print(f'  --graph {graph}: '
              + ', '.join(f'{t:.2f} s' for t in times))
    return result


if __name__ == '__main__':
    sys.exit(main())
