"""The fallback: merge through `rrdtool dump` and `rrdtool restore`.

Used where the binary layout cannot be verified (old format versions,
layouts of other machines that this machine's rrdtool still reads). It
follows the same rules as the binary route, but every value goes through
text: dump prints 10 significant digits, so known values of NEW may
change in their last bits. The report says so.
"""

import math
import os
import re
import tempfile
import types

import gocept.rrdmerge.atomic
import gocept.rrdmerge.filemerge
import gocept.rrdmerge.graph
import gocept.rrdmerge.match
import gocept.rrdmerge.rrdtool


STEP = re.compile(r'<step>\s*(\d+)\s*</step>')
LAST_UPDATE = re.compile(r'<lastupdate>\s*(\d+)\s*</lastupdate>')
DS = re.compile(
    r'<ds>\s*<name>\s*(\S+)\s*</name>\s*<type>\s*(\S+)\s*</type>')
RRA = re.compile(r'<rra>.*?</rra>', re.S)
CF = re.compile(r'<cf>\s*(\w+)\s*</cf>')
PDP_PER_ROW = re.compile(r'<pdp_per_row>\s*(\d+)\s*</pdp_per_row>')
XFF = re.compile(r'<xff>\s*(\S+)\s*</xff>')
ROW = re.compile(r'/ (\d+) --> <row>(.*?)</row>')
VALUE = re.compile(r'<v>\s*(.*?)\s*</v>')


def _unknown(text):
    try:
        return math.isnan(float(text))
    except ValueError:
        return True


def _xff(section):
    # Holt-Winters RRAs have no xff.
    match = XFF.search(section)
    return float(match.group(1)) if match else None


def parse(xml, values=True):
    """Describe a dump like a binary header, plus rows by time."""
    data_sources = [
        types.SimpleNamespace(index=i, name=name, type=dst)
        for i, (name, dst) in enumerate(DS.findall(xml))]
    archives = []
    for i, match in enumerate(RRA.finditer(xml)):
        section = match.group(0)
        rows = ROW.findall(section)
        archives.append(types.SimpleNamespace(
            index=i, cf=CF.search(section).group(1),
            pdp_per_row=int(PDP_PER_ROW.search(section).group(1)),
            xff=_xff(section), rows=len(rows), span=match.span(),
            values={int(time): VALUE.findall(cells)
                    for time, cells in rows} if values else None))
    last_up = LAST_UPDATE.search(xml)
    return types.SimpleNamespace(
        step=int(STEP.search(xml).group(1)), data_sources=data_sources,
        archives=archives, last_up=int(last_up.group(1)) if last_up else None)


def fill(new_xml, match):
    """NEW's dump with the filled values; counts go into `match`."""
    replacements = {}
    for new_archive, old_archive, entry in match.archives:
        def row(found, old_archive=old_archive, entry=entry):
            cells = found.group(2)
            if 'NaN' not in cells and 'nan' not in cells:
                return found.group(0)  # NEW knows the whole row
            time = int(found.group(1))
            values = VALUE.findall(cells)
            for new_index, old_index, name in match.data_sources:
                if not _unknown(values[new_index]):
                    continue
                old_values = old_archive.values.get(time)
                if old_values and not _unknown(old_values[old_index]):
                    values[new_index] = old_values[old_index]
                    entry.filled[name] += 1
            cells = ''.join(f'<v>{v}</v>' for v in values)
            return f'/ {time} --> <row>{cells}</row>'
        start, end = new_archive.span
        replacements[start] = (end, ROW.sub(row, new_xml[start:end]))
    parts = []
    position = 0
    for start in sorted(replacements):
        end, text = replacements[start]
        parts.append(new_xml[position:start])
        parts.append(text)
        position = end
    parts.append(new_xml[position:])
    return ''.join(parts)


def merge(program, new, olds, out, dry_run, sync_directory, report,
          graph=None):
    """Merge via dump/restore, filling in `report`; OLDs one after the
    other, each filling only what the ones before did not. `graph` is
    the path of a PNG to draw, or None."""
    new_xml = gocept.rrdmerge.rrdtool.run(program, 'dump', new)
    for source in report.sources:
        new_dump = parse(new_xml, values=False)
        old_dump = parse(gocept.rrdmerge.rrdtool.run(
            program, 'dump', source.old))
        match = gocept.rrdmerge.match.match(new_dump, old_dump, report, source)
        before = report.cells_filled
        new_xml = fill(new_xml, match)
        source.cells_filled = report.cells_filled - before
    in_place = os.path.realpath(out) == os.path.realpath(new)
    write = not dry_run and not (in_place and not report.cells_filled)
    if not write and graph is None:
        return
    with tempfile.TemporaryDirectory(prefix='rrdmerge-') as tmp:
        xml_path = os.path.join(tmp, 'merged.xml')
        rrd_path = os.path.join(tmp, 'merged.rrd')
        with open(xml_path, 'w', encoding='utf-8') as f:
            f.write(new_xml)
        gocept.rrdmerge.rrdtool.run(program, 'restore', xml_path, rrd_path)
        if graph is not None:
            gocept.rrdmerge.graph.draw(
                program, graph, new, rrd_path, new_dump,
                gocept.rrdmerge.filemerge.graph_title(new, report))
        if not write:
            return
        with open(rrd_path, 'rb') as f:
            data = f.read()
    gocept.rrdmerge.atomic.replace(
        out, gocept.rrdmerge.atomic.write_bytes(data), like=new,
        sync_directory=sync_directory)
    report.written = True
