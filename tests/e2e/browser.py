"""Debian's headless chromium through python3-selenium and chromium-driver, for the page's tests:
the `browser` fixture (console messages kept), screen and colour-scheme emulation, full-page
screenshots, console errors, and what the page exposes of its state."""
import base64
import shutil
import tempfile

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="python3-selenium is not installed")
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip("chromium and chromium-driver are not installed (scripts/setup.sh installs them)")
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix="trend-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", "--window-size=1000,900"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver):
    """Console errors since the last call (404s, CSP violations, exceptions): SEVERE entries."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def emulate(driver, width, height=900, dark=False):
    """A screen `width` CSS pixels wide (a phone's below 500), light or dark colour scheme."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                           {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})


def full_screenshot(driver, path):
    """The whole page, not only what the screen shows, as a PNG at `path`."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def page_state(driver):
    """What the page shows: its connection and health, the board, the table's cells, the chart's labels."""
    return driver.execute_script(
        "var d = window.trendDashboard; if (!d) return null;"
        "var s = d.state(), c = d.chart();"
        "return {connection: s.connection, health: s.health, labels: s.labels, counts: s.counts,"
        " version: s.version, chart_labels: c ? c.data.labels : null,"
        " rows: Array.from(document.querySelectorAll('#top-rows tr')).map(function (tr) {"
        "   return Array.from(tr.children).map(function (td) { return td.textContent; }); }),"
        " trends: Array.from(document.querySelectorAll('#top-rows td[data-trend]')).map(function (td) {"
        "   return [td.getAttribute('data-trend'), Number(td.getAttribute('data-places'))]; }),"
        " updated: document.getElementById('updated').textContent,"
        " state_text: document.getElementById('connection').textContent,"
        " rate: document.getElementById('rate').textContent,"
        " age: document.getElementById('age').textContent};")


def shows(driver, labels, counts):
    """Whether the table (place, hashtag, count) and the bar chart show exactly this top list."""
    s = page_state(driver)
    return bool(s) and [r[:3] for r in s["rows"]] == [[str(i + 1), l, str(c)] for i, (l, c) in
                                                       enumerate(zip(labels, counts))] \
        and s["chart_labels"] == labels
