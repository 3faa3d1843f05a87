"""What a merge did: reports for one file and for a tree."""

import dataclasses


TEXT_NOTE = (
    'values went through text: rrdtool dump prints 10 significant'
    ' digits, so known values may have changed in their last bits')


@dataclasses.dataclass
class ArchiveReport:
    """One RRA of NEW and what was filled into it.

    `status` is 'merged' (matched in an OLD by consolidation function
    and pdp_per_row; `old_index` is its index in the first OLD that has
    it), 'only in NEW' (no such RRA in any OLD) or 'skipped' (see
    `reason`). `filled` maps each data source name to the number of cells
    filled from all OLDs (or, in a dry run, that would be filled).
    """

    index: int
    cf: str
    pdp_per_row: int
    rows: int
    status: str
    old_index: int = None
    reason: str = None
    filled: dict = dataclasses.field(default_factory=dict)

    @property
    def cells_filled(self):
        return sum(self.filled.values())

    def __str__(self):
        name = f'RRA {self.index} {self.cf} {self.pdp_per_row}:{self.rows}'
        if self.status != 'merged':
            reason = f' ({self.reason})' if self.reason else ''
            return f'{name}: {self.status}{reason}'
        per_ds = ', '.join(
            f'{ds}: {count}' for ds, count in self.filled.items())
        return f'{name}: {self.cells_filled} cells filled ({per_ds})'


@dataclasses.dataclass
class SourceReport:
    """One OLD of a merge: what it gave and what did not match.

    `number` is its place among the OLDs (1 for the first). A cell comes
    from the first OLD that knows it, so `cells_filled` counts the cells
    this OLD knew and no OLD before it. `swapped` is (NEW's last update,
    OLD's last update) when NEW's is older: the arguments look swapped.
    """

    old: str
    number: int = 1
    cells_filled: int = 0
    archives_only_in_old: list = dataclasses.field(default_factory=list)
    data_sources_only_in_new: list = dataclasses.field(default_factory=list)
    data_sources_only_in_old: list = dataclasses.field(default_factory=list)
    type_mismatches: list = dataclasses.field(default_factory=list)
    step_mismatch: tuple = None
    swapped: tuple = None

    def warnings(self):
        """Lines about this OLD: what was left out, swapped arguments."""
        return self._first_warnings() + self._other_warnings()

    def _first_warnings(self):
        lines = []
        if self.swapped:
            lines.append(
                'NEW was last updated at {}, before OLD at {}: are NEW'
                ' and OLD swapped? NEW is the live file to fill, OLD the'
                ' backup'.format(*self.swapped))
        if self.step_mismatch:
            lines.append(
                'step differs: NEW {} s, OLD {} s; nothing filled'.format(
                    *self.step_mismatch))
        return lines

    def _other_warnings(self):
        lines = []
        for cf, pdp_per_row in self.archives_only_in_old:
            lines.append(
                f'RRA {cf} pdp_per_row={pdp_per_row} only in OLD: left out')
        for name in self.data_sources_only_in_new:
            lines.append(f'data source {name!r} only in NEW: left alone')
        for name in self.data_sources_only_in_old:
            lines.append(f'data source {name!r} only in OLD: left out')
        for name, new_type, old_type in self.type_mismatches:
            lines.append(
                f'data source {name!r} is {new_type} in NEW and'
                f' {old_type} in OLD: left alone')
        return lines


def _union(lists):
    result = []
    for items in lists:
        result.extend(item for item in items if item not in result)
    return result


@dataclasses.dataclass
class MergeReport:
    """What `merge()` did (or, with `dry_run`, would do) for one file.

    `old` is the first OLD; `sources` holds a `SourceReport` for each
    OLD in the order given. `method` is 'binary' (cells patched in
    place, bit for bit) or 'text' (the `rrdtool dump`/`restore`
    fallback; `notes` says why). `written` tells whether `out` was
    (re)written. The `..._only_in_old`, `type_mismatches` and
    `step_mismatch` attributes sum up all OLDs; `data_sources_only_in_new`
    lists the data sources no OLD has.
    """

    new: str
    old: str
    out: str
    dry_run: bool = False
    method: str = 'binary'
    written: bool = False
    archives: list = dataclasses.field(default_factory=list)
    sources: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)

    @property
    def cells_filled(self):
        """Cells filled in all RRAs (would be filled, in a dry run)."""
        return sum(a.cells_filled for a in self.archives)

    @property
    def olds(self):
        return [source.old for source in self.sources]

    @property
    def archives_only_in_new(self):
        return [(a.cf, a.pdp_per_row) for a in self.archives
                if a.status == 'only in NEW']

    @property
    def archives_only_in_old(self):
        return _union(s.archives_only_in_old for s in self.sources)

    @property
    def data_sources_only_in_new(self):
        lists = [s.data_sources_only_in_new for s in self.sources]
        return [name for name in lists[0] if all(
            name in names for names in lists)] if lists else []

    @property
    def data_sources_only_in_old(self):
        return _union(s.data_sources_only_in_old for s in self.sources)

    @property
    def type_mismatches(self):
        return _union(s.type_mismatches for s in self.sources)

    @property
    def step_mismatch(self):
        return next((s.step_mismatch for s in self.sources
                     if s.step_mismatch), None)

    @property
    def looks_swapped(self):
        """Whether NEW was last updated before some OLD."""
        return any(s.swapped for s in self.sources)

    @property
    def values_went_through_text(self):
        return self.method == 'text'

    def filled(self, cf, pdp_per_row, ds):
        """Cells filled in the RRA `cf`/`pdp_per_row` for data source `ds`.
        """
        return sum(a.filled.get(ds, 0) for a in self.archives
                   if (a.cf, a.pdp_per_row) == (cf, pdp_per_row))

    def warnings(self):
        """Lines about what was left alone or could not be matched."""
        def of_sources(part):
            for source in self.sources:
                prefix = (f'OLD {source.number}: '
                          if len(self.sources) > 1 else '')
                lines.extend(prefix + line for line in part(source))
        lines = []
        of_sources(SourceReport._first_warnings)
        lines.extend(str(archive) for archive in self.archives
                     if archive.status != 'merged')
        of_sources(SourceReport._other_warnings)
        for note in self.notes:
            lines.append(f'note: {note}')
        return lines

    def lines(self):
        """The report as lines of text for people."""
        verb = 'would fill' if self.dry_run else 'filled'
        if len(self.sources) == 1:
            lines = [f'{self.out}: {verb} {self.cells_filled} cells'
                     f' from {self.old} ({self.method})']
        else:
            lines = [f'{self.out}: {verb} {self.cells_filled} cells'
                     f' from {len(self.sources)} backups ({self.method})']
            lines.extend(
                f'  OLD {s.number} {s.old}: {s.cells_filled} cells'
                for s in self.sources)
        lines.extend(
            f'  {archive}' for archive in self.archives
            if archive.status == 'merged')
        lines.extend(f'  {line}' for line in self.warnings())
        return lines

    def __str__(self):
        return '\n'.join(self.lines())

    def as_dict(self):
        """The report as JSON-serialisable data."""
        result = dataclasses.asdict(self)
        for name in ('cells_filled', 'olds', 'archives_only_in_new',
                     'archives_only_in_old', 'data_sources_only_in_new',
                     'data_sources_only_in_old', 'type_mismatches',
                     'step_mismatch', 'looks_swapped',
                     'values_went_through_text'):
            result[name] = getattr(self, name)
        result['warnings'] = self.warnings()
        return result


@dataclasses.dataclass
class FileResult:
    """One file of a tree merge.

    `action` is 'merged', 'copied from OLD' (only the OLDs have it: it
    comes from OLD number `source`, the first that has it, and the
    others fill in what that one does not know), 'kept' (only NEW has
    it, or it is a link to another file of the tree: `reason`), 'left
    alone' (writing it would follow a link out of the target tree:
    `reason`) or 'failed' (`error` says why).
    """

    path: str
    action: str
    report: MergeReport = None
    error: str = None
    reason: str = None
    source: int = None
    dry_run: bool = False

    @property
    def failed(self):
        return self.action == 'failed'

    @property
    def problem(self):
        """Whether this file failed or was left alone."""
        return self.action in ('failed', 'left alone')

    def __str__(self):
        if self.failed:
            return f'{self.path}: FAILED: {self.error}'
        if self.action == 'left alone':
            return f'{self.path}: LEFT ALONE: {self.reason}'
        if self.action == 'copied from OLD':
            text = 'would copy from OLD' if self.dry_run else self.action
            if self.source and self.source > 1:
                text += f' {self.source}'
        elif self.action == 'merged' and self.dry_run:
            text = 'would merge'
        elif self.action == 'kept' and self.reason:
            text = f'kept ({self.reason})'
        else:
            text = self.action
        text = f'{self.path}: {text}'
        if self.report is not None:
            verb = 'would fill' if self.report.dry_run else 'filled'
            text += f', {verb} {self.report.cells_filled} cells'
            if len(self.report.sources) > 1 or self.source:
                text += ' ({})'.format(', '.join(
                    f'OLD {s.number}: {s.cells_filled}'
                    for s in self.report.sources))
            text += ''.join(
                f'\n  {line}' for line in self.report.warnings())
        return text


@dataclasses.dataclass
class TreeReport:
    """What `merge_tree()` did, file by file (sorted by relative path).

    `old` is the first OLDDIR, `olds` all of them.
    """

    new: str
    old: str
    out: str
    dry_run: bool = False
    olds: list = dataclasses.field(default_factory=list)
    files: list = dataclasses.field(default_factory=list)
    removed_temp_files: list = dataclasses.field(default_factory=list)

    @property
    def failed(self):
        return [f for f in self.files if f.failed]

    @property
    def left_alone(self):
        return [f for f in self.files if f.action == 'left alone']

    @property
    def ok(self):
        """True if no file failed or was left alone."""
        return not any(f.problem for f in self.files)

    @property
    def cells_filled(self):
        return sum(f.report.cells_filled for f in self.files
                   if f.report is not None)

    def count(self, action):
        return sum(1 for f in self.files if f.action == action)

    def summary(self):
        if self.dry_run:
            merged, copied = 'would merge', 'would copy from OLD'
            verb = 'would fill'
        else:
            merged, copied, verb = 'merged', 'copied from OLD', 'filled'
        return (
            f'{len(self.files)} files: {self.count("merged")} {merged}'
            f' ({verb} {self.cells_filled} cells),'
            f' {self.count("copied from OLD")} {copied},'
            f' {self.count("kept")} kept,'
            f' {len(self.left_alone)} left alone,'
            f' {len(self.failed)} failed')

    def __str__(self):
        return '\n'.join([str(f) for f in self.files] + [self.summary()])

    def as_dict(self):
        result = dataclasses.asdict(self)
        for data, file in zip(result['files'], self.files):
            if file.report is not None:
                data['report'] = file.report.as_dict()
        result['ok'] = self.ok
        result['cells_filled'] = self.cells_filled
        return result
