"""dashboard_server over real HTTP: the original routes and shapes, the 400s, SSE, static files,
clean shutdown with an event stream open."""
import json
import signal
import socket
import threading
import time

import requests

from harness import free_port, program, wait_port, wait_until

FORM = {"label": "['#world', '#cpp']", "data": "[1, 1]"}
BODY_LIMIT = 128 * 1024  # dashboard_server::max_body


def start_dashboard(procs, *extra):
    port = free_port()
    p = procs("dashboard_server", [program("dashboard_server"), "--port", str(port), *extra])
    wait_port(port, proc=p)
    return p, f"http://127.0.0.1:{port}"


def test_update_then_refresh_returns_the_original_shapes(procs):
    _, url = start_dashboard(procs)
    assert requests.get(url + "/refreshDashboard").json() == {"r_hashtags": [], "r_counts": []}
    r = requests.post(url + "/updateDashboard", data=FORM)
    assert (r.status_code, r.text) == (201, "success")
    assert requests.get(url + "/refreshDashboard").json() == {"r_hashtags": ["#world", "#cpp"], "r_counts": [1, 1]}
    r = requests.post(url + "/updateDashboard", json={"label": ["#café", "#x"], "data": [3, 2]})
    assert (r.status_code, r.text) == (201, "success")
    body = requests.get(url + "/refreshDashboard")
    assert body.json() == {"r_hashtags": ["#café", "#x"], "r_counts": [3, 2]}
    assert body.headers["X-Board-Version"] == "2"


def test_the_page_does_not_reset_the_data(procs):
    _, url = start_dashboard(procs)
    requests.post(url + "/updateDashboard", data=FORM)
    page = requests.get(url + "/")
    assert page.status_code == 200
    assert "<title>Top Twitter Hashtags</title>" in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert requests.get(url + "/refreshDashboard").json()["r_counts"] == [1, 1]


def test_bad_updates_get_400_with_a_reason_and_change_nothing(procs):
    dash, url = start_dashboard(procs)
    requests.post(url + "/updateDashboard", data=FORM)
    cases = [
        ({}, "error: no data"),
        ({"label": "['#a']"}, "error: no data"),
        ({"label": "['#a'", "data": "[1]"}, "error: label is not a Python list of str"),
        ({"label": "['#a', '#b']", "data": "[1]"}, "error: label has 2 items but data has 1"),
    ]
    for form, reason in cases:
        r = requests.post(url + "/updateDashboard", data=form)
        assert r.status_code == 400, form
        assert r.text.startswith(reason), (form, r.text)
    r = requests.post(url + "/updateDashboard", data="x" * (BODY_LIMIT + 1),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and f"over the limit of {BODY_LIMIT} bytes" in r.text
    r = requests.post(url + "/updateDashboard", data="{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.text.startswith("error: body is not JSON")
    assert requests.get(url + "/refreshDashboard").json() == {"r_hashtags": ["#world", "#cpp"], "r_counts": [1, 1]}
    assert requests.get(url + "/nope").status_code == 404
    assert requests.get(url + "/healthz").json()["version"] == 1
    assert "refused" in dash.log_text()


def test_a_multipart_form_is_accepted_as_flask_does(procs):
    _, url = start_dashboard(procs)
    r = requests.post(url + "/updateDashboard", files={"label": (None, "['#m']"), "data": (None, "[9]")})
    assert (r.status_code, r.text) == (201, "success")
    assert requests.get(url + "/refreshDashboard").json() == {"r_hashtags": ["#m"], "r_counts": [9]}


def test_static_files_and_chartjs_are_served_locally(procs):
    _, url = start_dashboard(procs)
    for name, kind in [("app.js", "text/javascript"), ("style.css", "text/css"), ("chart.min.js", "text/javascript")]:
        r = requests.get(f"{url}/static/{name}")
        assert r.status_code == 200, name
        assert r.headers["Content-Type"].startswith(kind)
    assert "Chart.js v3" in requests.get(url + "/static/chart.min.js").text[:200]
    assert requests.get(url + "/static/..%2Fmain.cpp").status_code == 404


def read_events(url, count, timeout=10.0):
    """Opens /events and returns the first `count` events' data as parsed JSON."""
    events = []
    with requests.get(url + "/events", stream=True, timeout=timeout) as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/event-stream")
        for line in r.iter_lines(decode_unicode=True):
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if len(events) == count:
                    break
    return events


def test_events_send_the_current_board_on_connect_then_each_new_one(procs):
    _, url = start_dashboard(procs)
    requests.post(url + "/updateDashboard", data=FORM)
    got = []
    reader = threading.Thread(target=lambda: got.extend(read_events(url, 3)))
    reader.start()
    wait_until(lambda: requests.get(url + "/healthz").json()["sse_clients"] == 1, message="the stream open")
    requests.post(url + "/updateDashboard", json={"label": ["#two"], "data": [2]})
    time.sleep(0.2)
    requests.post(url + "/updateDashboard", json={"label": ["#three"], "data": [3]})
    reader.join(15)
    assert [e["r_hashtags"] for e in got] == [["#world", "#cpp"], ["#two"], ["#three"]]
    assert [e["version"] for e in got] == [1, 2, 3]
    assert got[-1]["updated"].endswith("Z")


def test_sigterm_stops_the_server_promptly_even_with_an_event_stream_open(procs):
    dash, url = start_dashboard(procs)
    s = socket.create_connection((url.split(":")[1][2:], int(url.rsplit(":", 1)[1])))
    s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(10)
    head = b""
    while b"retry: 1000" not in head:
        chunk = s.recv(4096)
        assert chunk, f"the stream closed early: {head!r}"
        head += chunk
    wait_until(lambda: requests.get(url + "/healthz").json()["sse_clients"] == 1, message="the stream open")
    started = time.monotonic()
    assert dash.stop(signal.SIGTERM, timeout=10) == 0
    assert time.monotonic() - started < 5
    s.close()
    log = dash.log_text()
    assert "stopping on SIGTERM" in log and "stopped" in log


def test_a_port_in_use_is_a_clear_error(procs):
    _, url = start_dashboard(procs)
    port = url.rsplit(":", 1)[1]
    p = procs("dashboard_server-dup", [program("dashboard_server"), "--port", port])
    assert p.popen.wait(10) == 1
    assert "cannot listen on 127.0.0.1:" + port in p.log_text()


def test_listen_takes_host_port_and_ipv6(procs):
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
            port = probe.getsockname()[1]
    except OSError:
        import pytest
        pytest.skip("no IPv6 loopback on this machine")
    p = procs("dashboard_server-v6", [program("dashboard_server"), "--listen", f"[::1]:{port}"])
    wait_port(port, host="::1", proc=p)
    assert requests.get(f"http://[::1]:{port}/healthz", timeout=5).json()["status"] == "ok"
    assert f"serving http://[::1]:{port}/" in p.log_text()
    p2 = procs("dashboard_server-v6-host", [program("dashboard_server"), "--host", "::1", "--port", str(port)])
    assert p2.popen.wait(10) == 1  # the same address, given the other way, is taken
    assert f"cannot listen on [::1]:{port}" in p2.log_text()
