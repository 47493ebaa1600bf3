"""What the browser tests share: the real `esteira serve` started on a free port, a headless
Chromium driven by selenium, and waiting for the next page after a click."""
import os
import re
import shutil
import subprocess
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("ESTEIRA_BINARY", os.path.join(ROOT, ".build", "debug", "esteira"))
ARTIFACTS = os.environ.get("ESTEIRA_ARTIFACTS", os.path.join(ROOT, ".ci", "artifacts"))


def serve(env, log):
    """Starts `esteira serve --port 0` and returns the process and the address it says it listens on."""
    server = subprocess.Popen([BINARY, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        match = re.search(r"http://127\.0\.0\.1:\d+", server.stdout.readline())
        if match:
            return server, match.group(0)
    server.kill()
    raise AssertionError("the server did not start")


def chromium(width, height, downloads=None):
    """A headless Chromium (as root it needs --no-sandbox) at the screen size given."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}"]:
        options.add_argument(arg)
    if downloads:
        options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
    # The console's messages, where Chromium reports what a Content-Security-Policy refused.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    browser = webdriver.Chrome(options=options, service=service)
    browser.implicitly_wait(2)
    return browser


def click_and_wait(browser, element_id):
    """Clicks and waits for the next page to replace this one and finish loading. (A new document
    has a new time origin; Chromium's driver answers a stale element with a generic error, so
    `staleness_of` is not used.)"""
    def page_id():
        return browser.execute_script("return window.performance.timeOrigin")
    before = page_id()
    browser.find_element(By.ID, element_id).click()

    def loaded(driver):
        try:
            return page_id() != before and driver.execute_script("return document.readyState") == "complete"
        except Exception:
            return False  # between documents
    WebDriverWait(browser, 60, poll_frequency=0.05).until(loaded)


def csp_violations(browser):
    """What the pages' Content-Security-Policy refused since the last call (an inline style or
    script without its hash, a script from elsewhere): Chromium logs each to the console."""
    return [e["message"] for e in browser.get_log("browser") if "Content Security Policy" in e.get("message", "")]


def background(browser, selector):
    """The computed background colour of an element: the page's CSS applied, or the default
    (transparent) when a policy refused it."""
    return browser.execute_script("return getComputedStyle(document.querySelector(arguments[0])).backgroundColor", selector)
