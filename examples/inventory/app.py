"""The Pyramid application: routes, views and a connection per request."""
import html

import pyramid.config
import pyramid.httpexceptions
import pyramid.response
import transaction
import zope.component

import inventory.catalog
import inventory.models
import inventory.sources


def make_app(settings, get_db):
    """Return the WSGI app; `get_db()` returns the `ZODB.DB` to use.

    A function rather than the database, so that each request asks for it:
    tests hand in one that returns the database of the running test.
    The ZCML (`configure.zcml`) must have been loaded.
    """
    settings = dict(settings)
    settings['catalog'] = inventory.catalog.Catalog(
        settings['catalog.url'], settings.get('catalog.timeout', 2.0))
    settings['get_db'] = get_db
    with pyramid.config.Configurator(settings=settings) as config:
        config.add_tween('inventory.app.zodb_tween_factory')
        config.add_route('home', '/')
        config.add_view(home, route_name='home')
        config.add_route('add', '/add')
        config.add_view(add_form, route_name='add', request_method='GET')
        config.add_view(add, route_name='add', request_method='POST')
        config.add_route('api_items', '/api/items')
        config.add_view(api_items, route_name='api_items', renderer='json')
        return config.make_wsgi_app()


def zodb_tween_factory(handler, registry):
    """Open a connection for each request; commit unless it failed."""
    get_db = registry.settings['get_db']

    def zodb_tween(request):
        manager = transaction.TransactionManager(explicit=True)
        connection = get_db().open(transaction_manager=manager)
        try:
            manager.begin()
            request.zodb_root = connection.root()
            try:
                response = handler(request)
            except BaseException:
                manager.abort()
                raise
            if response.status_code >= 400:
                manager.abort()
            else:
                manager.commit()
            return response
        finally:
            connection.close()

    return zodb_tween


PAGE = """\
<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""


def page(title, body, status=200):
    return pyramid.response.Response(
        PAGE.format(title=html.escape(title), body=body), status=status,
        content_type='text/html', charset='utf-8')


def locations():
    return zope.component.getUtility(inventory.sources.ILocationSource)


def home(request):
    source = locations()
    rows = ''.join(
        f'<tr><td>{html.escape(item.sku)}</td>'
        f'<td>{html.escape(item.name)}</td>'
        f'<td>{item.quantity}</td>'
        f'<td>{html.escape(source.factory.getTitle(item.location))}</td>'
        '</tr>\n'
        for item in inventory.models.items(request.zodb_root).values())
    added = request.params.get('added')
    message = (f'<p id="message">Added {html.escape(added)}.</p>\n'
               if added else '')
    table = (
        '<table id="items">\n<tr><th>SKU</th><th>Name</th><th>Quantity</th>'
        f'<th>Location</th></tr>\n{rows}</table>\n'
        if rows else '<p id="empty">No items yet.</p>\n')
    return page('Inventory',
                message + table + '<p><a href="/add">Add item</a></p>')


def form_page(request, errors=(), status=200):
    source = locations()
    chosen = request.params.get('location')
    options = ''.join(
        '<option value="{token}"{selected}>{title}</option>'.format(
            token=html.escape(source.factory.getToken(value)),
            title=html.escape(source.factory.getTitle(value)),
            selected=(' selected="selected"'
                      if source.factory.getToken(value) == chosen else ''))
        for value in source)
    error_list = ''.join(
        f'<li>{html.escape(error)}</li>' for error in errors)
    return page('Add item', f"""\
<ul id="errors">{error_list}</ul>
<form action="/add" method="post">
  <label for="sku">SKU</label>
  <input type="text" id="sku" name="sku"
         value="{html.escape(request.params.get('sku', ''))}" />
  <label for="quantity">Quantity</label>
  <input type="number" id="quantity" name="quantity"
         value="{html.escape(request.params.get('quantity', '1'))}" />
  <label for="location">Location</label>
  <select id="location" name="location">{options}</select>
  <input type="submit" id="save" name="save" value="Save" />
</form>
""", status=status)


def add_form(request):
    return form_page(request)


def add(request):
    errors = []
    sku = request.POST.get('sku', '').strip()
    if not sku:
        errors.append('Please enter the SKU.')
    try:
        quantity = int(request.POST.get('quantity', ''))
        if quantity < 0:
            raise ValueError()
    except ValueError:
        errors.append('The quantity must be a whole number, 0 or more.')
    source = locations()
    try:
        location = source.factory.getValue(
            source, request.POST.get('location', ''))
    except KeyError:
        errors.append('Please choose a location from the list.')
    if errors:
        return form_page(request, errors)
    catalog = request.registry.settings['catalog']
    try:
        product = catalog.product(sku)
    except inventory.catalog.UnknownProduct as e:
        return form_page(request, [str(e)])
    except inventory.catalog.CatalogTimeout as e:
        return form_page(
            request, [f'{e} Nothing was saved, please try again.'], 504)
    except inventory.catalog.CatalogUnavailable as e:
        return form_page(
            request, [f'{e} Nothing was saved, please try again.'], 503)
    inventory.models.add_item(request.zodb_root, inventory.models.Item(
        product.sku, product.name, quantity, location))
    return pyramid.httpexceptions.HTTPSeeOther(
        request.route_url('home', _query={'added': product.name}))


def api_items(request):
    return [
        {'sku': item.sku, 'name': item.name, 'quantity': item.quantity,
         'location': item.location}
        for item in inventory.models.items(request.zodb_root).values()]
