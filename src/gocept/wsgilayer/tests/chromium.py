"""Headless Chromium for the real-browser tests of every package.

The examples keep a copy of their own on purpose: each must stay copyable
into a project as it is.
"""
import os
import shutil
import tempfile
import unittest


CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'

needs_chromium = unittest.skipUnless(
    os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER),
    "needs Debian's chromium and chromium-driver packages")


def start_chromium(prefix='chromium-', window_size=None):
    """Start headless Chromium; return the driver and its profile dir.

    The driver path is given explicitly, so selenium-manager never tries
    to download one. The caller quits the driver and removes the profile.
    """
    import selenium.webdriver
    import selenium.webdriver.chrome.service
    profile = tempfile.mkdtemp(prefix=prefix)
    options = selenium.webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
             '--no-first-run', '--disable-background-networking',
             '--disable-component-update', '--disable-sync',
             '--disable-dev-shm-usage', f'--user-data-dir={profile}']
    if window_size:
        flags.append(f'--window-size={window_size}')
    for flag in flags:
        options.add_argument(flag)
    service = selenium.webdriver.chrome.service.Service(CHROMEDRIVER)
    try:
        driver = selenium.webdriver.Chrome(service=service, options=options)
    except BaseException:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    return driver, profile
