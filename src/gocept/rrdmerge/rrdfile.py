"""Read the binary RRD format (rrdtool's rrd_format.h) on x86_64.

An RRD file is the C structs of rrd_format.h written as they are in
memory, so the layout depends on the machine that wrote the file. The
struct formats below spell out the padding gcc puts in on a 64-bit
little-endian machine (`unsigned long` and `time_t` are 8 bytes, doubles
and the `unival` union are 8 bytes and 8-aligned):

=============  =====  ==================================================
struct         bytes  fields (offset)
=============  =====  ==================================================
stat_head_t      128  cookie[4] (0), version[5] (4), 7 pad, float_cookie
                      (16), ds_cnt (24), rra_cnt (32), pdp_step (40),
                      par[10] (48)
ds_def_t         120  ds_nam[20] (0), dst[20] (20), par[10] (40)
rra_def_t        120  cf_nam[20] (0), 4 pad, row_cnt (24), pdp_cnt (32),
                      par[10] (40)
live_head_t       16  last_up (0), last_up_usec (8); version >= 3 only
pdp_prep_t       112  last_ds[30] (0), 2 pad, scratch[10] (32)
cdp_prep_t        80  scratch[10], one per RRA and data source
rra_ptr_t          8  cur_row, one per RRA
=============  =====  ==================================================

Then the values: for each RRA, `row_cnt` rows of `ds_cnt` doubles.
Versions 0003, 0004 and 0005 share this layout (0004 and 0005 only allow
more consolidation functions and data source types). Version 0001 and
0002 files have an 8-byte live head; they, files from other machines and
anything else this module cannot account for byte by byte raise
`UnsupportedLayout`, and the caller goes the slower text route.
"""

import dataclasses
import math
import os
import stat
import struct
import sys

import gocept.rrdmerge.errors


COOKIE = b'RRD\0'
FLOAT_COOKIE = 8.642135E130
LAYOUT_VERSIONS = ('0003', '0004', '0005')
# Consolidation functions whose rows are points in time; the others
# (Holt-Winters) hold seasonal state indexed by position in a cycle.
TIME_CFS = ('AVERAGE', 'MIN', 'MAX', 'LAST')
KNOWN_CFS = TIME_CFS + (
    'HWPREDICT', 'SEASONAL', 'DEVPREDICT', 'DEVSEASONAL', 'FAILURES',
    'MHWPREDICT')
KNOWN_DSTS = (
    'COUNTER', 'ABSOLUTE', 'GAUGE', 'DERIVE', 'COMPUTE', 'DCOUNTER',
    'DDERIVE')

STAT_HEAD = struct.Struct('<4s5s7xdQQQ80x')
DS_DEF = struct.Struct('<20s20sQdd56x')
RRA_DEF = struct.Struct('<20s4xQQd72x')
LIVE_HEAD = struct.Struct('<qq')
PDP_PREP = struct.Struct('<30s2xQd64x')
CDP_PREP = struct.Struct('<dQ64x')
RRA_PTR = struct.Struct('<Q')
VALUE = struct.Struct('<d')

# A sanity bound so a corrupt count fails fast instead of allocating GBs.
MAX_COUNT = 1 << 24


@dataclasses.dataclass(frozen=True)
class DataSource:
    """One data source (`ds_def_t` plus its `pdp_prep_t`)."""

    index: int
    name: str
    type: str
    heartbeat: int
    min: float
    max: float
    last_ds: str
    unknown_sec: int


@dataclasses.dataclass(frozen=True)
class Archive:
    """One round robin archive (`rra_def_t`, its cdp_preps and row pointer).

    `offset` is the byte offset of its first row in the file.
    """

    index: int
    cf: str
    rows: int
    pdp_per_row: int
    xff: float
    cur_row: int
    offset: int
    period: int
    end: int
    cdp_values: tuple
    cdp_unknown: tuple

    @property
    def key(self):
        """What RRAs are matched by: consolidation function and pdp_per_row.
        """
        return (self.cf, self.pdp_per_row)

    @property
    def start(self):
        """Time of the oldest row."""
        return self.end - (self.rows - 1) * self.period

    def row_of(self, time):
        """Index of the row holding the bucket that ends at `time`."""
        return (self.cur_row - (self.end - time) // self.period) % self.rows

    def time_of(self, row):
        """End time of the bucket held in `row`."""
        return self.end - ((self.cur_row - row) % self.rows) * self.period


@dataclasses.dataclass(frozen=True)
class Header:
    """The parsed header of an RRD file."""

    path: str
    version: str
    step: int
    last_up: int
    last_up_usec: int
    data_sources: tuple
    archives: tuple
    header_size: int
    file_size: int

    @property
    def ds_names(self):
        return tuple(ds.name for ds in self.data_sources)

    def cell_offset(self, archive, row, ds_index):
        """Byte offset of one 8-byte value."""
        return archive.offset + (
            row * len(self.data_sources) + ds_index) * VALUE.size


def _text(raw, what, path):
    text = raw.split(b'\0', 1)[0]
    try:
        return text.decode('ascii')
    except UnicodeDecodeError:
        raise gocept.rrdmerge.errors.NotAnRRD(
            f'{path}: not a valid RRD file ({what} is not ASCII)')


def _native():
    """Whether this machine lays out the structs as x86_64 does."""
    return sys.byteorder == 'little' and struct.calcsize('P') == 8


def _machine(head):
    """Describe the machine that wrote the stat_head `head`, if it is not
    one with x86_64's layout; None if it is.

    The float cookie (a known double) is where the C compiler put it: at
    offset 16 on 64-bit machines and 32-bit ones that align doubles to 8
    bytes (ARM EABI), at 12 on 32-bit x86. Its byte order shows the
    machine's. Behind it, 32-bit machines have 4-byte counts.
    """
    if struct.unpack_from('<d', head, 16)[0] == FLOAT_COOKIE:
        ds_cnt, rra_cnt = struct.unpack_from('<QQ', head, 24)
        if ds_cnt >> 32 and 0 < ds_cnt & 0xffffffff < MAX_COUNT:
            return 'a 32-bit little-endian machine such as ARM'
        return None
    if struct.unpack_from('>d', head, 16)[0] == FLOAT_COOKIE:
        return 'a big-endian machine such as PowerPC, SPARC or s390x'
    if struct.unpack_from('<d', head, 12)[0] == FLOAT_COOKIE:
        return 'a 32-bit x86 machine'
    if struct.unpack_from('>d', head, 12)[0] == FLOAT_COOKIE:
        return 'a 32-bit big-endian machine'
    return 'an unknown machine (no float cookie where one belongs)'


def _check_stat_head(data, size, path):
    """Check the stat_head at the start of `data` (of a file of `size`
    bytes); return (version, ds_cnt, rra_cnt, step, header_size)."""
    NotAnRRD = gocept.rrdmerge.errors.NotAnRRD
    UnsupportedLayout = gocept.rrdmerge.errors.UnsupportedLayout
    if len(data) < STAT_HEAD.size or bytes(data[:4]) != COOKIE:
        raise NotAnRRD(f'{path}: not an RRD file (no RRD cookie)')
    if not _native():
        raise UnsupportedLayout(
            'the binary reader knows the x86_64 layout only')
    version = _text(data[4:9], 'the version', path)
    if not (len(version) == 4 and version.isdigit()):
        raise NotAnRRD(f'{path}: not an RRD file (version {version!r})')
    machine = _machine(data)
    if machine is not None:
        raise gocept.rrdmerge.errors.OtherArchitecture(
            f'{path}: written on another architecture ({machine});'
            ' this machine\'s rrdtool cannot read it either. Run'
            ' `rrdtool dump FILE > FILE.xml` on the machine that wrote it'
            ' (or one like it), then `rrdtool restore FILE.xml FILE` here')
    _, _, _, ds_cnt, rra_cnt, step = STAT_HEAD.unpack_from(data, 0)
    if version not in LAYOUT_VERSIONS:
        raise UnsupportedLayout(
            f'{path}: RRD format version {version} has another layout')
    if not (0 < ds_cnt < MAX_COUNT and 0 < rra_cnt < MAX_COUNT and step):
        raise NotAnRRD(
            f'{path}: broken RRD header ({ds_cnt} data sources,'
            f' {rra_cnt} RRAs, step {step}: counts out of range)')
    header_size = (
        STAT_HEAD.size + ds_cnt * (DS_DEF.size + PDP_PREP.size)
        + rra_cnt * (RRA_DEF.size + RRA_PTR.size + ds_cnt * CDP_PREP.size)
        + LIVE_HEAD.size)
    if header_size > size:
        raise NotAnRRD(
            f'{path}: truncated RRD file ({size} bytes, its header'
            f' alone needs {header_size})')
    return version, ds_cnt, rra_cnt, step, header_size


def _file_size(data, ds_cnt, rra_cnt):
    """The size the RRA definitions in `data` (the header) call for."""
    offset = STAT_HEAD.size + ds_cnt * DS_DEF.size
    total = 0
    for i in range(rra_cnt):
        _, rows, _, _ = RRA_DEF.unpack_from(data, offset + i * RRA_DEF.size)
        total += rows
    return total * ds_cnt * VALUE.size


def _check_size(size, value_offset, path):
    if value_offset > size:
        raise gocept.rrdmerge.errors.NotAnRRD(
            f'{path}: truncated RRD file ({size} bytes, its header'
            f' needs {value_offset})')
    if value_offset != size:
        raise gocept.rrdmerge.errors.UnsupportedLayout(
            f'{path}: {size - value_offset} bytes more than the header'
            ' accounts for')


def parse(data, path='<bytes>'):
    """Parse and check the header of the RRD file contents `data`.

    Raises `NotAnRRD` for something that is no RRD or a broken one,
    `OtherArchitecture` (a `NotAnRRD`) for one written on a machine with
    another layout, and `UnsupportedLayout` for an RRD whose layout this
    module does not know (rrdtool here may still read it).
    """
    NotAnRRD = gocept.rrdmerge.errors.NotAnRRD
    size = len(data)
    version, ds_cnt, rra_cnt, step, header_size = _check_stat_head(
        data, size, path)

    offset = STAT_HEAD.size
    ds_defs = []
    for i in range(ds_cnt):
        ds_defs.append(DS_DEF.unpack_from(data, offset))
        offset += DS_DEF.size
    rra_defs = []
    for i in range(rra_cnt):
        rra_defs.append(RRA_DEF.unpack_from(data, offset))
        offset += RRA_DEF.size
    last_up, last_up_usec = LIVE_HEAD.unpack_from(data, offset)
    offset += LIVE_HEAD.size
    pdp_preps = []
    for i in range(ds_cnt):
        pdp_preps.append(PDP_PREP.unpack_from(data, offset))
        offset += PDP_PREP.size
    cdp_preps = []
    for i in range(rra_cnt * ds_cnt):
        cdp_preps.append(CDP_PREP.unpack_from(data, offset))
        offset += CDP_PREP.size
    cur_rows = []
    for i in range(rra_cnt):
        cur_rows.append(RRA_PTR.unpack_from(data, offset)[0])
        offset += RRA_PTR.size

    data_sources = []
    for i, ((name, dst, heartbeat, min_, max_),
            (last_ds, unknown_sec, _)) in enumerate(
                zip(ds_defs, pdp_preps)):
        dst = _text(dst, 'a data source type', path)
        if dst not in KNOWN_DSTS:
            raise NotAnRRD(f'{path}: unknown data source type {dst!r}')
        data_sources.append(DataSource(
            index=i, name=_text(name, 'a data source name', path),
            type=dst, heartbeat=heartbeat, min=min_, max=max_,
            last_ds=_text(last_ds, 'last_ds', path),
            unknown_sec=unknown_sec))

    archives = []
    value_offset = header_size
    for i, (cf, rows, pdp_per_row, xff) in enumerate(rra_defs):
        cf = _text(cf, 'a consolidation function', path)
        if cf not in KNOWN_CFS or not (0 < rows < MAX_COUNT) or (
                not 0 < pdp_per_row < MAX_COUNT) or cur_rows[i] >= rows:
            raise NotAnRRD(f'{path}: broken definition of RRA {i}')
        period = step * pdp_per_row
        preps = cdp_preps[i * ds_cnt:(i + 1) * ds_cnt]
        archives.append(Archive(
            index=i, cf=cf, rows=rows, pdp_per_row=pdp_per_row, xff=xff,
            cur_row=cur_rows[i], offset=value_offset, period=period,
            end=last_up - last_up % period,
            cdp_values=tuple(p[0] for p in preps),
            cdp_unknown=tuple(p[1] for p in preps)))
        value_offset += rows * ds_cnt * VALUE.size

    _check_size(size, value_offset, path)
    return Header(
        path=str(path), version=version, step=step, last_up=last_up,
        last_up_usec=last_up_usec, data_sources=tuple(data_sources),
        archives=tuple(archives), header_size=header_size, file_size=size)


_KINDS = (
    (stat.S_ISDIR, 'a directory'), (stat.S_ISFIFO, 'a FIFO (named pipe)'),
    (stat.S_ISSOCK, 'a socket'), (stat.S_ISCHR, 'a character device'),
    (stat.S_ISBLK, 'a block device'))


def kind(mode):
    """What a file of `mode` is, if not a regular file; else None."""
    if stat.S_ISREG(mode):
        return None
    for test, name in _KINDS:
        if test(mode):
            return name
    return 'not a regular file'


def open_regular(path, label=None):
    """Open `path` for reading; return the file descriptor.

    Raises `InputNotFound` if there is nothing at `path` and `NotAnRRD`
    if it cannot be read or is no regular file. The open does not block
    on a FIFO (O_NONBLOCK), and the kind is checked on the open file, so
    nothing can be swapped in between.
    """
    name = f'{label} {path}' if label else f'{path}'
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise gocept.rrdmerge.errors.InputNotFound(
            f'{name}: no such file') from None
    except OSError as e:
        raise gocept.rrdmerge.errors.NotAnRRD(
            f'{name}: cannot read: {e.strerror}') from None
    what = kind(os.fstat(fd).st_mode)
    if what is not None:
        os.close(fd)
        raise gocept.rrdmerge.errors.NotAnRRD(
            f'{name}: is {what}, not an RRD file')
    return fd


def _pread(fd, count, path):
    chunks = []
    offset = 0
    while offset < count:
        chunk = os.pread(fd, min(count - offset, 1 << 24), offset)
        if not chunk:
            raise gocept.rrdmerge.errors.NotAnRRD(
                f'{path}: shrank while being read')
        chunks.append(chunk)
        offset += len(chunk)
    return b''.join(chunks)


def read_fd(fd, path):
    """Return (header, contents) of the RRD file open at `fd`.

    The header is read and checked first, then exactly the bytes it
    accounts for: a huge file that is no RRD (or one with a small header
    and gigabytes behind it) costs a few kilobytes, not its size.
    """
    size = os.fstat(fd).st_size
    head = _pread(fd, min(size, STAT_HEAD.size), path)
    _, ds_cnt, rra_cnt, _, header_size = _check_stat_head(head, size, path)
    head = _pread(fd, header_size, path)
    _check_size(size, header_size + _file_size(head, ds_cnt, rra_cnt), path)
    data = _pread(fd, size, path)  # the header again: cheaper than a join
    return parse(data, path), data


def read(path, label=None):
    """Return (header, contents) of the RRD file at `path`.

    `label` ('OLD', 'NEW') goes into error messages before the path.
    """
    fd = open_regular(path, label)
    try:
        return read_fd(fd, path)
    finally:
        os.close(fd)


def values(header, data, archive):
    """All values of `archive` as {time: (value, ...)} (for tests, docs).
    """
    ds_cnt = len(header.data_sources)
    row_format = struct.Struct(f'<{ds_cnt}d')
    result = {}
    for row in range(archive.rows):
        result[archive.time_of(row)] = row_format.unpack_from(
            data, archive.offset + row * row_format.size)
    return result


def raw_cells(header, data, archive):
    """All cells of `archive` as {(time, ds_name): 8 raw bytes}."""
    result = {}
    for row in range(archive.rows):
        time = archive.time_of(row)
        for ds in header.data_sources:
            offset = header.cell_offset(archive, row, ds.index)
            result[time, ds.name] = bytes(data[offset:offset + VALUE.size])
    return result


def is_unknown(raw):
    """Whether the 8 raw bytes of a cell hold NaN (rrdtool's unknown)."""
    return math.isnan(VALUE.unpack(raw)[0])
