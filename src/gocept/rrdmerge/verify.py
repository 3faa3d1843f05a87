"""Check the binary reader's view of a header against `rrdtool info`.

The layout of the C structs is a property of the machine and the format
version, not of a single file, so by default it is checked once per
process and format version; `always=True` checks every file.
"""

import math
import re

import gocept.rrdmerge.errors
import gocept.rrdmerge.rrdtool


INFO_LINE = re.compile(r'^(\S+) = (.*)$')
_verified_versions = set()


def info(program, path):
    """`rrdtool info` as a dict of key to text value (quotes removed)."""
    result = {}
    output = gocept.rrdmerge.rrdtool.run(program, 'info', str(path))
    for line in output.splitlines():
        match = INFO_LINE.match(line)
        if match:
            key, value = match.groups()
            if value.startswith('"') and value.endswith('"'):
                value = value[1:-1]
            result[key] = value
    return result


def _same_number(text, value):
    number = float(text)
    if math.isnan(value) or math.isnan(number):
        return math.isnan(value) and math.isnan(number)
    # rrdtool info prints 10 or 11 significant digits.
    return math.isclose(number, value, rel_tol=1e-9, abs_tol=1e-300)


def expected(header):
    """What `rrdtool info` must say about `header`: {key: check}."""
    checks = {
        'rrd_version': header.version,
        'step': str(header.step),
        'last_update': str(header.last_up),
        'header_size': str(header.header_size),
    }
    for ds in header.data_sources:
        prefix = f'ds[{ds.name}].'
        checks[prefix + 'index'] = str(ds.index)
        checks[prefix + 'type'] = ds.type
        if ds.type != 'COMPUTE':
            checks[prefix + 'minimal_heartbeat'] = str(ds.heartbeat)
            checks[prefix + 'min'] = ds.min
            checks[prefix + 'max'] = ds.max
        checks[prefix + 'last_ds'] = ds.last_ds
        checks[prefix + 'unknown_sec'] = str(ds.unknown_sec)
    for rra in header.archives:
        prefix = f'rra[{rra.index}].'
        checks[prefix + 'cf'] = rra.cf
        checks[prefix + 'rows'] = str(rra.rows)
        checks[prefix + 'cur_row'] = str(rra.cur_row)
        checks[prefix + 'pdp_per_row'] = str(rra.pdp_per_row)
        if rra.cf in ('AVERAGE', 'MIN', 'MAX', 'LAST'):
            checks[prefix + 'xff'] = rra.xff
            for i, (value, unknown) in enumerate(
                    zip(rra.cdp_values, rra.cdp_unknown)):
                checks[f'{prefix}cdp_prep[{i}].value'] = value
                checks[f'{prefix}cdp_prep[{i}].unknown_datapoints'] = (
                    str(unknown))
    return checks


def disagreements(header, info):
    """Keys where `info` (from `rrdtool info`) disagrees with `header`."""
    result = []
    for key, want in expected(header).items():
        have = info.get(key)
        if have is None:
            result.append(key)
        elif isinstance(want, float):
            try:
                if not _same_number(have, want):
                    result.append(key)
            except ValueError:
                result.append(key)
        elif have != want:
            result.append(key)
    return result


def verify(program, header, always=False):
    """Raise `UnsupportedLayout` unless `rrdtool info` agrees with `header`.
    """
    if not always and header.version in _verified_versions:
        return
    wrong = disagreements(header, info(program, header.path))
    if wrong:
        raise gocept.rrdmerge.errors.UnsupportedLayout(
            f'{header.path}: rrdtool info disagrees with the binary'
            f' reader on {", ".join(wrong[:5])}')
    _verified_versions.add(header.version)
