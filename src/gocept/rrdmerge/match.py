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


def match(new, old, report, source):
    """Match `new` and `old`; note in `source` (the `SourceReport` of
    `old`) what cannot be matched, and in `report` one `ArchiveReport`
    per archive of NEW (made by the first call, updated by later ones
    for further OLDs). `new` and `old` may carry `last_up` (their last
    update): if NEW's is older, the arguments look swapped.
    """
    old_ds = {ds.name: ds for ds in old.data_sources}
    new_names = {ds.name for ds in new.data_sources}
    data_sources = []
    for ds in new.data_sources:
        other = old_ds.get(ds.name)
        if other is None:
            source.data_sources_only_in_new.append(ds.name)
        elif other.type != ds.type:
            # A COUNTER's rate and a GAUGE's value are different things.
            source.type_mismatches.append((ds.name, ds.type, other.type))
        else:
            data_sources.append((ds.index, other.index, ds.name))
    source.data_sources_only_in_old.extend(
        ds.name for ds in old.data_sources if ds.name not in new_names)
    if new.step != old.step:
        source.step_mismatch = (new.step, old.step)
    new_last, old_last = (getattr(new, 'last_up', None),
                          getattr(old, 'last_up', None))
    if None not in (new_last, old_last) and new_last < old_last:
        source.swapped = (new_last, old_last)

    old_by_key = {}
    for archive in old.archives:
        old_by_key.setdefault(
            (archive.cf, archive.pdp_per_row), []).append(archive)
    new_keys = {(a.cf, a.pdp_per_row) for a in new.archives}
    source.archives_only_in_old.extend(
        key for key in old_by_key if key not in new_keys)

    if not report.archives:
        for archive in new.archives:
            entry = gocept.rrdmerge.report.ArchiveReport(
                index=archive.index, cf=archive.cf,
                pdp_per_row=archive.pdp_per_row, rows=archive.rows,
                status='only in NEW', reason='left alone')
            if archive.cf not in gocept.rrdmerge.rrdfile.TIME_CFS:
                entry.status = 'skipped'
                entry.reason = 'Holt-Winters rows are not points in time'
            report.archives.append(entry)

    archives = []
    for archive, entry in zip(new.archives, report.archives):
        candidates = old_by_key.get((archive.cf, archive.pdp_per_row))
        if archive.cf not in gocept.rrdmerge.rrdfile.TIME_CFS or (
                not candidates):
            continue
        if source.step_mismatch:
            if entry.status == 'only in NEW':
                entry.status, entry.reason = 'skipped', 'step differs'
            continue
        # Only one: two archives with different xff disagree on which
        # buckets are known, and mixing them would invent values.
        other = min(candidates, key=lambda a: (a.xff != archive.xff,
                                               -a.rows, a.index))
        if entry.status != 'merged':
            entry.status, entry.reason = 'merged', None
            entry.old_index = other.index
        for _, _, name in data_sources:
            entry.filled.setdefault(name, 0)
        archives.append((archive, other, entry))
    return Match(archives=archives, data_sources=data_sources)
