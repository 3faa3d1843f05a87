"""What a merge did: reports for one file and for a tree."""

import dataclasses


TEXT_NOTE = (
    'values went through text: rrdtool dump prints 10 significant'
    ' digits, so known values may have changed in their last bits')


@dataclasses.dataclass
class ArchiveReport:
    """One RRA of NEW and what was filled into it.

    `status` is 'merged' (matched in OLD by consolidation function and
    pdp_per_row), 'only in NEW' (no such RRA in OLD) or 'skipped' (see
    `reason`). `filled` maps each data source name to the number of cells
    filled (or, in a dry run, that would be filled).
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
class MergeReport:
    """What `merge()` did (or, with `dry_run`, would do) for one file.

    `method` is 'binary' (cells patched in place, bit for bit) or 'text'
    (the `rrdtool dump`/`restore` fallback; `notes` says why).
    `written` tells whether `out` was (re)written.
    """

    new: str
    old: str
    out: str
    dry_run: bool = False
    method: str = 'binary'
    written: bool = False
    archives: list = dataclasses.field(default_factory=list)
    archives_only_in_old: list = dataclasses.field(default_factory=list)
    data_sources_only_in_new: list = dataclasses.field(default_factory=list)
    data_sources_only_in_old: list = dataclasses.field(default_factory=list)
    type_mismatches: list = dataclasses.field(default_factory=list)
    step_mismatch: tuple = None
    notes: list = dataclasses.field(default_factory=list)

    @property
    def cells_filled(self):
        """Cells filled in all RRAs (would be filled, in a dry run)."""
        return sum(a.cells_filled for a in self.archives)

    @property
    def archives_only_in_new(self):
        return [(a.cf, a.pdp_per_row) for a in self.archives
                if a.status == 'only in NEW']

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
        lines = []
        if self.step_mismatch:
            lines.append(
                'step differs: NEW {} s, OLD {} s; nothing filled'.format(
                    *self.step_mismatch))
        for archive in self.archives:
            if archive.status != 'merged':
                lines.append(str(archive))
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
        for note in self.notes:
            lines.append(f'note: {note}')
        return lines

    def lines(self):
        """The report as lines of text for people."""
        verb = 'would fill' if self.dry_run else 'filled'
        lines = [f'{self.out}: {verb} {self.cells_filled} cells'
                 f' from {self.old} ({self.method})']
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
        result['cells_filled'] = self.cells_filled
        result['archives_only_in_new'] = self.archives_only_in_new
        result['values_went_through_text'] = self.values_went_through_text
        return result


@dataclasses.dataclass
class FileResult:
    """One file of a tree merge.

    `action` is 'merged', 'copied from OLD' (only OLD has it), 'kept'
    (only NEW has it) or 'failed' (`error` says why).
    """

    path: str
    action: str
    report: MergeReport = None
    error: str = None

    @property
    def failed(self):
        return self.action == 'failed'

    def __str__(self):
        if self.failed:
            return f'{self.path}: FAILED: {self.error}'
        text = f'{self.path}: {self.action}'
        if self.report is not None:
            verb = 'would fill' if self.report.dry_run else 'filled'
            text += f', {verb} {self.report.cells_filled} cells'
            text += ''.join(
                f'\n  {line}' for line in self.report.warnings())
        return text


@dataclasses.dataclass
class TreeReport:
    """What `merge_tree()` did, file by file (sorted by relative path)."""

    new: str
    old: str
    out: str
    dry_run: bool = False
    files: list = dataclasses.field(default_factory=list)
    removed_temp_files: list = dataclasses.field(default_factory=list)

    @property
    def failed(self):
        return [f for f in self.files if f.failed]

    @property
    def ok(self):
        return not self.failed

    @property
    def cells_filled(self):
        return sum(f.report.cells_filled for f in self.files
                   if f.report is not None)

    def count(self, action):
        return sum(1 for f in self.files if f.action == action)

    def summary(self):
        verb = 'would fill' if self.dry_run else 'filled'
        return (
            f'{len(self.files)} files: {self.count("merged")} merged'
            f' ({verb} {self.cells_filled} cells),'
            f' {self.count("copied from OLD")} copied from OLD,'
            f' {self.count("kept")} only in NEW kept,'
            f' {len(self.failed)} failed')

    def __str__(self):
        return '\n'.join([str(f) for f in self.files] + [self.summary()])

    def as_dict(self):
        result = dataclasses.asdict(self)
        result['ok'] = self.ok
        result['cells_filled'] = self.cells_filled
        return result
