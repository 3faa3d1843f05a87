"""What the inventory keeps in the ZODB."""
import BTrees.OOBTree
import persistent


class Item(persistent.Persistent):
    """Stock of one product at one location."""

    def __init__(self, sku, name, quantity, location):
        self.sku = sku
        self.name = name
        self.quantity = quantity
        self.location = location


def items(root):
    """The items by SKU (empty, and not created, before the first one)."""
    return root.get('inventory', BTrees.OOBTree.OOBTree())


def add_item(root, item):
    if 'inventory' not in root:
        root['inventory'] = BTrees.OOBTree.OOBTree()
    root['inventory'][item.sku] = item
