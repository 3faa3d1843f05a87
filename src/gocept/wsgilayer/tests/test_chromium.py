"""A real browser (headless Chromium) against WSGIServerLayer."""
import shutil
import unittest

import gocept.wsgilayer.tests.chromium
from gocept.wsgilayer.tests import layers






@gocept.wsgilayer.tests.chromium.needs_chromium
class ChromiumTest(unittest.TestCase):

    layer = layers.SERVER

    def setUp(self):
        self.driver, profile = gocept.wsgilayer.tests.chromium.start_chromium(
            'wsgilayer-chromium-')
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
