"""Draw an RRD before and after a merge with `rrdtool graph`.

One PNG a file: for each data source a line before the merge and one
after it, and the spans the merge filled (unknown before, known after)
marked by orange ticks from top to bottom. The time axis covers the
longest archive of the consolidation function drawn (AVERAGE if there
is one); rrdtool picks the resolution that fits the width.
"""

import contextlib
import os
import tempfile

import gocept.rrdmerge.atomic
import gocept.rrdmerge.errors
import gocept.rrdmerge.rrdfile
import gocept.rrdmerge.rrdtool


WIDTH = 800
HEIGHT = 300
# Colours of a common palette (matplotlib's), one per data source.
COLOURS = ('1f77b4', '2ca02c', '9467bd', '8c564b', 'e377c2', '7f7f7f',
           'bcbd22', '17becf', 'd62728')
FILLED = 'ff7f0e'


def name_for(path):
    """The PNG's name for the RRD `path`: `load.rrd` -> `load.png`."""
    return os.path.splitext(os.path.basename(path))[0] + '.png'


def target(directory, name):
    """The path of the PNG `name` (relative, may hold directories) in
    `directory`, whose missing directories are made.

    Raises `UsageError` if `directory` is a file or the path leads out
    of `directory` through a link.
    """
    directory = os.fspath(directory)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise gocept.rrdmerge.errors.UsageError(
            f'--graph {directory}: is a file, not a directory')
    path = os.path.join(directory, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    top = os.path.realpath(directory)
    real = os.path.realpath(path)
    if os.path.commonpath([top, real]) != top:
        raise gocept.rrdmerge.errors.UsageError(
            f'graph {path}: a link leads out of {directory} (to {real});'
            ' refusing to write there')
    return real


def _escape(text):
    """Escape colons, which separate the fields of graph arguments."""
    return text.replace('\\', '\\\\').replace(':', '\\:')


def arguments(png, before, after, header, title):
    """The `rrdtool graph` arguments; None if NEW has no archive with
    points in time (Holt-Winters only).

    `header` describes NEW: `step`, `last_up`, `data_sources` (`name`)
    and `archives` (`cf`, `pdp_per_row`, `rows`).
    """
    cfs = [a.cf for a in header.archives
           if a.cf in gocept.rrdmerge.rrdfile.TIME_CFS]
    if not cfs:
        return None
    cf = 'AVERAGE' if 'AVERAGE' in cfs else cfs[0]
    span = max(a.rows * a.pdp_per_row * header.step
               for a in header.archives if a.cf == cf)
    end = header.last_up - header.last_up % header.step
    args = ['graph', png, '--imgformat', 'PNG', '--full-size-mode',
            '--width', str(WIDTH), '--height', str(HEIGHT),
            '--start', str(end - span), '--end', str(end),
            '--title', title]
    filled = []
    lines = []
    for i, ds in enumerate(header.data_sources):
        colour = COLOURS[i % len(COLOURS)]
        name = _escape(ds.name)
        args += [f'DEF:b{i}={_escape(before)}:{ds.name}:{cf}',
                 f'DEF:a{i}={_escape(after)}:{ds.name}:{cf}',
                 f'CDEF:f{i}=b{i},UN,a{i},UN,0,1,IF,0,IF']
        filled.append(f'f{i}')
        # After in a light tint below, before on top: where they agree
        # only `before` shows; the light line is what the merge added.
        lines += [f'LINE2:a{i}#{colour}60:{name} after',
                  f'LINE1:b{i}#{colour}:{name} before\\l']
    mask = filled[0] + ''.join(f',{f},MAX' for f in filled[1:])
    args += [f'CDEF:filled={mask}',
             f'TICK:filled#{FILLED}50:1.0: filled by rrdmerge\\l']
    return args + lines


def draw(program, png, before, after, header, title):
    """Write `png` from NEW's contents `before` and `after` the merge
    (bytes, or paths of RRD files), titled `title`; return False if
    there is nothing to draw. The PNG is written beside `png` and
    renamed into place. Raises `RRDToolFailed`.
    """
    with tempfile.TemporaryDirectory(prefix='rrdmerge-graph-') as tmp:
        paths = []
        for name, contents in (('before.rrd', before), ('after.rrd', after)):
            if isinstance(contents, (bytes, bytearray)):
                path = os.path.join(tmp, name)
                with open(path, 'wb') as f:
                    f.write(contents)
                contents = path
            paths.append(contents)
        temp = os.path.join(
            os.path.dirname(png), gocept.rrdmerge.atomic.temp_prefix(png)
            + 'graph.tmp')
        args = arguments(temp, *paths, header, title)
        if args is None:
            return False
        try:
            gocept.rrdmerge.rrdtool.run(program, *args)
            os.replace(temp, png)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
    return True
