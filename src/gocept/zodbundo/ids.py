"""Parse and print tids and oids: 8 bytes, ``0x...`` hex or 16 hex digits."""
import base64
import binascii
import datetime

import persistent.timestamp

import gocept.zodbundo.errors


HELP = 'give 8 bytes, 0x-prefixed hex or 16 hex digits'
TID_FORMS = ('16 hex digits, 0x-prefixed hex, an undoLog() id such as'
             ' BA1XgquBGiI= or the value of a checkbox of the ZMI Undo'
             ' tab')


def _parse(value, kind):
    if isinstance(value, (bytes, bytearray)):
        if len(value) == 8:
            return bytes(value)
        raise gocept.zodbundo.errors.BadId(
            'Bad {}: {!r} is {} bytes long, not 8 ({}).'.format(
                kind, bytes(value), len(value), HELP))
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value < 2 ** 64:
            return value.to_bytes(8, 'big')
        raise gocept.zodbundo.errors.BadId(
            'Bad {}: {} does not fit into 8 bytes.'.format(kind, value))
    if not isinstance(value, str):
        raise gocept.zodbundo.errors.BadId(
            'Bad {}: {!r} is a {} ({}).'.format(
                kind, value, type(value).__name__, HELP))
    text = value.strip()
    if text[:2].lower() == '0x':
        digits = text[2:]
        if not 1 <= len(digits) <= 16:
            raise gocept.zodbundo.errors.BadId(
                'Bad {}: {!r} needs 1 to 16 hex digits after 0x.'.format(
                    kind, value))
        digits = digits.rjust(16, '0')
    else:
        digits = text
        if len(digits) != 16:
            raise gocept.zodbundo.errors.BadId(
                'Bad {}: {!r} has {} characters, not 16 hex digits'
                ' ({}).'.format(kind, value, len(digits), HELP))
    try:
        return binascii.unhexlify(digits)
    except (binascii.Error, ValueError):
        raise gocept.zodbundo.errors.BadId(
            'Bad {}: {!r} is not hexadecimal ({}).'.format(
                kind, value, HELP)) from None


def parse_tid(value):
    """Return the 8-byte tid for `value`; raise BadId naming the problem.

    Besides the forms `parse_oid` takes, the ids the ZODB world shows
    are accepted: `undoLog()`/`undoInfo()` ids (base64 of the tid, e.g.
    ``BA1XgquBGiI=``) and the value of a checkbox of Zope's Undo tab
    (`App.Undo`: base64 of that id, maybe followed by the time and
    description, e.g. ``QkExWGdxdUJHaUk9``). Hex wins where a string
    could be both.
    """
    if isinstance(value, (bytes, bytearray)) and len(value) != 8:
        tid = tid_from_undo_id(bytes(value))  # undoLog() ids are bytes
        if tid is not None:
            return tid
    if isinstance(value, str):
        words = value.split()
        tid = _from_undo_ids(words[0]) if words else None
        if tid is not None and not _is_hex_form(words[0]):
            return tid
        if len(words) > 1 and tid is None:
            raise gocept.zodbundo.errors.BadId(
                'Bad tid: {!r} is none of: {}.'.format(value, TID_FORMS))
    try:
        return _parse(value, 'tid')
    except gocept.zodbundo.errors.BadId as error:
        if isinstance(value, str):
            raise gocept.zodbundo.errors.BadId(
                '{} A tid is given as {}.'.format(
                    str(error).replace(' ({})'.format(HELP), ''),
                    TID_FORMS)) from None
        raise


def _is_hex_form(text):
    digits = text[2:] if text[:2].lower() == '0x' else text
    if text[:2].lower() != '0x' and len(digits) != 16:
        return False
    try:
        int(digits, 16)
    except ValueError:
        return False
    return True


def _from_undo_ids(text):
    """The tid of an undoLog id or of a ZMI Undo tab value, else None."""
    tid = tid_from_undo_id(text)
    if tid is not None:
        return tid
    try:
        inner = base64.b64decode(text.encode('ascii'), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        return tid_from_undo_id(inner.decode('ascii').strip())
    except UnicodeDecodeError:
        return None


def parse_oid(value):
    """Return the 8-byte oid for `value`; raise BadId naming the problem."""
    return _parse(value, 'oid')


def hexid(raw):
    """Print an 8-byte tid or oid as 16 hex digits."""
    return binascii.hexlify(raw).decode('ascii')


def undo_id(tid):
    """The undo id FileStorage and RelStorage use: base64 of the tid."""
    return base64.encodebytes(tid).rstrip(b'\n')


def tid_from_undo_id(undo_id):
    """Reverse `undo_id`; None when `undo_id` is no base64 of 8 bytes."""
    if isinstance(undo_id, str):
        try:
            undo_id = undo_id.encode('ascii')
        except UnicodeEncodeError:
            return None
    try:
        raw = base64.b64decode(undo_id.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 8 else None


def tid_time(tid):
    """The POSIX time a tid stands for."""
    return persistent.timestamp.TimeStamp(tid).timeTime()


def time_to_tid(when):
    """The smallest tid at or after `when` (POSIX seconds or datetime).

    A naive datetime is taken as UTC, like ZODB's own timestamps.
    """
    if isinstance(when, datetime.datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        when = when.timestamp()
    utc = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
    seconds = utc.second + utc.microsecond / 1e6
    return persistent.timestamp.TimeStamp(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, seconds).raw()
