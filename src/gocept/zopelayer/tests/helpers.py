"""Browsing the ZMI as the site owner."""


def add_folder_in_zmi(layer, id, title=''):
    """Add a Folder through the ZMI's add form; return the browser."""
    browser = layer.browser(login=True)
    browser.open(
        layer['wsgi_url'] + '/manage_addProduct/OFSP/folderAdd')
    browser.getControl(name='id').value = id
    browser.getControl(name='title').value = title
    browser.getControl('Add').click()
    return browser


def ids_in_zmi(layer):
    """The ids the ZMI's Contents tab of the root lists."""
    browser = layer.browser(layer['wsgi_url'] + '/manage_main', login=True)
    return {
        control.optionValue
        for control in browser.getControl(name='ids:list').controls}
