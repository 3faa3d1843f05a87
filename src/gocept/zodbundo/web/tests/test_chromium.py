"""The operator's scenario in a real browser (headless Chromium)."""
import os
import shutil
import tempfile
import unittest

import transaction

import gocept.zodbundo.web.tests.layers
import gocept.zodbundo.web.tests.scenario


CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
WAIT = 30


def start_chromium(window_size='1280,800'):
    """Start headless Chromium; return the driver and its profile dir.

    Passing the driver's path keeps selenium-manager from downloading one.
    """
    import selenium.webdriver
    import selenium.webdriver.chrome.service
    profile = tempfile.mkdtemp(prefix='zodbundo-chromium-')
    options = selenium.webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ['--headless', '--no-sandbox', '--disable-gpu',
                 '--disable-quic', '--no-first-run',
                 '--disable-background-networking',
                 '--disable-component-update', '--disable-sync',
                 '--disable-dev-shm-usage', f'--window-size={window_size}',
                 f'--user-data-dir={profile}']:
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

    layer = gocept.zodbundo.web.tests.layers.SERVER

    def setUp(self):
        self.root = self.layer['zodbRoot']
        self.tids = gocept.zodbundo.web.tests.scenario.build_history(
            self.root)
        layers = gocept.zodbundo.web.tests.layers
        layers.PER_TEST_APP.app = layers.make_app(
            self.layer['zodbDB'], hosts=[self.layer['http_address']])
        self.addCleanup(setattr, layers.PER_TEST_APP, 'app', None)
        self.driver, profile = start_chromium()
        self.addCleanup(shutil.rmtree, profile, ignore_errors=True)
        self.addCleanup(self.driver.quit)

    def wait_for(self, css):
        import selenium.webdriver.common.by
        import selenium.webdriver.support.expected_conditions as EC
        import selenium.webdriver.support.wait
        return selenium.webdriver.support.wait.WebDriverWait(
            self.driver, WAIT).until(EC.presence_of_element_located(
                (selenium.webdriver.common.by.By.CSS_SELECTOR, css)))

    def test_find_preview_cascade_undo_in_a_real_browser(self):
        import selenium.webdriver.common.by
        By = selenium.webdriver.common.by.By
        driver = self.driver
        driver.get('{}/?token={}'.format(
            self.layer['http_url'], gocept.zodbundo.web.tests.layers.TOKEN))
        self.wait_for('#log')
        self.assertEqual(self.layer['http_url'] + '/', driver.current_url)
        # A description that is a script shows as text and runs nothing.
        self.assertEqual('Transactions · zodb-undo', driver.title)
        descriptions = [e.text for e in driver.find_elements(
            By.CSS_SELECTOR, '#log .description')]
        self.assertIn('<script>document.title="pwned"</script>',
                      descriptions)
        driver.find_element(By.ID, 'description').send_keys('import run')
        driver.find_element(By.ID, 'filter').click()
        self.wait_for('#log tr.transaction')
        rows = driver.find_elements(By.CSS_SELECTOR, '#log tr.transaction')
        self.assertEqual(1, len(rows))
        bad = self.tids['bad'].hex()
        rows[0].find_element(By.LINK_TEXT, bad).click()
        self.wait_for('#objects')
        driver.find_element(By.ID, 'preview-undo').click()
        self.wait_for('#plan')
        conflict = driver.find_element(By.CSS_SELECTOR, '#plan tr.conflict')
        self.assertIn(self.tids['later'].hex(), conflict.text)
        self.assertEqual([], driver.find_elements(By.ID, 'undo'))
        driver.find_element(By.ID, 'preview-cascade').click()
        self.wait_for('#undo').click()
        result = self.wait_for('#result')
        self.assertIn('Undo of', result.text)
        self.assertEqual(
            {bad, self.tids['later'].hex()},
            {e.text.strip() for e in driver.find_elements(
                By.CSS_SELECTOR, 'a.undone')})
        transaction.begin()
        self.assertEqual(
            [10, 10, 10], [self.root['shop'][n]['price'] for n in 'abc'])
