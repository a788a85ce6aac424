"""The live page in Debian's headless chromium (python3-selenium + chromium-driver): it shows a
posted top-10 within 2 s, updates on the next POST without reloading, and hostile hashtags show
as text and run nothing, with no console error. A screenshot is saved to $TREND_ARTIFACTS.
test_browser_page.py tests the rest of the page (history, markers, health, every screen)."""
import time

import pytest
import requests

from browser import browser, console_errors, page_state, shows  # noqa: F401  (browser is a fixture)
from harness import ARTIFACTS, free_port, program, wait_port, wait_until

HOSTILE = ["#<img src=x onerror=alert(1)>", "#</script>", "#<img src=x onerror=window.__pwned=true>",
           "#\"><script>window.__pwned=true</script>"]


def test_the_page_shows_each_post_live_and_hostile_hashtags_as_text(procs, browser):
    port = free_port()
    dash = procs("dashboard_server", [program("dashboard_server"), "--port", str(port)])
    wait_port(port, proc=dash)
    url = f"http://127.0.0.1:{port}"
    browser.get(url + "/")
    assert browser.title == "Top Twitter Hashtags"
    wait_until(lambda: page_state(browser) and page_state(browser)["connection"] == "live", timeout=10,
               message="the event stream to open")
    browser.execute_script("window.__same_page = true; window.__pwned = false;")

    labels = [f"#tag{i}" for i in range(10)]
    counts = list(range(100, 90, -1))
    posted = time.monotonic()
    assert requests.post(url + "/updateDashboard", data={"label": str(labels), "data": str(counts)}).status_code == 201
    wait_until(lambda: shows(browser, labels, counts), timeout=2, interval=0.05, message="the top-10 on the page")
    print(f"page showed the POST after {time.monotonic() - posted:.3f} s")
    assert page_state(browser)["updated"] != "never"

    second = ["#café", "#tag1", "#it's"]
    assert requests.post(url + "/updateDashboard", json={"label": second, "data": [150, 99, 5]}).status_code == 201
    wait_until(lambda: shows(browser, second, [150, 99, 5]), timeout=2, interval=0.05, message="the second POST")
    assert browser.execute_script("return window.__same_page === true"), "the page reloaded"

    hostile_counts = [40, 30, 20, 10]
    assert requests.post(url + "/updateDashboard",
                         data={"label": str(HOSTILE), "data": str(hostile_counts)}).status_code == 201
    wait_until(lambda: shows(browser, HOSTILE, hostile_counts), timeout=2, interval=0.05,
               message="the hostile hashtags as text")
    time.sleep(0.5)  # give an injected onerror every chance to fire
    from selenium.common.exceptions import NoAlertPresentException
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018  (an alert would be a script run from a hashtag)
    assert browser.execute_script("return window.__pwned") is False
    assert browser.execute_script("return document.querySelectorAll('img, main script').length") == 0

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # A readable final state for the screenshot.
    final = ["#python", "#cpp", "#café", "#</script>", "#<img src=x onerror=alert(1)>", "#wallaroo",
             "#realtime", "#dataviz", "#opensource", "#it's"]
    final_counts = [120, 95, 80, 64, 50, 41, 33, 20, 12, 5]
    requests.post(url + "/updateDashboard", data={"label": str(final), "data": str(final_counts)})
    wait_until(lambda: shows(browser, final, final_counts), timeout=2, interval=0.05, message="the final top-10")
    time.sleep(0.4)  # let the bar animation finish
    assert browser.save_screenshot(str(ARTIFACTS / "dashboard.png"))
    assert console_errors(browser) == []  # no 404 for /favicon.ico, no CSP violation, no exception


def test_the_page_falls_back_to_polling_and_recovers_when_the_dashboard_restarts(procs, browser):
    port = free_port()
    dash = procs("dashboard_server", [program("dashboard_server"), "--port", str(port)])
    wait_port(port, proc=dash)
    url = f"http://127.0.0.1:{port}"
    browser.get(url + "/")
    wait_until(lambda: page_state(browser)["connection"] == "live", timeout=10, message="live")
    dash.kill()
    wait_until(lambda: page_state(browser)["connection"] in ("polling", "disconnected"), timeout=10,
               message="the page noticing the server is gone")
    dash2 = procs("dashboard_server", [program("dashboard_server"), "--port", str(port)])
    wait_port(port, proc=dash2)
    requests.post(url + "/updateDashboard", data={"label": "['#back']", "data": "[1]"})
    wait_until(lambda: shows(browser, ["#back"], [1]), timeout=10, message="data after the restart")
    wait_until(lambda: page_state(browser)["connection"] == "live", timeout=15, message="live again")


def test_ten_280_character_hashtags_through_a_real_receiver_show_on_the_page(procs, browser):
    """Issue 9, defect 2: the longest top 10 legal tweets can produce (ten 280-character hashtags
    of 4-byte characters) once froze the page; written to a real receiver as the engine writes it,
    it reaches the page, and so does the next one."""
    import socket
    from test_dashboard_hardening import longest_tags, start_dashboard, start_receiver
    dash, dport = start_dashboard(procs)
    recv, rport = start_receiver(procs, dport)
    browser.get(f"http://127.0.0.1:{dport}/")
    wait_until(lambda: page_state(browser) and page_state(browser)["connection"] == "live", timeout=10,
               message="the event stream to open")
    tags = longest_tags()
    counts = list(range(1000, 990, -1))
    with socket.create_connection(("127.0.0.1", rport)) as engine:
        engine.sendall((str({"label": str(tags), "data": str(counts)}) + ";;\n").encode())
        wait_until(lambda: shows(browser, tags, counts), timeout=10, interval=0.1, message="the longest top 10")
        engine.sendall((str({"label": str(["#after"]), "data": str([1])}) + ";;\n").encode())
        wait_until(lambda: shows(browser, ["#after"], [1]), timeout=10, interval=0.1, message="the next top 10")
