"""dashboard_server's GET /metrics: requests by route and status, updates, event streams, each
equal to the requests the test made."""
import socket
import time

import requests

from harness import free_port, program, wait_port, wait_until
from scrape import scrape

FORM = {"label": "['#world', '#cpp']", "data": "[1, 1]"}


def test_requests_by_route_and_status_updates_and_event_streams(procs):
    port = free_port()
    dash = procs("dashboard_server", [program("dashboard_server"), "--port", str(port), "--threads", "4"])
    wait_port(port, proc=dash)
    url = f"http://127.0.0.1:{port}"
    before = time.time()
    s = scrape(port)  # nothing yet but this scrape's own count, which the next scrape shows
    assert s.value("trend_dashboard_server_updates_total") == 0
    assert s.value("trend_dashboard_server_last_update_timestamp_seconds") == 0
    assert s.total("trend_dashboard_server_requests_total") == 0

    assert requests.get(url + "/").status_code == 200
    assert requests.get(url + "/static/app.js").status_code == 200
    assert requests.get(url + "/static/missing.js").status_code == 404
    assert requests.get(url + "/refreshDashboard").status_code == 200
    assert requests.post(url + "/updateDashboard", data=FORM).status_code == 201
    assert requests.post(url + "/updateDashboard", json={"label": ["#a"], "data": [7]}).status_code == 201
    assert requests.post(url + "/updateDashboard", data={"label": "['#a']"}).status_code == 400
    assert requests.get(url + "/nowhere").status_code == 404
    assert requests.post(url + "/refreshDashboard").status_code == 405
    assert requests.get(url + "/healthz").status_code == 200
    with socket.create_connection(("127.0.0.1", port)) as raw:  # refused before routing
        raw.sendall(b"NOT HTTP\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 400")
    # With --threads 4 two event streams may be open; a third one is turned away.
    streams = [requests.get(url + "/events", stream=True, timeout=10) for _ in range(2)]
    assert [st.status_code for st in streams] == [200, 200]
    wait_until(lambda: scrape(port).value("trend_dashboard_server_event_streams") == 2, message="the streams open")
    assert requests.get(url + "/events", timeout=10).status_code == 503
    for st in streams:
        st.close()
    s = wait_until(lambda: (lambda x: x if x.value("trend_dashboard_server_event_streams") == 0 else None)(scrape(port)),
                   message="the stream closed")

    requests_by = {(l["route"], l["status"]): s.value("trend_dashboard_server_requests_total", **l)
                   for l in s.labels("trend_dashboard_server_requests_total")}
    scrapes = requests_by.pop(("/metrics", "200"))
    assert scrapes >= 2  # the first scrape, and the ones waiting for the stream
    assert requests_by == {
        ("/", "200"): 1, ("/static/", "200"): 1, ("/static/", "404"): 1, ("/refreshDashboard", "200"): 1,
        ("/updateDashboard", "201"): 2, ("/updateDashboard", "400"): 1, ("none", "404"): 1,
        ("/refreshDashboard", "405"): 1, ("/healthz", "200"): 1, ("none", "400"): 1, ("/events", "200"): 2,
        ("/events", "503"): 1}
    assert s.value("trend_dashboard_server_updates_total") == 2
    assert s.value("trend_dashboard_server_updates_refused_total") == 1
    assert s.value("trend_dashboard_server_event_streams_refused_total") == 1
    assert s.value("trend_dashboard_server_bad_requests_total") == 1
    assert before <= s.value("trend_dashboard_server_last_update_timestamp_seconds") <= time.time()
    assert s.value("trend_dashboard_server_connections_turned_away_total") == 0
    assert dash.stop() == 0
    assert "updates=2 refused=1" in dash.log_text()


def test_head_metrics_and_the_original_routes_are_unchanged(procs):
    port = free_port()
    dash = procs("dashboard_server", [program("dashboard_server"), "--port", str(port)])
    wait_port(port, proc=dash)
    head = requests.head(f"http://127.0.0.1:{port}/metrics")
    assert head.status_code == 200 and head.text == ""
    assert head.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert requests.get(f"http://127.0.0.1:{port}/refreshDashboard").json() == {"r_hashtags": [], "r_counts": []}
    assert requests.post(f"http://127.0.0.1:{port}/metrics").status_code == 405
    assert dash.stop() == 0
