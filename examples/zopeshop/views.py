"""The public page of an article."""
import Products.Five.browser
import Products.Five.browser.pagetemplatefile


class ArticleView(Products.Five.browser.BrowserView):

    template = Products.Five.browser.pagetemplatefile.ViewPageTemplateFile(
        'www/article.pt')

    def price(self):
        """The price as the page shows it, e.g. '12.50 EUR'."""
        return f'{self.context.price} EUR'

    def __call__(self):
        return self.template()
