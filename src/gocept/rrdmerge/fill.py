"""Fill the unknown cells of NEW from OLD in the binary format."""

import array


CELL = 8  # bytes in a cell: one C double


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
            new_values = _doubles(out, new_start, count * new_ds)
            old_values = _doubles(old_data, old_start, count * old_ds)
            if same_columns:
                _fill_rows(out, old_view, new_start, old_start,
                           new_values, old_values, entry, match)
            else:
                _fill_columns(out, old_view, new_start, old_start,
                              new_values, old_values, new_ds, old_ds,
                              entry, match)


def _fill_rows(out, old_view, new_start, old_start, new_values, old_values,
               entry, match):
    """Fast path: both files have the same columns in the same order."""
    # `x != x` is true for NaN only; it is faster than math.isnan here.
    cells = [i for i, (n, o) in enumerate(zip(new_values, old_values))
             if n != n and o == o]
    if not cells:
        return
    ds_count = len(match.data_sources)
    counts = [0] * ds_count
    for i in cells:
        counts[i % ds_count] += 1
    for (_, _, name), count in zip(match.data_sources, counts):
        entry.filled[name] += count

    def copy(first, last):
        begin, end = first * CELL, (last + 1) * CELL
        out[new_start + begin:new_start + end] = (
            old_view[old_start + begin:old_start + end])

    # Copy runs of adjacent cells in one go.
    first = last = cells[0]
    for i in cells[1:]:
        if i != last + 1:
            copy(first, last)
            first = i
        last = i
    copy(first, last)


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
