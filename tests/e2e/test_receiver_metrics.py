"""socket_receiver's Prometheus metrics (--metrics): records received, forwarded, superseded,
malformed, rejected, failed POSTs and the POST latency histogram, each equal to what the test
sent and what the (fake) dashboard answered."""
import http.server
import socket
import threading
import time

from harness import FakeDashboard, free_port, program, wait_listening, wait_port, wait_until
from scrape import scrape, scrape_until


def record(tags, counts):
    label = "[" + ", ".join(f"'{t}'" for t in tags) + "]"
    return f"{{'label': \"{label}\", 'data': '{list(counts)}'}};;\n".encode()


def start(procs, dashboard_url):
    listen_port, metrics_port = free_port(), free_port()
    r = procs("socket_receiver", [program("socket_receiver"), "--listen", f"127.0.0.1:{listen_port}", "--dashboard",
                                  dashboard_url, "--metrics", f"127.0.0.1:{metrics_port}", "--stats-interval", "0"])
    wait_listening(listen_port, proc=r)  # without connecting: every connection is counted
    wait_port(metrics_port, proc=r)
    return r, listen_port, metrics_port


when = scrape_until


class RefusingDashboard:
    """Answers every POST with 400, as our dashboard does for a record it cannot take."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(400)
                self.send_header("Content-Length", "5")
                self.end_headers()
                self.wfile.write(b"error")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/updateDashboard"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_records_delivered_one_by_one_and_a_malformed_one(procs):
    dashboard = FakeDashboard()
    r, port, metrics_port = start(procs, dashboard.url)
    with socket.create_connection(("127.0.0.1", port)) as engine:
        for k in range(1, 6):  # one at a time, each delivered before the next: nothing is superseded
            engine.sendall(record(["#a", "#b"], [k, 1]))
            wait_until(lambda: len(dashboard.posts) == k, timeout=10, message=f"POST {k}")
        engine.sendall(b"{'label': 'not a list', 'data': '[1]'};;\n")
        s = when(metrics_port, trend_socket_receiver_records_received_total=6,
                 trend_socket_receiver_records_malformed_total=1, trend_socket_receiver_records_forwarded_total=5)
        assert s.value("trend_socket_receiver_connections_open") == 1
    s = when(metrics_port, trend_socket_receiver_connections_open=0)
    assert s.value("trend_socket_receiver_connections_total") == 1
    assert s.value("trend_socket_receiver_records_superseded_total") == 0
    assert s.value("trend_socket_receiver_records_rejected_total") == 0
    assert s.value("trend_socket_receiver_post_failures_total") == 0
    assert s.value("trend_socket_receiver_oversized_records_total") == 0
    # The latency histogram holds one observation per POST.
    assert s.value("trend_socket_receiver_post_duration_seconds_count", outcome="delivered") == 5
    assert s.value("trend_socket_receiver_post_duration_seconds_bucket", outcome="delivered", le="+Inf") == 5
    assert 0 < s.value("trend_socket_receiver_post_duration_seconds_sum", outcome="delivered") < 5
    assert s.value("trend_socket_receiver_post_duration_seconds_count", outcome="failed") == 0
    assert s.types["trend_socket_receiver_post_duration_seconds"] == "histogram"
    assert dashboard.labels() == ["['#a', '#b']"] * 5
    assert r.stop() == 0
    assert "received=6 forwarded=5 superseded=0 malformed=1" in r.log_text()
    dashboard.close()


def test_while_the_dashboard_is_down_newer_records_supersede_and_failures_are_counted(procs):
    dash_port = free_port()
    r, port, metrics_port = start(procs, f"http://127.0.0.1:{dash_port}/updateDashboard")
    with socket.create_connection(("127.0.0.1", port)) as engine:
        engine.sendall(record(["#x"], [1]) + record(["#x"], [2]))  # one read: the first is superseded at once
        wait_until(lambda: scrape(metrics_port).value("trend_socket_receiver_post_failures_total") >= 1, timeout=10,
                   message="a failed POST")
        for k in range(3, 6):
            time.sleep(0.05)
            engine.sendall(record(["#x"], [k]))
        when(metrics_port, trend_socket_receiver_records_received_total=5)
        dashboard = FakeDashboard(dash_port)  # the dashboard comes back: the newest record goes
        s = when(metrics_port, trend_socket_receiver_records_forwarded_total=1)
        assert dashboard.posts == [{"label": "['#x']", "data": "[5]"}]
    failures = s.value("trend_socket_receiver_post_failures_total")
    assert failures >= 1
    assert s.value("trend_socket_receiver_records_superseded_total") == 4  # every record is forwarded or superseded
    assert s.value("trend_socket_receiver_post_duration_seconds_count", outcome="failed") == failures
    assert s.value("trend_socket_receiver_post_duration_seconds_count", outcome="delivered") == 1
    assert r.stop() == 0
    dashboard.close()


def test_records_the_dashboard_refuses_are_counted_as_rejected(procs):
    dashboard = RefusingDashboard()
    r, port, metrics_port = start(procs, dashboard.url)
    with socket.create_connection(("127.0.0.1", port)) as engine:
        for k in range(1, 4):
            engine.sendall(record(["#r"], [k]))
            when(metrics_port, trend_socket_receiver_records_rejected_total=k)
    s = scrape(metrics_port)
    assert s.value("trend_socket_receiver_records_forwarded_total") == 0
    assert s.value("trend_socket_receiver_post_failures_total") == 0
    assert s.value("trend_socket_receiver_post_duration_seconds_count", outcome="rejected") == 3
    assert r.stop() == 0
    dashboard.close()


def test_a_run_of_1_mib_without_separator_is_counted(procs):
    dashboard = FakeDashboard()
    r, port, metrics_port = start(procs, dashboard.url)
    with socket.create_connection(("127.0.0.1", port)) as engine:
        engine.sendall(b"x" * (1024 * 1024 + 10) + b";;" + record(["#after"], [1]))
        s = when(metrics_port, trend_socket_receiver_oversized_records_total=1,
                 trend_socket_receiver_records_forwarded_total=1)
    assert dashboard.labels()[-1] == "['#after']"
    assert r.stop() == 0
    dashboard.close()
