"""Screenshots of `zodb-undo serve`'s log and undo preview pages.

Builds a small shop database with a bad import run, starts the pages on
a loopback port (waitress, as `zodb-undo serve` does) and photographs
them in headless Chromium:

    bin/python docs/zodbundo-web/make_screenshots.py [OUTDIR]

writes log.png and preview.png (default: this script's directory).
"""
import os
import shutil
import socket
import sys
import tempfile
import threading

import persistent.mapping
import transaction
import waitress
import ZODB
import ZODB.FileStorage

import gocept.wsgilayer.tests.chromium
import gocept.zodbundo.web


SIZE = '1100,600'


def build(path):
    db = ZODB.DB(ZODB.FileStorage.FileStorage(path))
    manager = transaction.TransactionManager()
    root = db.open(manager).root()

    def commit(note, user):
        txn = manager.get()
        txn.note(note)
        txn.user = user
        manager.commit()

    shop = root['shop'] = persistent.mapping.PersistentMapping()
    for name, price in (('kettle', 39), ('teapot', 24), ('mug', 7)):
        shop[name] = persistent.mapping.PersistentMapping(price=price)
    commit('create shop', '/acl_users admin')
    for i in range(1, 6):
        shop['mug']['stock'] = 10 * i
        commit('stock update {}'.format(i), '/acl_users clerk')
    for name in ('kettle', 'teapot', 'mug'):
        shop[name]['price'] = 0
    commit('import run 7\nprices from supplier.csv', 'importer')
    bad = shop['kettle']._p_serial.hex()
    shop['kettle']['price'] = 41
    commit('manual fix of the kettle', '/acl_users bob')
    shop['teapot']['title'] = 'Teapot, 1 l'
    commit('edit teapot title', '/acl_users bob')
    return db, bad


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    out = argv[0] if argv else os.path.dirname(os.path.abspath(__file__))
    directory = tempfile.mkdtemp(prefix='zodbundo-screenshots.')
    try:
        db, bad = build(os.path.join(directory, 'Data.fs'))
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
        address = '127.0.0.1:{}'.format(port)
        app = gocept.zodbundo.web.make_app(
            db, 'screenshot', [address], allow_commit=True)
        server = waitress.create_server(app, sockets=[sock])
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        driver, profile = gocept.wsgilayer.tests.chromium.start_chromium(
            'zodbundo-screenshots-', window_size=SIZE)
        try:
            base = 'http://{}'.format(address)
            driver.get(base + '/?token=screenshot')
            driver.save_screenshot(os.path.join(out, 'log.png'))
            driver.get('{}/undo?tid={}'.format(base, bad))
            driver.save_screenshot(os.path.join(out, 'preview.png'))
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
            server.close()
            thread.join(10)
            db.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print('wrote log.png and preview.png to', out)


if __name__ == '__main__':
    main()
