"""A FileStorage (with blobs) in a temp dir."""
import os
import shutil

from gocept.zodblayer import _layer


def file_uri(path, blob_dir):
    """zodburi URI of a FileStorage with blobs."""
    return f'file://{path}?blobstorage_dir={blob_dir}'


def open_filestorage(directory):
    """Open (or create) ``Data.fs`` and ``blobs`` in `directory`."""
    import ZODB.DB
    import ZODB.FileStorage
    path = os.path.join(directory, 'Data.fs')
    blob_dir = os.path.join(directory, 'blobs')
    storage = ZODB.FileStorage.FileStorage(path, blob_dir=blob_dir)
    config = _layer.write_config(
        os.path.join(directory, 'zodb.conf'),
        f'  <filestorage>\n    path {path}\n    blob-dir {blob_dir}\n'
        '  </filestorage>\n')
    return _layer.Database(
        ZODB.DB(storage), file_uri(path, blob_dir), config)


class FileStorageLayer(_layer.ZODBLayer):
    """A FileStorage with a blob directory in a fresh temp dir.

    Resources: ``zodbDB``, ``zodb_uri`` (``file://.../Data.fs?
    blobstorage_dir=...``), ``zodb_config``, per test ``zodbConnection``
    and ``zodbRoot``.

    FileStorage allows one writing process: while the layer's database is
    open, other processes open ``zodb_uri`` read-only (append
    ``&read_only=1``), or the test closes ``zodbDB`` first.
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
