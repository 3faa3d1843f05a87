"""Match the RRAs and data sources of NEW and OLD; report the rest.

Shared by the binary and the text route: both describe a file with an
object that has `step`, `data_sources` (with `index`, `name`, `type`)
and `archives` (with `index`, `cf`, `pdp_per_row`, `xff`, `rows`).
"""

import dataclasses

import gocept.rrdmerge.report
import gocept.rrdmerge.rrdfile


@dataclasses.dataclass
class Match:
    """What to fill: pairs of archives and pairs of data sources.

    `archives` holds (new archive, old archive, ArchiveReport): the old
    one has the same consolidation function and pdp_per_row; if OLD has
    several, the one with the same xff, then the one with the most rows.
    `data_sources` holds (new index, old index, name).
    """

    archives: list
    data_sources: list


def match(new, old, report):
    """Match `new` and `old`, note in `report` what cannot be matched."""
    old_ds = {ds.name: ds for ds in old.data_sources}
    new_names = {ds.name for ds in new.data_sources}
    data_sources = []
    for ds in new.data_sources:
        other = old_ds.get(ds.name)
        if other is None:
            report.data_sources_only_in_new.append(ds.name)
        elif other.type != ds.type:
            # A COUNTER's rate and a GAUGE's value are different things.
            report.type_mismatches.append((ds.name, ds.type, other.type))
        else:
            data_sources.append((ds.index, other.index, ds.name))
    report.data_sources_only_in_old.extend(
        ds.name for ds in old.data_sources if ds.name not in new_names)

    if new.step != old.step:
        report.step_mismatch = (new.step, old.step)

    old_by_key = {}
    for archive in old.archives:
        old_by_key.setdefault(
            (archive.cf, archive.pdp_per_row), []).append(archive)
    new_keys = {(a.cf, a.pdp_per_row) for a in new.archives}
    report.archives_only_in_old.extend(
        key for key in old_by_key if key not in new_keys)

    archives = []
    for archive in new.archives:
        key = (archive.cf, archive.pdp_per_row)
        entry = gocept.rrdmerge.report.ArchiveReport(
            index=archive.index, cf=archive.cf,
            pdp_per_row=archive.pdp_per_row, rows=archive.rows,
            status='merged')
        report.archives.append(entry)
        candidates = old_by_key.get(key)
        if archive.cf not in gocept.rrdmerge.rrdfile.TIME_CFS:
            entry.status = 'skipped'
            entry.reason = 'Holt-Winters rows are not points in time'
        elif not candidates:
            entry.status = 'only in NEW'
            entry.reason = 'left alone'
        elif report.step_mismatch:
            entry.status = 'skipped'
            entry.reason = 'step differs'
        else:
            # Only one: two archives with different xff disagree on which
            # buckets are known, and mixing them would invent values.
            other = min(candidates, key=lambda a: (a.xff != archive.xff,
                                                   -a.rows, a.index))
            entry.old_index = other.index
            entry.filled = {name: 0 for _, _, name in data_sources}
            archives.append((archive, other, entry))
    return Match(archives=archives, data_sources=data_sources)
