import os
import shutil
import struct
import subprocess
import unittest

import gocept.rrdmerge.errors
import gocept.rrdmerge.rrdfile
import gocept.rrdmerge.testing
import gocept.rrdmerge.verify


def legacy_copy(path, target, version=b'0001'):
    """Rewrite a version 0003 RRD in the 0001 layout rrdtool still reads.

    Before 0003 the live head was a bare `time_t last_up`, 8 bytes
    instead of 16.
    """
    header, data = gocept.rrdmerge.rrdfile.read(path)
    live_head = (gocept.rrdmerge.rrdfile.STAT_HEAD.size
                 + gocept.rrdmerge.rrdfile.DS_DEF.size
                 * len(header.data_sources)
                 + gocept.rrdmerge.rrdfile.RRA_DEF.size
                 * len(header.archives))
    data = bytearray(data)
    data[4:9] = version + b'\0'
    del data[live_head + 8:live_head + 16]
    with open(target, 'wb') as f:
        f.write(data)


def _foreign_copy(head):
    """A writer of a copy of an RRD whose stat_head is `head(...)`."""
    def write(path, target):
        header, data = gocept.rrdmerge.rrdfile.read(path)
        raw = head(data[:4], data[4:9], len(header.data_sources),
                   len(header.archives), header.step)
        with open(target, 'wb') as f:
            f.write(raw + data[gocept.rrdmerge.rrdfile.STAT_HEAD.size:])
    return write


COOKIE = gocept.rrdmerge.rrdfile.FLOAT_COOKIE
big_endian_copy = _foreign_copy(
    lambda cookie, version, ds, rra, step: struct.pack(
        '>4s5s7xdQQQ80x', cookie, version, COOKIE, ds, rra, step))
FOREIGN = {
    # 32-bit ARM (EABI): doubles 8-aligned, unsigned long 4 bytes.
    'a 32-bit little-endian machine such as ARM': _foreign_copy(
        lambda cookie, version, ds, rra, step: struct.pack(
            '<4s5s7xdIII4x80x', cookie, version, COOKIE, ds, rra, step)),
    # i386: doubles 4-aligned, unsigned long 4 bytes.
    'a 32-bit x86 machine': _foreign_copy(
        lambda cookie, version, ds, rra, step: struct.pack(
            '<4s5s3xdIII80x', cookie, version, COOKIE, ds, rra, step)),
    # s390x, ppc64, sparc64.
    'a big-endian machine such as PowerPC, SPARC or s390x': big_endian_copy,
}


class ReaderTests(unittest.TestCase):

    layer = gocept.rrdmerge.testing.RRD_LAYER

    def setUp(self):
        self.tmp = self.layer['rrd_tmpdir']
        self.new, self.old = gocept.rrdmerge.testing.pnp_pair(self.tmp)

    def test_header_agrees_with_rrdtool_info(self):
        for path in (self.new, self.old):
            header, _ = gocept.rrdmerge.rrdfile.read(path)
            info = gocept.rrdmerge.verify.info(self.layer['rrdtool'], path)
            self.assertEqual(
                [], gocept.rrdmerge.verify.disagreements(header, info))
            self.assertEqual(str(header.header_size), info['header_size'])

    def test_disagreement_with_rrdtool_info_is_detected(self):
        header, _ = gocept.rrdmerge.rrdfile.read(self.new)
        info = gocept.rrdmerge.verify.info(self.layer['rrdtool'], self.new)
        info['rra[3].cur_row'] = str(header.archives[3].cur_row + 1)
        self.assertEqual(
            ['rra[3].cur_row'],
            gocept.rrdmerge.verify.disagreements(header, info))

    def test_rows_agree_with_rrdtool_fetch(self):
        self.assertEqual(
            [], gocept.rrdmerge.testing.fetch_disagreements(self.old))
        self.assertEqual(
            [], gocept.rrdmerge.testing.fetch_disagreements(self.new))

    def test_file_without_cookie_is_not_an_rrd(self):
        path = os.path.join(self.tmp, 'text.rrd')
        with open(path, 'w') as f:
            f.write('no RRD at all\n' * 20)
        with self.assertRaisesRegex(
                gocept.rrdmerge.errors.NotAnRRD, 'not an RRD file'):
            gocept.rrdmerge.rrdfile.read(path)

    def test_truncated_file_is_broken(self):
        with open(self.new, 'r+b') as f:
            f.truncate(os.path.getsize(self.new) - 8)
        with self.assertRaisesRegex(
                gocept.rrdmerge.errors.NotAnRRD, 'truncated'):
            gocept.rrdmerge.rrdfile.read(self.new)

    def test_extra_bytes_make_layout_unsupported(self):
        with open(self.new, 'ab') as f:
            f.write(b'\0' * 8)
        with self.assertRaisesRegex(
                gocept.rrdmerge.errors.UnsupportedLayout, '8 bytes more'):
            gocept.rrdmerge.rrdfile.read(self.new)

    def test_files_of_other_architectures_are_refused_naming_both(self):
        # rrd_format.h's stat_head_t as gcc lays it out on each machine.
        for machine, writer in FOREIGN.items():
            path = os.path.join(self.tmp, f'{machine}.rrd')
            writer(self.new, path)
            with self.assertRaises(
                    gocept.rrdmerge.errors.OtherArchitecture) as caught:
                gocept.rrdmerge.rrdfile.read(path)
            message = str(caught.exception)
            self.assertTrue(message.startswith(
                f'{path}: written on another architecture ({machine}'),
                message)
            self.assertIn('rrdtool dump FILE > FILE.xml` on the machine'
                          ' that wrote it', message)
            self.assertIn('then `rrdtool restore FILE.xml FILE` here',
                          message)

    def test_rrdtool_refuses_a_big_endian_file_too(self):
        path = os.path.join(self.tmp, 'big.rrd')
        big_endian_copy(self.new, path)
        result = subprocess.run(
            [self.layer['rrdtool'], 'info', path], capture_output=True,
            text=True)
        self.assertNotEqual(0, result.returncode)
        self.assertIn('another architecture', result.stderr)

    def test_huge_counts_name_the_counts(self):
        with open(self.new, 'r+b') as f:
            f.seek(24)
            f.write(struct.pack('<Q', 1 << 40))
        with self.assertRaisesRegex(
                gocept.rrdmerge.errors.NotAnRRD,
                r'new.rrd: broken RRD header \(1099511627776 data sources,'):
            gocept.rrdmerge.rrdfile.read(self.new)

    def test_version_0001_layout_is_unsupported_but_rrdtool_reads_it(self):
        legacy = os.path.join(self.tmp, 'legacy.rrd')
        legacy_copy(self.new, legacy)
        with self.assertRaisesRegex(
                gocept.rrdmerge.errors.UnsupportedLayout, 'version 0001'):
            gocept.rrdmerge.rrdfile.read(legacy)
        info = gocept.rrdmerge.verify.info(self.layer['rrdtool'], legacy)
        self.assertEqual('0001', info['rrd_version'])

    def test_versions_0004_and_0005_share_the_layout(self):
        for version in (b'0004', b'0005'):
            path = os.path.join(self.tmp, f'{version.decode()}.rrd')
            shutil.copy(self.new, path)
            with open(path, 'r+b') as f:
                f.seek(4)
                f.write(version)
            header, _ = gocept.rrdmerge.rrdfile.read(path)
            info = gocept.rrdmerge.verify.info(self.layer['rrdtool'], path)
            self.assertEqual(
                [], gocept.rrdmerge.verify.disagreements(header, info))
