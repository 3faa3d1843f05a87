"""Find an object by its path from the root: `/shop/items/42`."""
import transaction
import ZODB.broken

import gocept.zodbundo.errors


def resolve_path(db, path):
    """The oid (8 bytes) of the object at `path` in `db`'s newest state.

    Each step is item access (`obj[name]`), then attribute access
    (`getattr(obj, name)`), the way Zope and Pyramid traverse: so
    `/Application/shop/items` reaches Zope's folders and `/shop/items/42`
    a Pyramid app's mappings. Uses the classes of the objects, so they
    must be importable here. BadArgument names the step that failed and
    why; the object found must be persistent.
    """
    if not isinstance(path, str) or not path.startswith('/'):
        raise gocept.zodbundo.errors.BadArgument(
            'Bad path {!r}: give a path from the root such as'
            ' /shop/items/42.'.format(path))
    names = [name for name in path.split('/') if name]
    manager = transaction.TransactionManager()
    connection = db.open(transaction_manager=manager)
    try:
        obj = connection.root()
        walked = ''
        for name in names:
            obj = _step(obj, name, walked, path)
            walked += '/' + name
        oid = getattr(obj, '_p_oid', None)
        if oid is None:
            raise gocept.zodbundo.errors.BadArgument(
                'Path {}: {} is a value of type {}, not a persistent'
                ' object (it has no history of its own; try its'
                ' parent).'.format(path, walked or '/', type(obj).__name__))
        return oid
    finally:
        manager.abort()
        connection.close()


def _step(obj, name, walked, path):
    try:
        return obj[name]
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    except Exception as error:  # noqa: B902 a class's own failure
        raise _broken(path, walked, obj, error) from None
    try:
        return getattr(obj, name)
    except AttributeError:
        pass
    except Exception as error:  # noqa: B902 a class's own failure
        raise _broken(path, walked, obj, error) from None
    if isinstance(obj, ZODB.broken.Broken):
        raise gocept.zodbundo.errors.BadArgument(
            'Path {}: {} is of class {}, which cannot be imported here;'
            ' run where the application is installed, or give the'
            ' oid.'.format(path, walked or '/', _class_name(obj)))
    raise gocept.zodbundo.errors.BadArgument(
        'Path {}: {} ({}) has no item or attribute {!r}.'.format(
            path, walked or '/', _class_name(obj), name))


def _broken(path, walked, obj, error):
    return gocept.zodbundo.errors.BadArgument(
        'Path {}: looking into {} ({}) failed: {}'.format(
            path, walked or '/', _class_name(obj),
            str(error) or type(error).__name__))


def _class_name(obj):
    cls = type(obj)
    return '{}.{}'.format(cls.__module__, cls.__qualname__)
