"""The operator's scenario in a real browser (headless Chromium)."""
import shutil
import unittest

import transaction

import gocept.wsgilayer.tests.chromium
import gocept.zodbundo.web.tests.layers
import gocept.zodbundo.web.tests.scenario


WAIT = 30




@gocept.wsgilayer.tests.chromium.needs_chromium
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
        self.driver, profile = gocept.wsgilayer.tests.chromium.start_chromium(
            'zodbundo-chromium-', window_size='1280,800')
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
