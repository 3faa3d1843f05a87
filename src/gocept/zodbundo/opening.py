"""Open the storage the command line names: checked first, never created.

Every route (``--file``, ``--zeo``, ``--uri``, ``--config``) checks its
input before a storage is opened, so that no option creates a storage,
blocks on a FIFO, or lets FileStorage's recovery cut a damaged file when
it is opened for writing. A FileStorage is opened with its blob
directory (given, configured, or found where buildouts keep it), since
undoing a blob change without it loses the blob.
"""
import contextlib
import io
import logging
import os
import stat
import urllib.parse

import ZODB
import ZODB.FileStorage
import zc.lockfile
# The package shadows its module FileStorage with the class of that name.
from ZODB.FileStorage.FileStorage import FILESTORAGE_MAGIC

import gocept.zodbundo.filestorage


ZEO_TIMEOUT = 10

# zodburi schemes whose query string takes `read_only`.
READ_ONLY_SCHEMES = ('zeo', 'postgres', 'mysql', 'sqlite', 'oracle')

# Query arguments of file:// URIs that are understood here.
FILE_URI_ARGS = ('blobstorage_dir', 'blobstorage_layout', 'read_only')

FSRECOVER = ('repair a copy with fsrecover (python -m'
             ' ZODB.scripts.fsrecover DAMAGED.fs REPAIRED.fs) and use that')


class UsageError(Exception):
    """Bad command line: exit code 2."""


class CommandError(Exception):
    """The command cannot run (e.g. no server, damaged file): exit 1."""


class Locked(CommandError, zc.lockfile.LockError):
    """Another process holds the FileStorage's lock (exit 1); still a
    `zc.lockfile.LockError` for callers that fall back to reading."""


def open_db(args, writing):
    """The ZODB.DB the storage options of `args` name.

    Read-only unless `writing`. UsageError for bad input (nothing is
    opened), CommandError where the storage cannot be used.
    """
    given = [name for name in ('file', 'zeo', 'uri', 'config')
             if getattr(args, name, None)]
    if len(given) != 1:
        raise UsageError(
            'give exactly one of --file, --zeo, --uri, --config'
            ' (got {})'.format(', '.join('--' + g for g in given) or
                               'none'))
    read_only = not writing
    blobs = getattr(args, 'blobs', None)
    if blobs is not None:
        _check_blob_dir(blobs, '--blobs')
    if args.file:
        return ZODB.DB(open_filestorage(
            args.file, '--file', read_only, blobs, find_blobs=True))
    if args.zeo:
        return ZODB.DB(_open_zeo(args.zeo, read_only, blobs))
    if args.config:
        return _open_config(args.config, None, '--config', read_only, blobs)
    return _open_uri(args.uri, read_only, blobs)


def _check_blob_dir(path, option):
    if not os.path.isdir(path):
        raise UsageError('{} {}: no such directory'.format(option, path))


def check_file(path, option):
    """Refuse what is not an existing regular FileStorage file."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise UsageError('{} {}: no such file (zodb-undo never creates a'
                         ' storage)'.format(option, path)) from None
    except OSError as e:
        raise UsageError('{} {}: {}'.format(option, path, e.strerror))
    if stat.S_ISDIR(mode):
        raise UsageError('{} {}: a directory, not a FileStorage file'
                         ' (Data.fs)'.format(option, path))
    if not stat.S_ISREG(mode):
        # Opening a FIFO would block until someone writes to it.
        raise UsageError('{} {}: not a regular file (a FIFO, socket or'
                         ' device); give the Data.fs file'.format(
                             option, path))
    # Checked before opening: FileStorage leaves the file open when it
    # refuses it.
    with open(path, 'rb') as f:
        magic = f.read(len(FILESTORAGE_MAGIC))
    if magic != FILESTORAGE_MAGIC:
        raise UsageError('{} {}: not a FileStorage file (Data.fs)'.format(
            option, path))


def blob_dir_candidates(path):
    """Where blob directories of `path` usually are, most likely first.

    Zope/Plone buildouts keep ``var/blobstorage`` beside
    ``var/filestorage/Data.fs``; others ``blobs`` or ``blobstorage``
    beside the file.
    """
    here = os.path.dirname(os.path.abspath(path))
    return [os.path.join(here, 'blobs'),
            os.path.join(here, 'blobstorage'),
            os.path.join(os.path.dirname(here), 'blobstorage'),
            os.path.join(os.path.dirname(here), 'blobs')]


def found_blob_dir(path):
    """The blob directory of `path` where one usually is, else None."""
    for candidate in blob_dir_candidates(path):
        # ZODB writes `.layout` into every blob directory it creates.
        if os.path.isfile(os.path.join(candidate, '.layout')):
            return candidate
    return None


def open_filestorage(path, option, read_only, blob_dir, find_blobs=False):
    """A FileStorage on `path`, checked read-only before it is written."""
    check_file(path, option)
    if blob_dir is None and find_blobs:
        blob_dir = found_blob_dir(path)
    try:
        with _quiet(not read_only):
            storage = ZODB.FileStorage.FileStorage(
                path, read_only=True,
                blob_dir=blob_dir if read_only else None)
    except Exception as e:  # noqa: B902 whatever it is, the file is bad
        raise CommandError('{} {}: cannot be read as a FileStorage ({}:'
                           ' {}); {}'.format(option, path, type(e).__name__,
                                             e, FSRECOVER)) from e
    try:
        check_damage(storage, path, option)
    except BaseException:
        storage.close()
        raise
    if read_only:
        return storage
    storage.close()
    try:
        return ZODB.FileStorage.FileStorage(path, blob_dir=blob_dir)
    except zc.lockfile.LockError:
        raise Locked(
            '{} {} is locked: the application (or another process) has it'
            ' open for writing. Stop it, or undo through its ZEO server'
            ' (--zeo) or RelStorage; reading commands work meanwhile'
            ' (read-only).'.format(option, path)) from None


@contextlib.contextmanager
def _quiet(quiet):
    """Silence FileStorage's log (e.g. a bad index) for the read-only
    check when the writable open that follows will say it again."""
    logger = logging.getLogger('ZODB.FileStorage')
    level = logger.level
    if quiet:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def check_damage(storage, path, option):
    """CommandError when `storage` (opened read-only) sees only part of
    `path`: FileStorage stops reading at a damaged transaction, and
    opened for writing it would cut everything after it (to
    ``.tr0``). An interrupted last commit is no damage: FileStorage
    drops it on its own."""
    end = storage._pos
    size = os.path.getsize(path)
    if end >= size or _interrupted_commit(path, end, size):
        return
    raise CommandError(
        '{} {} is damaged at byte {} of {}: FileStorage sees nothing after'
        ' it, and opened for writing would cut the rest off. Not opened for'
        ' writing; {}.'.format(option, path, end, size, FSRECOVER))


def _interrupted_commit(path, pos, size):
    """Is everything from `pos` on one unfinished transaction?"""
    header_size = gocept.zodbundo.filestorage.TRANS_HDR_LEN
    data_header = gocept.zodbundo.filestorage.DATA_HDR
    with open(path, 'rb') as f:
        f.seek(pos)
        tail = f.read(min(size - pos, 1 << 24))
    if len(tail) < header_size:
        return True
    tid, tlen, status, ulen, dlen, elen = (
        gocept.zodbundo.filestorage.TRANS_HDR.unpack_from(tail))
    if pos + tlen + 8 <= size:
        return False  # complete, yet unreadable: damage
    offset = header_size + ulen + dlen + elen
    while offset + data_header.size <= len(tail):
        oid, data_tid, prev, tloc, vlen, plen = data_header.unpack_from(
            tail, offset)
        if data_tid != tid or tloc != pos:
            return False  # records of other transactions follow
        offset += data_header.size + vlen + (plen or 8)
    return True


def _open_zeo(address, read_only, blobs):
    try:
        import ZEO.ClientStorage
        import ZEO.Exceptions
    except ModuleNotFoundError:
        raise CommandError('--zeo needs the extra "zeo": pip install'
                           ' "gocept.layerkit[zeo]"') from None
    host, sep, port = address.rpartition(':')
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError('--zeo {!r}: expected HOST:PORT with a port from'
                         ' 1 to 65535'.format(address))
    try:
        storage = ZEO.ClientStorage.ClientStorage(
            (host.strip('[]') or '127.0.0.1', int(port)),
            read_only=read_only, wait_timeout=ZEO_TIMEOUT, blob_dir=blobs)
    except ZEO.Exceptions.ClientDisconnected:
        raise CommandError(
            'no ZEO server answered at {} within {} s'.format(
                address, ZEO_TIMEOUT)) from None
    return storage


def _open_uri(uri, read_only, blobs):
    scheme = uri.split(':', 1)[0]
    if scheme == 'file':
        return ZODB.DB(_open_file_uri(uri, read_only, blobs))
    if scheme == 'zconfig':
        parts = urllib.parse.urlsplit(uri)
        return _open_config(parts.path, parts.fragment or None,
                            '--uri', read_only, blobs)
    import zodburi
    if read_only:
        uri = _with_read_only(uri)
    try:
        factory, dbkw = zodburi.resolve_uri(uri)
    except zodburi.NoResolverForScheme:
        raise UsageError(
            '--uri: no zodburi resolver for {!r} URIs (is the package'
            ' providing it, e.g. RelStorage, installed?)'.format(
                scheme)) from None
    except (KeyError, ValueError, TypeError, ImportError) as e:
        raise UsageError('--uri {}: {}'.format(uri, e)) from None
    try:
        return ZODB.DB(factory(), **dbkw)
    except (KeyError, ValueError, TypeError) as e:
        raise UsageError('--uri {}: {}'.format(uri, e)) from None


def _open_file_uri(uri, read_only, blobs):
    # zodburi's own splitting (not urlsplit: Windows paths).
    rest = uri.split('file://', 1)[1]
    path, sep, query = rest.partition('?')
    path = urllib.parse.unquote(path)
    args = dict(urllib.parse.parse_qsl(query))
    unknown = sorted(set(args) - set(FILE_URI_ARGS))
    if unknown:
        raise UsageError(
            '--uri {}: unsupported argument(s) {} (zodb-undo takes {})'.format(
                uri, ', '.join(unknown), ', '.join(FILE_URI_ARGS)))
    blob_dir = args.get('blobstorage_dir')
    if blob_dir is not None:
        _check_blob_dir(blob_dir, '--uri blobstorage_dir')
    return open_filestorage(
        path, '--uri', read_only, blob_dir or blobs,
        find_blobs=blob_dir is None)


def _with_read_only(uri):
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme not in READ_ONLY_SCHEMES:
        return uri
    query = urllib.parse.parse_qsl(parts.query)
    if any(key == 'read_only' for key, value in query):
        return uri
    query.append(('read_only', '1'))
    return urllib.parse.urlunsplit(
        parts._replace(query=urllib.parse.urlencode(query)))


_SCHEMA = b"""
<schema>
    <import package="ZODB"/>
    <multisection type="ZODB.storage" attribute="storages" />
    <multisection type="ZODB.database" attribute="databases" />
</schema>
"""


def _open_config(path, name, option, read_only, blobs):
    """A DB from a ZConfig file's first (or `name`d) storage/database."""
    import ZConfig
    import ZODB.config
    try:
        mode = os.stat(path).st_mode
    except OSError:
        raise UsageError('{} {}: no such file'.format(option, path)) from None
    if not stat.S_ISREG(mode):
        raise UsageError('{} {}: not a regular file'.format(option, path))
    schema = ZConfig.loadSchemaFile(io.BytesIO(_SCHEMA))
    try:
        config, handler = ZConfig.loadConfig(schema, path)
    except ZConfig.ConfigurationError as e:
        message = ' '.join(str(e).split())
        raise UsageError('{} {}: {}'.format(option, path, message)) from None
    sections = config.databases + config.storages
    if name is not None:
        sections = [s for s in sections if s.name == name]
    if not sections:
        raise UsageError(
            '{} {}: no {} (such as <filestorage>, <zeoclient>,'
            ' <relstorage> or <zodb>)'.format(
                option, path, 'storage section' if name is None else
                'storage or database named {!r}'.format(name)))
    section = sections[0]
    dbkw = {}
    if isinstance(section, ZODB.config.ZODBDatabase):
        factory = section.config.storage
        if section.config.database_name:
            dbkw['database_name'] = section.config.database_name
    else:
        factory = section
    where = '{} {}'.format(option, path)
    if isinstance(factory, ZODB.config.FileStorage):
        settings = factory.config
        if settings.create:
            raise UsageError('{}: "create true" would empty {}; remove'
                             ' it'.format(where, settings.path))
        blob_dir = settings.blob_dir or blobs
        return ZODB.DB(open_filestorage(
            settings.path, where + ': path', read_only, blob_dir,
            find_blobs=blob_dir is None), **dbkw)
    settings = getattr(factory, 'config', None)
    if read_only and hasattr(settings, 'read_only'):
        settings.read_only = True
    schema_kept = getattr(settings, 'create_schema', False)
    if schema_kept:
        # RelStorage would create its tables in an empty database.
        settings.create_schema = False
    if blobs and getattr(settings, 'blob_dir', False) is None:
        settings.blob_dir = blobs
    try:
        return ZODB.DB(factory.open(), **dbkw)
    except (KeyError, ValueError, TypeError) as e:
        raise UsageError('{}: {}'.format(where, e)) from None
    except Exception as e:  # noqa: B902 say why, in one line
        if not schema_kept:
            raise
        raise CommandError(
            '{}: cannot open the storage ({}: {}); zodb-undo never creates'
            ' a storage or its tables: is this the database the'
            ' application uses?'.format(
                where, type(e).__name__, ' '.join(str(e).split()))) from e

