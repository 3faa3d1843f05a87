"""Test support: make real RRD files with rrdtool, and a layer.

`RRD_LAYER` provides the resources

- `rrdtool`: path of the rrdtool program (setUp fails if there is none),
- `rrd_tmpdir`: a fresh, empty directory for every test.
"""

import math
import os
import random
import shutil
import subprocess
import tempfile

import plone.testing

import gocept.rrdmerge.rrdfile
import gocept.rrdmerge.rrdtool


DATA_SOURCES = ('1', '2', '3')
CFS = ('AVERAGE', 'MAX', 'MIN')
# pnp4nagios' default RRAs: 2 days of minutes, 10 days of 5 minutes,
# 90 days of half hours, 4 years of 6 hours.
PNP_ARCHIVES = tuple(
    f'RRA:{cf}:0.5:{resolution}'
    for resolution in ('1:2880', '5:2880', '30:4320', '360:5840')
    for cf in CFS)
# The same resolutions, fewer rows, plus LAST: quick to make and to check.
SMALL_ARCHIVES = tuple(
    f'RRA:{cf}:0.5:{resolution}'
    for resolution in ('1:600', '5:600', '30:300', '360:100')
    for cf in CFS + ('LAST',))
# Arguments per `rrdtool update` call: far below the kernel's limits.
UPDATE_BATCH = 20000


def create(path, start, step=60, data_sources=DATA_SOURCES,
           archives=SMALL_ARCHIVES, ds_type='GAUGE', rrdtool='rrdtool'):
    """Create an RRD whose first update may come after `start`."""
    subprocess.run(
        [rrdtool, 'create', str(path), '--start', str(start),
         '--step', str(step)]
        + [f'DS:{name}:{ds_type}:{2 * step}:U:U' for name in data_sources]
        + list(archives), check=True)


def update(path, rows, rrdtool='rrdtool'):
    """Feed `rows`, a sequence of (time, (value or None, ...))."""
    args = [
        '{}:{}'.format(
            time, ':'.join('U' if v is None else repr(v) for v in values))
        for time, values in rows]
    for i in range(0, len(args), UPDATE_BATCH):
        result = subprocess.run(
            [rrdtool, 'update', str(path)] + args[i:i + UPDATE_BATCH],
            capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f'rrdtool update failed: {result.stderr}')


def fetch(path, cf, resolution, start, end, rrdtool='rrdtool'):
    """`rrdtool fetch` as {time: (float, ...)} (NaN for unknown)."""
    output = subprocess.run(
        [rrdtool, 'fetch', str(path), cf, '-r', str(resolution),
         '-s', str(start), '-e', str(end)],
        check=True, capture_output=True, text=True).stdout
    result = {}
    for line in output.splitlines():
        if ':' not in line:
            continue
        time, values = line.split(':', 1)
        result[int(time)] = tuple(
            float(v.replace('-nan', 'nan')) for v in values.split())
    return result


def fetch_disagreements(path, rrdtool='rrdtool'):
    """Cells where `rrdtool fetch` and the binary reader disagree.

    fetch prints 10 significant digits, so values are compared as printed;
    unknown must be unknown on both sides. Returns [(rra, time, ds)].
    """
    header, data = gocept.rrdmerge.rrdfile.read(path)
    wrong = []
    for archive in header.archives:
        ours = gocept.rrdmerge.rrdfile.values(header, data, archive)
        # fetch returns the rows after its start, so start a row early.
        theirs = fetch(path, archive.cf, archive.period,
                       archive.start - archive.period, archive.end,
                       rrdtool=rrdtool)
        for time, values in ours.items():
            fetched = theirs.get(time, (None,) * len(values))
            for ds, mine, other in zip(header.ds_names, values, fetched):
                if other is None or (
                        math.isnan(mine) != math.isnan(other)) or (
                        not math.isnan(mine)
                        and float('%.10e' % mine) != other):
                    wrong.append((archive.index, time, ds))
    return wrong


def cells(path):
    """{(rra index, time, ds name): 8 raw bytes} of every cell of `path`.
    """
    header, data = gocept.rrdmerge.rrdfile.read(path)
    result = {}
    for archive in header.archives:
        for (time, ds), raw in gocept.rrdmerge.rrdfile.raw_cells(
                header, data, archive).items():
            result[archive.index, time, ds] = raw
    return result


def _old_cells(new_header, archive, old_path):
    """{(time, ds): raw} of the RRA of OLD that matches NEW's `archive`,
    for the data sources of the same name and type."""
    old_header, old_data = gocept.rrdmerge.rrdfile.read(old_path)
    if old_header.step != new_header.step:
        return {}
    old_types = {ds.name: ds.type for ds in old_header.data_sources}
    comparable = {ds.name for ds in new_header.data_sources
                  if old_types.get(ds.name) == ds.type}
    same = [a for a in old_header.archives
            if (a.cf, a.pdp_per_row) == (archive.cf, archive.pdp_per_row)]
    same = [a for a in same if a.xff == archive.xff] or same
    if not same:
        return {}
    longest = max(a.rows for a in same)
    other = [a for a in same if a.rows == longest][0]
    return {key: raw for key, raw in gocept.rrdmerge.rrdfile.raw_cells(
        old_header, old_data, other).items() if key[1] in comparable}


def ideal_merge(new_path, *old_paths):
    """The cells a perfect merge of the OLDs into NEW has: the test oracle.

    A cell of NEW that is unknown takes the cell of the first OLD (in the
    order given) that knows it, from that OLD's RRA with the same
    consolidation function and pdp_per_row (of several: the one with the
    same xff, then the longest), for the same data source (same name and
    type) and time; every other cell keeps NEW's bytes. Holt-Winters RRAs
    are left alone.
    """
    new_header, new_data = gocept.rrdmerge.rrdfile.read(new_path)
    result = {}
    for archive in new_header.archives:
        olds = []
        if archive.cf in gocept.rrdmerge.rrdfile.TIME_CFS:
            olds = [_old_cells(new_header, archive, path)
                    for path in old_paths]
        for (time, ds), raw in gocept.rrdmerge.rrdfile.raw_cells(
                new_header, new_data, archive).items():
            if gocept.rrdmerge.rrdfile.is_unknown(raw):
                for cells in olds:
                    other = cells.get((time, ds))
                    if other and not gocept.rrdmerge.rrdfile.is_unknown(
                            other):
                        raw = other
                        break
            result[archive.index, time, ds] = raw
    return result


class RRDLayer(plone.testing.Layer):
    """rrdtool and a temp directory per test."""

    def setUp(self):
        self['rrdtool'] = gocept.rrdmerge.rrdtool.find()
        self._base = tempfile.mkdtemp(prefix='gocept.rrdmerge.test-')

    def tearDown(self):
        shutil.rmtree(self._base, ignore_errors=True)
        del self._base
        del self['rrdtool']

    def testSetUp(self):
        self['rrd_tmpdir'] = tempfile.mkdtemp(dir=self._base)

    def testTearDown(self):
        shutil.rmtree(self['rrd_tmpdir'], ignore_errors=True)
        del self['rrd_tmpdir']


RRD_LAYER = RRDLayer(name='RRDLayer', module=__name__)


def pnp_pair(directory, seed=0, new_name='new.rrd', old_name='old.rrd',
             archives=SMALL_ARCHIVES, old_days=12, outage=3 * 3600 + 17 * 60,
             new_hours=6, overlap=3600, rrdtool='rrdtool'):
    """An OLD and a NEW RRD like a rebuilt pnp4nagios server leaves them.

    OLD has `old_days` of data (with zeros, negative values and a few
    unknown minutes), then an outage of `outage` seconds whose edges do
    not fall on coarse bucket boundaries, then NEW has `new_hours` of
    data (again with zeros and unknown minutes). The old server ran on
    for the first `overlap` seconds of NEW's data, with other values:
    those cells are known in both files, and NEW's must win. Returns
    (new, old).
    """
    rnd = random.Random(seed)
    step = 60
    # An hour boundary plus 7 minutes: not on a 30 or 360 minute edge.
    old_start = 1700000000 - 1700000000 % 3600 + 7 * 60
    old_end = old_start + old_days * 86400
    new_start = old_end + outage - outage % step
    new_end = new_start + new_hours * 3600

    def rows(begin, end):
        result = []
        for time in range(begin, end, step):
            minute = (time - begin) // step
            if minute % 97 == 13:
                values = (None,) * len(DATA_SOURCES)
            elif 120 <= minute % 1000 < 150:
                values = (0.0,) * len(DATA_SOURCES)
            else:
                values = (rnd.uniform(0, 100), rnd.uniform(-1e6, 1e6),
                          rnd.random() / 3)
            result.append((time, values))
        return result

    old = os.path.join(directory, old_name)
    new = os.path.join(directory, new_name)
    create(old, old_start - step, archives=archives, rrdtool=rrdtool)
    update(old, rows(old_start, old_end)
           + rows(new_start, new_start + overlap), rrdtool=rrdtool)
    create(new, new_start - step, archives=archives, rrdtool=rrdtool)
    update(new, rows(new_start, new_end), rrdtool=rrdtool)
    return new, old
