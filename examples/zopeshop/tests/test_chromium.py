"""A real browser (headless Chromium) against Zope on a real port."""
import base64
import os
import shutil
import tempfile
import unittest

import gocept.zopelayer
import zopeshop.testing


CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'


def start_chromium():
    """Start headless Chromium; return the driver and its profile dir.

    Passing the driver's path keeps selenium-manager from downloading one.
    """
    import selenium.webdriver
    import selenium.webdriver.chrome.service
    profile = tempfile.mkdtemp(prefix='zopeshop-chromium-')
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


def log_in(driver):
    """Send the site owner's Basic credentials with every request.

    Through the DevTools protocol: Chromium would otherwise show a login
    dialog that WebDriver cannot fill in.
    """
    credentials = (f'{gocept.zopelayer.SITE_OWNER_NAME}:'
                   f'{gocept.zopelayer.SITE_OWNER_PASSWORD}')
    driver.execute_cdp_cmd('Network.enable', {})
    driver.execute_cdp_cmd('Network.setExtraHTTPHeaders', {'headers': {
        'Authorization':
            'Basic ' + base64.b64encode(credentials.encode()).decode()}})


@unittest.skipUnless(
    os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER),
    "needs Debian's chromium and chromium-driver packages")
class ChromiumTest(unittest.TestCase):

    layer = zopeshop.testing.SERVER

    def setUp(self):
        self.driver, profile = start_chromium()
        # Cleanups run even when the test fails, last registered first.
        self.addCleanup(shutil.rmtree, profile, ignore_errors=True)
        self.addCleanup(self.driver.quit)

    def test_adding_an_article_in_the_zmi(self):
        import selenium.webdriver.common.by
        import selenium.webdriver.support.expected_conditions as EC
        import selenium.webdriver.support.wait
        By = selenium.webdriver.common.by.By
        log_in(self.driver)
        url = self.layer['http_url']
        self.driver.get(
            url + '/shop/manage_addProduct/zopeshop/manage_addArticleForm')
        self.driver.find_element(By.ID, 'id').send_keys('mug')
        self.driver.find_element(By.ID, 'title').send_keys('Tea mug')
        self.driver.find_element(By.ID, 'price').send_keys('4.50')
        self.driver.find_element(By.ID, 'add').click()
        # The add form redirects to the folder's contents.
        selenium.webdriver.support.wait.WebDriverWait(self.driver, 30).until(
            EC.url_contains('/shop/manage_main'))
        self.assertIn('Tea mug', self.driver.page_source)
        self.driver.get(url + '/shop/mug')
        self.assertEqual('Tea mug', self.driver.title)
        self.assertEqual(
            '4.50 EUR', self.driver.find_element(By.ID, 'price').text)
