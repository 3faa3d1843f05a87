"""A FileStorage (with blobs) in a temp dir."""
import os
import shutil

from gocept.zodblayer import _layer


def file_uri(path, blob_dir):
    """zodburi URI of a FileStorage with blobs, opening it read-only."""
    return f'file://{path}?blobstorage_dir={blob_dir}&read_only=1'


def open_filestorage(directory):
    """Open (or create) ``Data.fs`` and ``blobs`` in `directory`.

    The `Database`'s URI and config open the storage read-only: this
    process holds FileStorage's lock, which admits one writing process.
    """
    import ZODB.DB
    import ZODB.FileStorage
    path = os.path.join(directory, 'Data.fs')
    blob_dir = os.path.join(directory, 'blobs')
    storage = ZODB.FileStorage.FileStorage(path, blob_dir=blob_dir)
    config = _layer.write_config(
        os.path.join(directory, 'zodb.conf'),
        f'  <filestorage>\n    path {path}\n    blob-dir {blob_dir}\n'
        '    read-only true\n  </filestorage>\n')
    return _layer.Database(
        ZODB.DB(storage), file_uri(path, blob_dir), config)


class FileStorageLayer(_layer.ZODBLayer):
    """A FileStorage with a blob directory in a fresh temp dir.

    Resources: ``zodbDB``, ``zodb_uri`` (``file://.../Data.fs?
    blobstorage_dir=...&read_only=1``), ``zodb_config`` (the same, as a
    ZConfig file), per test ``zodbConnection`` and ``zodbRoot``.

    FileStorage admits one writing process, and the test process is it:
    ``zodb_uri`` and ``zodb_config`` open the storage *read-only* in other
    processes (a subprocess, a second app, a tool), at any time; a write
    through them raises ZODB's ``ReadOnlyError``, and a writable open of
    the file fails with zc.lockfile's ``LockError``. For a second writing
    process use `ZEOLayer` with ``isolation='copy'``.
    """

    def open_database(self):
        directory = os.path.join(self.tempdir, 'layer')
        os.mkdir(directory)
        return open_filestorage(directory)

    def open_copy(self, directory):
        # FileStorage flushes every commit, so the file holds the layer's
        # complete state; without its index file, FileStorage rebuilds the
        # index from the (small) copy.
        layer_dir = os.path.join(self.tempdir, 'layer')
        shutil.copyfile(
            os.path.join(layer_dir, 'Data.fs'),
            os.path.join(directory, 'Data.fs'))
        _layer.copy_tree(
            os.path.join(layer_dir, 'blobs'),
            os.path.join(directory, 'blobs'))
        return open_filestorage(directory)


FILESTORAGE = FileStorageLayer(
    name='FileStorageLayer', module=__name__)
