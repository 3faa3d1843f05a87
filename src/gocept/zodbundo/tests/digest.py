"""What a storage holds, for checking that something wrote nothing."""
import hashlib

import ZODB.FileStorage


def storage_state(storage):
    """(last tid, SHA-256 over every transaction and record, count).

    Read through `storage.iterator()`, which FileStorage, ZEO and
    RelStorage all offer, so the check is the same on every storage and
    sees the server's data, not a client's cache.
    """
    digest = hashlib.sha256()
    last = None
    count = 0
    iterator = storage.iterator()
    try:
        for txn in iterator:
            last = txn.tid
            digest.update(txn.tid + txn.status.encode() + bytes(
                txn.user or b'') + bytes(txn.description or b''))
            for record in txn:
                count += 1
                data = record.data or b''
                digest.update(record.oid + len(data).to_bytes(8, 'big')
                              + data)
    finally:
        close = getattr(iterator, 'close', None)
        if close is not None:
            close()
    return last, digest.hexdigest(), count


def file_state(path):
    """`storage_state` of a FileStorage file, opened read-only."""
    storage = ZODB.FileStorage.FileStorage(path, read_only=True)
    try:
        return storage_state(storage)
    finally:
        storage.close()
