"""A real browser (headless Chromium) against the app on a real port."""
import os
import shutil
import tempfile
import unittest

import inventory.testing


CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'


def start_chromium():
    """Start headless Chromium; return the driver and its profile dir.

    Passing the driver's path keeps selenium-manager from downloading one.
    """
    import selenium.webdriver
    import selenium.webdriver.chrome.service
    profile = tempfile.mkdtemp(prefix='inventory-chromium-')
    options = selenium.webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ['--headless', '--no-sandbox', '--disable-gpu',
                 '--disable-quic', '--no-first-run',
                 '--disable-background-networking',
                 '--disable-component-update', '--disable-sync',
                 '--disable-dev-shm-usage', f'--user-data-dir={profile}']:
        options.add_argument(flag)
    service = selenium.webdriver.chrome.service.Service(CHROMEDRIVER)
    try:
        driver = selenium.webdriver.Chrome(service=service, options=options)
    except BaseException:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    return driver, profile


@unittest.skipUnless(
    os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER),
    "needs Debian's chromium and chromium-driver packages")
class ChromiumTest(unittest.TestCase):

    layer = inventory.testing.SERVER

    def setUp(self):
        self.driver, profile = start_chromium()
        # Cleanups run even when the test fails, last registered first.
        self.addCleanup(shutil.rmtree, profile, ignore_errors=True)
        self.addCleanup(self.driver.quit)

    def test_adding_an_item_in_a_real_browser(self):
        import selenium.webdriver.common.by
        import selenium.webdriver.support.expected_conditions as EC
        import selenium.webdriver.support.select
        import selenium.webdriver.support.wait
        By = selenium.webdriver.common.by.By
        self.layer['http_server'].expect(
            'GET', '/api/products/SKU-7').respond(
                json={'sku': 'SKU-7', 'name': 'Milk jug'})
        # http_url is the app here: SERVER's resources shadow CATALOG's.
        self.driver.get(self.layer['http_url'] + '/add')
        self.assertEqual('Add item', self.driver.title)
        self.driver.find_element(By.ID, 'sku').send_keys('SKU-7')
        quantity = self.driver.find_element(By.ID, 'quantity')
        quantity.clear()
        quantity.send_keys('12')
        selenium.webdriver.support.select.Select(
            self.driver.find_element(By.ID, 'location')
        ).select_by_visible_text('Aisle 2')
        self.driver.find_element(By.ID, 'save').click()
        message = selenium.webdriver.support.wait.WebDriverWait(
            self.driver, 20).until(
                EC.presence_of_element_located((By.ID, 'message')))
        self.assertEqual('Added Milk jug.', message.text)
        row = self.driver.find_elements(By.CSS_SELECTOR, '#items tr')[1]
        self.assertEqual('SKU-7 Milk jug 12 Aisle 2', row.text)
