"""Fill the unknown cells of NEW from OLD in the binary format."""

import array
import collections
import itertools
import math
import operator
import struct


CELL = 8  # bytes in a cell: one C double
CHUNK_ROWS = 256
isnan = math.isnan
_unpack_cell = struct.Struct('<d').unpack


def segments(new_archive, old_archive):
    """Runs of rows both archives hold, as (new row, old row, count).

    Rows are matched by the time their bucket ends; a run stops where
    either archive wraps around.
    """
    period = new_archive.period
    time = max(new_archive.start, old_archive.start)
    last = min(new_archive.end, old_archive.end)
    while time <= last:
        new_row = new_archive.row_of(time)
        old_row = old_archive.row_of(time)
        count = min(new_archive.rows - new_row, old_archive.rows - old_row,
                    (last - time) // period + 1)
        yield new_row, old_row, count
        time += count * period


def _doubles(data, start, count):
    values = array.array('d')
    values.frombytes(data[start:start + count * CELL])
    return values


def fill(new, out, old, old_data, match):
    """Copy into `out` (NEW's contents) OLD's known cells where NEW's are
    unknown; count them in the ArchiveReports of `match`.

    `new`/`old` are headers. Only whole 8-byte cells are copied, so every
    value keeps its bits.
    """
    new_ds = len(new.data_sources)
    old_ds = len(old.data_sources)
    same_columns = new_ds == old_ds and all(
        n == o for n, o, _ in match.data_sources) and (
        len(match.data_sources) == new_ds)
    old_view = memoryview(old_data)
    for new_archive, old_archive, entry in match.archives:
        for new_row, old_row, count in segments(new_archive, old_archive):
            new_start = new.cell_offset(new_archive, new_row, 0)
            old_start = old.cell_offset(old_archive, old_row, 0)
            if same_columns:
                _fill_rows(out, old_view, new_start, old_start,
                           count * new_ds, entry, match)
            else:
                _fill_columns(
                    out, old_view, new_start, old_start,
                    _doubles(out, new_start, count * new_ds),
                    _doubles(old_data, old_start, count * old_ds),
                    new_ds, old_ds, entry, match)


def _all_unknown(raw):
    """Whether the cells in `raw` are all the same NaN (a cheap memcmp).

    False does not mean some are known: NaNs may differ in their bits.
    """
    first = raw[:CELL]
    return isnan(_unpack_cell(first)[0]) and raw == first * (
        len(raw) // CELL)


def _fill_rows(out, old_view, new_start, old_start, cell_count, entry,
               match):
    """Fast path: both files have the same columns in the same order.

    Works through chunks of rows with tests that run in C (memcmp, sum,
    map, compress): a chunk OLD does not know or NEW knows completely is
    skipped, one NEW does not know at all while OLD knows all of it is
    copied in one go. `sum()` is NaN if any value is NaN (or if inf meets
    -inf: then the exact test decides).
    """
    ds_count = len(match.data_sources)
    chunk = ds_count * CHUNK_ROWS
    counts = [0] * ds_count
    for first in range(0, cell_count, chunk):
        size = min(chunk, cell_count - first)
        begin = first * CELL
        end = begin + size * CELL
        old_raw = bytes(old_view[old_start + begin:old_start + end])
        if _all_unknown(old_raw):
            continue
        new_raw = bytes(out[new_start + begin:new_start + end])
        new_chunk = array.array('d', new_raw)
        if not isnan(sum(new_chunk)):
            continue
        old_chunk = array.array('d', old_raw)
        if (_all_unknown(new_raw) or all(map(isnan, new_chunk))) and (
                not isnan(sum(old_chunk))):
            cells = range(first, first + size)
            for i in range(ds_count):
                counts[i] += size // ds_count
        else:
            cells = list(itertools.compress(
                range(first, first + size),
                map(operator.and_, map(isnan, new_chunk),
                    map(operator.not_, map(isnan, old_chunk)))))
            for i, count in collections.Counter(
                    map(operator.mod, cells, itertools.repeat(ds_count))
            ).items():
                counts[i] += count
        for run_begin, run_end in _runs(cells):
            run_begin, run_end = run_begin * CELL, run_end * CELL
            out[new_start + run_begin:new_start + run_end] = (
                old_view[old_start + run_begin:old_start + run_end])
    for (_, _, name), count in zip(match.data_sources, counts):
        entry.filled[name] += count


def _runs(cells):
    """Runs of adjacent indices in the sorted `cells`, as (begin, end)."""
    if not cells:
        return []
    if isinstance(cells, range):
        return [(cells.start, cells.stop)]
    breaks = list(itertools.compress(
        range(1, len(cells)),
        map(operator.ne, cells[1:], map((1).__add__, cells))))
    starts = [0] + breaks
    ends = breaks + [len(cells)]
    return [(cells[s], cells[e - 1] + 1) for s, e in zip(starts, ends)]


def _fill_columns(out, old_view, new_start, old_start, new_values,
                  old_values, new_ds, old_ds, entry, match):
    for new_index, old_index, name in match.data_sources:
        new_column = new_values[new_index::new_ds]
        old_column = old_values[old_index::old_ds]
        rows = [k for k, (n, o) in enumerate(zip(new_column, old_column))
                if n != n and o == o]
        entry.filled[name] += len(rows)
        for k in rows:
            target = new_start + (k * new_ds + new_index) * CELL
            source = old_start + (k * old_ds + old_index) * CELL
            out[target:target + CELL] = old_view[source:source + CELL]
