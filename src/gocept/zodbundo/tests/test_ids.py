import base64
import unittest

import gocept.zodbundo
import gocept.zodbundo.ids


TID = b'\x03\xd0\x17\x99\x1f\x3b\xed\xbb'


class ParseTests(unittest.TestCase):

    def test_accepts_bytes_0x_hex_and_16_hex_digits(self):
        for value in (TID, '0x03d017991f3bedbb', '03D017991F3BEDBB',
                      ' 03d017991f3bedbb\n'):
            self.assertEqual(TID, gocept.zodbundo.ids.parse_tid(value))

    def test_short_0x_hex_is_padded(self):
        self.assertEqual(
            b'\0' * 7 + b'\1', gocept.zodbundo.ids.parse_oid('0x1'))

    def test_prints_16_hex_digits(self):
        self.assertEqual('03d017991f3bedbb', gocept.zodbundo.ids.hexid(TID))

    def assertBad(self, value, expected):
        with self.assertRaises(gocept.zodbundo.BadId) as caught:
            gocept.zodbundo.ids.parse_tid(value)
        self.assertIn(expected, str(caught.exception))
        self.assertNotIn('\n', str(caught.exception))

    def test_wrong_length_is_named(self):
        self.assertBad(b'\0' * 7, '7 bytes long, not 8')
        self.assertBad('03d017991f3bed', '14 characters, not 16 hex digits')
        self.assertBad('0x' + '0' * 17, '1 to 16 hex digits')

    def test_not_hex_is_named(self):
        self.assertBad('03d017991f3bedbz', 'is not hexadecimal')
        self.assertBad('0xnothex', 'is not hexadecimal')

    def test_undo_id_is_base64_of_tid(self):
        # What FileStorage's and RelStorage's undoLog return as 'id'.
        self.assertEqual(b'A9AXmR877bs=', gocept.zodbundo.ids.undo_id(TID))
        self.assertEqual(TID, gocept.zodbundo.ids.tid_from_undo_id(
            'A9AXmR877bs='))

    def test_accepts_the_ids_zope_and_undo_log_show(self):
        # issue 11 item 6: the ZMI Undo tab's checkbox value is base64 of
        # the undoLog id (App.Undo.encode64), followed by time and note.
        undo_id = gocept.zodbundo.ids.undo_id(TID)
        zmi = base64.b64encode(undo_id).decode('ascii')
        for value in (undo_id, undo_id.decode('ascii'), zmi,
                      zmi + '\n 2024/05/01 12:00:00 GMT+2 /shop edit'):
            self.assertEqual(TID, gocept.zodbundo.ids.parse_tid(value),
                             value)
        self.assertEqual(
            bytes.fromhex('040d5782ab811a22'),
            gocept.zodbundo.ids.parse_tid('QkExWGdxdUJHaUk9'))
        self.assertEqual(
            bytes.fromhex('040d5782ab811a22'),
            gocept.zodbundo.ids.parse_tid('BA1XgquBGiI='))

    def test_bad_tid_error_names_every_accepted_form(self):
        self.assertBad('BA1XgquBGi', 'undoLog() id such as BA1XgquBGiI=')
        self.assertBad('BA1XgquBGi', 'ZMI Undo tab')
        self.assertBad('BA1XgquBGi', '0x-prefixed hex')

    def test_time_to_tid_round_trips_within_a_microsecond(self):
        when = gocept.zodbundo.ids.tid_time(TID)
        tid = gocept.zodbundo.ids.time_to_tid(when)
        self.assertAlmostEqual(
            when, gocept.zodbundo.ids.tid_time(tid), delta=1e-6)
