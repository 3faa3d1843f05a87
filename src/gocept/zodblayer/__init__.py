"""ZODB on FileStorage, ZEO and RelStorage/PostgreSQL as test layers."""
from gocept.zodblayer.filestorage import FileStorageLayer  # noqa: F401
