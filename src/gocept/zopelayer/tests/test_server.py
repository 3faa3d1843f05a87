"""Zope on a real port: a subprocess and headless Chromium reach the ZMI."""
import base64
import shutil
import subprocess
import sys
import unittest

import gocept.wsgilayer.tests.chromium
import gocept.zopelayer
import gocept.zopelayer.tests.layers as layers


FETCH = """\
import sys, urllib.request
request = urllib.request.Request(sys.argv[1])
request.add_header('Authorization', sys.argv[2])
with urllib.request.urlopen(request, timeout=60) as response:
    print(response.status)
    print(response.read().decode('utf-8'))
"""


def basic_auth():
    """RFC 7617 credentials of the site owner."""
    pair = (f'{gocept.zopelayer.SITE_OWNER_NAME}:'
            f'{gocept.zopelayer.SITE_OWNER_PASSWORD}')
    return 'Basic ' + base64.b64encode(pair.encode()).decode()


class SubprocessTests(unittest.TestCase):

    layer = layers.SERVER

    def test_subprocess_reaches_the_zmi(self):
        result = subprocess.run(
            [sys.executable, '-c', FETCH,
             self.layer['http_url'] + '/manage_main', basic_auth()],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(0, result.returncode, result.stderr)
        status, body = result.stdout.split('\n', 1)
        self.assertEqual('200', status)
        self.assertIn('shop', body)




@gocept.wsgilayer.tests.chromium.needs_chromium
class ChromiumTests(unittest.TestCase):

    layer = layers.SERVER

    def setUp(self):
        self.driver, profile = gocept.wsgilayer.tests.chromium.start_chromium(
            'zopelayer-chromium-')
        self.addCleanup(shutil.rmtree, profile, ignore_errors=True)
        self.addCleanup(self.driver.quit)
        # Basic auth as a header on every request (the DevTools protocol):
        # Chromium has no other way to log in without a dialog.
        self.driver.execute_cdp_cmd('Network.enable', {})
        self.driver.execute_cdp_cmd(
            'Network.setExtraHTTPHeaders',
            {'headers': {'Authorization': basic_auth()}})

    def test_adding_a_folder_in_the_zmi(self):
        import selenium.webdriver.common.by
        import selenium.webdriver.support.expected_conditions as EC
        import selenium.webdriver.support.wait
        By = selenium.webdriver.common.by.By
        url = self.layer['http_url']
        self.driver.get(url + '/manage_addProduct/OFSP/folderAdd')
        self.driver.find_element(By.NAME, 'id').send_keys('from-chromium')
        self.driver.find_element(
            By.CSS_SELECTOR, 'input[type=submit][value=Add]').click()
        selenium.webdriver.support.wait.WebDriverWait(self.driver, 30).until(
            EC.presence_of_element_located(
                (By.CSS_SELECTOR, 'a[href*="from-chromium"]')))
        self.driver.get(url + '/manage_main')
        self.assertIn('from-chromium', self.driver.page_source)
