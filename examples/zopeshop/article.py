"""A shop article: a title, a price and a description, edited in the ZMI."""
import decimal

import AccessControl.class_init
import AccessControl.SecurityInfo
import OFS.SimpleItem
import Products.PageTemplates.PageTemplateFile
import zExceptions


ADD_PERMISSION = 'zopeshop: Add Articles'
EDIT_PERMISSION = 'zopeshop: Edit Articles'


def parse_price(text):
    """A price as `Decimal` with two places, from user input like '3.5'.

    Raises ValueError naming the input when it is no amount of money.
    """
    try:
        price = decimal.Decimal(text.strip().replace(',', '.'))
    except decimal.InvalidOperation:
        raise ValueError(f'{text!r} is not a price, e.g. 12.50') from None
    if not price.is_finite() or price < 0:
        raise ValueError(f'{text!r} is not a price, e.g. 12.50')
    return price.quantize(decimal.Decimal('0.01'))


class Article(OFS.SimpleItem.SimpleItem):
    """Something the shop sells."""

    meta_type = 'Shop Article'
    zmi_icon = 'fas fa-tag'

    security = AccessControl.SecurityInfo.ClassSecurityInfo()
    security.setPermissionDefault(EDIT_PERMISSION, ('Manager',))

    manage_options = (
        {'label': 'Edit', 'action': 'manage_editForm'},
        {'label': 'View', 'action': ''},
    ) + OFS.SimpleItem.SimpleItem.manage_options

    def __init__(self, id, title, price, description=''):
        self.id = id
        self.title = title
        self.price = price
        self.description = description

    security.declareProtected(EDIT_PERMISSION, 'manage_editForm')
    manage_editForm = Products.PageTemplates.PageTemplateFile.PageTemplateFile(
        'www/editArticle.zpt', globals(), __name__='manage_editForm')

    @security.protected(EDIT_PERMISSION)
    def manage_edit(self, title, price, description='', REQUEST=None):
        """Change the article (the Edit tab's form posts here)."""
        self.title = title
        self.price = _price_or_bad_request(price)
        self.description = description
        if REQUEST is not None:
            REQUEST.RESPONSE.redirect(
                self.absolute_url() + '/manage_editForm')


AccessControl.class_init.InitializeClass(Article)


manage_addArticleForm = (
    Products.PageTemplates.PageTemplateFile.PageTemplateFile(
        'www/addArticle.zpt', globals(), __name__='manage_addArticleForm'))


def manage_addArticle(self, id, title, price, description='', REQUEST=None):
    """Add an article to a folder (the ZMI add form posts here)."""
    self._setObject(
        id, Article(id, title, _price_or_bad_request(price), description))
    if REQUEST is not None:
        REQUEST.RESPONSE.redirect(self.absolute_url() + '/manage_main')
    return id


def _price_or_bad_request(text):
    try:
        return parse_price(text)
    except ValueError as e:
        # Zope answers 400 with the message.
        raise zExceptions.BadRequest(str(e)) from None
