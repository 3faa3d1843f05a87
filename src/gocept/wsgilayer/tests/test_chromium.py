"""A real browser (headless Chromium) against WSGIServerLayer."""
import os
import shutil
import tempfile
import unittest

from gocept.wsgilayer.tests import layers


CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'


def start_chromium():
    """Start headless Chromium; return the driver and its profile dir.

    The driver path is given explicitly, so selenium-manager never tries
    to download one.
    """
    import selenium.webdriver
    import selenium.webdriver.chrome.service
    profile = tempfile.mkdtemp(prefix='wsgilayer-chromium-')
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

    layer = layers.SERVER

    def setUp(self):
        self.driver, profile = start_chromium()
        # Cleanups run even when the test fails, last registered first.
        self.addCleanup(shutil.rmtree, profile, ignore_errors=True)
        self.addCleanup(self.driver.quit)

    def test_browser_submits_a_form_and_reads_the_result(self):
        import selenium.webdriver.common.by
        import selenium.webdriver.support.expected_conditions as EC
        import selenium.webdriver.support.wait
        By = selenium.webdriver.common.by.By
        self.driver.get(self.layer['http_url'] + '/')
        self.assertEqual('Hello from Pyramid', self.driver.title)
        self.driver.find_element(By.ID, 'name').send_keys('Grace')
        self.driver.find_element(By.ID, 'submit').click()
        result = selenium.webdriver.support.wait.WebDriverWait(
            self.driver, 20).until(
                EC.presence_of_element_located((By.ID, 'result')))
        self.assertEqual('Hello from Pyramid, Grace!', result.text)
        self.assertEqual(self.layer['http_url'] + '/greet',
                         self.driver.current_url)
