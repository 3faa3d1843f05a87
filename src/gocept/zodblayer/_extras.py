"""The optional dependencies of the ZEO and RelStorage layers."""
import importlib


def require(extra, *modules):
    """Import `modules`, or raise an ImportError naming `extra`.

    `extra` is the extra of gocept.layerkit that installs them (``zeo``,
    ``relstorage``); the ImportError is chained from the
    ModuleNotFoundError, so the missing module is still shown.
    """
    for name in modules:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            raise ImportError(
                f'gocept.zodblayer needs the extra "{extra}" for this'
                f' layer: pip install "gocept.layerkit[{extra}]"',
                name=name) from e
