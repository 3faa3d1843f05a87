"""zopeshop: a small Zope product, the example of a Zope project's tests."""


def initialize(context):
    """Zope calls this when it installs the package (five:registerPackage)."""
    import zopeshop.article
    context.registerClass(
        zopeshop.article.Article,
        permission=zopeshop.article.ADD_PERMISSION,
        constructors=(zopeshop.article.manage_addArticleForm,
                      zopeshop.article.manage_addArticle),
        icon=None)
