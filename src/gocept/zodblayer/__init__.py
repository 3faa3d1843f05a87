"""ZODB on FileStorage, ZEO and RelStorage/PostgreSQL as test layers."""
from gocept.zodblayer.filestorage import FILESTORAGE  # noqa: F401
from gocept.zodblayer.filestorage import FileStorageLayer  # noqa: F401
from gocept.zodblayer.zeo import ZEO  # noqa: F401
from gocept.zodblayer.zeo import ZEOLayer  # noqa: F401
from gocept.zodblayer.postgresql import POSTGRESQL  # noqa: F401
from gocept.zodblayer.postgresql import PostgreSQLLayer  # noqa: F401
from gocept.zodblayer.relstorage import RELSTORAGE  # noqa: F401
from gocept.zodblayer.relstorage import RelStorageLayer  # noqa: F401
