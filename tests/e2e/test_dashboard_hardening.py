"""dashboard_server attacked as a hostile network would (issue 9): the largest legal top 10
through a real receiver, trickling and streaming connections, chunked and malformed bodies,
forged log lines, response headers. Real processes, real sockets; memory from /proc."""
import re
import socket
import threading
import time
import urllib.parse

import requests

from harness import free_port, program, wait_port, wait_until

BODY_LIMIT = 128 * 1024   # dashboard_server::max_body
WORST_FORM_BODY = 67546   # dashboard_server::worst_form_body
MAX_STREAMS = 8           # --threads 16 / 2


def start_dashboard(procs, *extra):
    port = free_port()
    p = procs("dashboard_server", [program("dashboard_server"), "--port", str(port), *extra])
    wait_port(port, proc=p)
    return p, port


def start_receiver(procs, dashboard_port):
    port = free_port()
    p = procs("socket_receiver", [program("socket_receiver"), "--listen", f"127.0.0.1:{port}",
                                  "--dashboard", f"http://127.0.0.1:{dashboard_port}/updateDashboard"])
    wait_port(port, proc=p)
    return p, port


def board(port):
    return requests.get(f"http://127.0.0.1:{port}/refreshDashboard", timeout=5).json()


def shows(port, labels, counts):
    try:
        return board(port) == {"r_hashtags": labels, "r_counts": counts}
    except requests.RequestException:
        return False


def rss_kib(proc):
    with open(f"/proc/{proc.popen.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def raw_exchange(port, data, timeout=2.0):
    """Sends raw bytes and returns what comes back before the server closes or `timeout` passes."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(data)
        s.settimeout(timeout)
        got = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except socket.timeout:
            pass
        return got


def longest_tags():
    """Ten legal hashtags of 280 characters, every character but '#' 4 bytes of UTF-8: printable
    ones (raw in a Python 3 literal) and private-use ones (written \\U000fXXXX)."""
    tags = []
    for i in range(10):
        base = 0x20000 + 1000 * i if i % 2 == 0 else 0xF0000 + 1000 * i
        tags.append("#" + "".join(chr(base + k) for k in range(279)))
    return tags


def py2_form_value(tags):
    """The label as the original receiver posts a Python 2 engine's record: every UTF-8 byte \\xNN."""
    def escaped(tag):
        return "".join(c if ord(c) < 128 else "".join(f"\\x{b:02x}" for b in c.encode()) for c in tag)
    return "[" + ", ".join("'" + escaped(t) + "'" for t in tags) + "]"


# ---- the longest legal top 10 reaches the page (defect 2) --------------------------------------

def test_ten_280_character_hashtags_through_a_real_receiver_reach_the_page(procs):
    dash, dport = start_dashboard(procs)
    recv, rport = start_receiver(procs, dport)
    tags = longest_tags()
    counts = list(range(1000, 990, -1))
    py3 = (str({"label": str(tags), "data": str(counts)}) + ";;\n").encode()
    assert len(urllib.parse.urlencode({"label": str(tags), "data": str(counts)})) > 8192  # cpp-httplib's cap
    # The same hashtags as a Python 2 engine writes them: data first, UTF-8 bytes as doubled \xNN.
    py2_label = py2_form_value(tags).replace("\\", "\\\\").replace("'", "\\'")
    py2 = ("{'data': '" + str([c + 1 for c in counts]) + "', 'label': '" + py2_label + "'};;\n").encode()
    with socket.create_connection(("127.0.0.1", rport)) as engine:
        engine.sendall(py3)
        wait_until(lambda: shows(dport, tags, counts), timeout=10, message="the Python 3 record on the page")
        engine.sendall(py2)
        wait_until(lambda: shows(dport, tags, [c + 1 for c in counts]), timeout=10,
                   message="the Python 2 record on the page")
    assert "refused" not in dash.log_text()
    assert "rejected=0" in recv.log_text() or "rejected" not in recv.log_text()


def test_the_stated_worst_case_form_is_accepted_and_a_refused_one_does_not_stop_the_next(procs):
    dash, dport = start_dashboard(procs)
    recv, rport = start_receiver(procs, dport)
    url = f"http://127.0.0.1:{dport}/updateDashboard"
    tags = ["".join(chr(0x10348) for _ in range(280)) for _ in range(10)]
    counts = [2**63 - 1 - i for i in range(10)]
    # What the original receiver posts for a Python 2 engine's record of these hashtags.
    body = urllib.parse.urlencode({"label": py2_form_value(tags), "data": str(counts)})
    assert len(body) == WORST_FORM_BODY
    r = requests.post(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=5)
    assert (r.status_code, r.text) == (201, "success")
    assert shows(dport, tags, counts)

    r = requests.post(url, data="data=" + "1" * BODY_LIMIT,
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=5)
    assert r.status_code == 400
    assert f"over the limit of {BODY_LIMIT} bytes" in r.text
    assert "over the limit of 131072 bytes" in dash.log_text()
    with socket.create_connection(("127.0.0.1", rport)) as engine:
        engine.sendall((str({"label": str(["#next"]), "data": str([1])}) + ";;\n").encode())
        wait_until(lambda: shows(dport, ["#next"], [1]), timeout=10, message="the next update after a refusal")


# ---- trickling connections and event streams (defect 5) -----------------------------------------

class Tricklers:
    """`count` connections, each sending one byte of a never-ending request head every `every` s."""

    def __init__(self, port, count, every=0.5):
        self.socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        self.every = every
        self.stop = threading.Event()
        self.sent = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100000
        i = 0
        while not self.stop.is_set():
            for s in self.socks:
                try:
                    s.send(head[i:i + 1])
                    self.sent += 1
                except OSError:
                    pass
            i += 1
            self.stop.wait(self.every)

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for s in self.socks:
            s.close()


def open_stream(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(5)
    got = b""
    while b"retry: 1000" not in got:
        chunk = s.recv(4096)
        assert chunk, f"the event stream closed: {got!r}"
        got += chunk
    return s


def test_healthz_and_posts_answer_within_a_second_while_40_connections_trickle_and_streams_are_full(procs):
    dash, port = start_dashboard(procs)
    url = f"http://127.0.0.1:{port}"
    streams = [open_stream(port) for _ in range(MAX_STREAMS)]
    tricklers = Tricklers(port, 40)
    try:
        time.sleep(1.5)  # every trickler has started its head
        assert requests.get(url + "/healthz", timeout=5).json()["sse_clients"] == MAX_STREAMS
        assert requests.get(url + "/events", timeout=5).status_code == 503  # beyond the streams' share
        slowest = 0.0
        with requests.Session() as receiver:  # one kept-alive connection, as the receiver's libcurl
            for i in range(12):
                started = time.monotonic()
                h = requests.get(url + "/healthz", timeout=5)
                assert h.status_code == 200
                r = receiver.post(url + "/updateDashboard", data={"label": str([f"#t{i}"]), "data": str([i])},
                                  timeout=5)
                assert (r.status_code, r.text) == (201, "success")
                elapsed = time.monotonic() - started
                slowest = max(slowest, elapsed)
                assert elapsed < 1.0, f"round {i}: /healthz and a POST took {elapsed:.2f} s"
                time.sleep(0.5)
        print(f"slowest /healthz + POST round: {slowest:.3f} s while {len(tricklers.socks)} connections trickled "
              f"({tricklers.sent} bytes) and {MAX_STREAMS} event streams were open")
        # Each open stream got every update (the newest at least).
        for s in streams:
            s.settimeout(5)
            got = b""
            while b'"#t11"' not in got:
                chunk = s.recv(65536)
                assert chunk
                got += chunk
    finally:
        tricklers.close()
        for s in streams:
            s.close()


def test_a_trickling_head_is_cut_off_after_the_head_timeout(procs):
    dash, port = start_dashboard(procs)
    tricklers = Tricklers(port, 3, every=0.2)
    try:
        s = tricklers.socks[0]
        s.settimeout(20)
        started = time.monotonic()
        got = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
        elapsed = time.monotonic() - started
        assert 8 < elapsed < 15, f"closed after {elapsed:.1f} s"
        assert got == b""  # closed without an answer: it never finished asking
    finally:
        tricklers.close()


def test_a_chunked_body_over_the_limit_is_refused_without_being_held(procs):
    dash, port = start_dashboard(procs)
    before = rss_kib(dash)
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /updateDashboard HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n")
    piece = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"  # 64 KiB chunks, up to 64 MiB in all
    s.setblocking(False)
    answer = b""
    sent = 0
    deadline = time.monotonic() + 30
    while sent < 1024 * len(piece) and b"\r\n\r\n" not in answer and time.monotonic() < deadline:
        try:
            answer += s.recv(65536)
        except BlockingIOError:
            pass
        except OSError:
            break
        try:
            sent += s.send(piece[sent % len(piece):])
        except BlockingIOError:
            time.sleep(0.001)
        except OSError:
            break
    s.settimeout(5)
    try:
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    except OSError:
        pass
    s.close()
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert f"over the limit of {BODY_LIMIT} bytes".encode() in answer
    assert sent < 16 * 1024 * 1024, f"the server read {sent} bytes before refusing"
    after = rss_kib(dash)
    print(f"sent {sent} bytes; RSS {before} KiB before, {after} KiB after")
    assert after - before < 16 * 1024, f"RSS grew from {before} to {after} KiB"
    r = requests.post(f"http://127.0.0.1:{port}/updateDashboard", data={"label": "['#ok']", "data": "[1]"}, timeout=5)
    assert r.status_code == 201


# ---- lower items ------------------------------------------------------------------------------

def test_a_bad_or_huge_content_length_gets_400_at_once(procs):
    dash, port = start_dashboard(procs)
    for length in [b"-1", b"99999999999999999999", b"18446744073709551615", b"1e3", b"0x10"]:
        started = time.monotonic()
        got = raw_exchange(port, b"POST /updateDashboard HTTP/1.1\r\nHost: x\r\nContent-Length: " + length +
                           b"\r\n\r\n", timeout=3)
        assert got.startswith(b"HTTP/1.1 400 "), (length, got[:100])
        assert b"is not a length in bytes" in got or b"over the limit" in got, got
        assert time.monotonic() - started < 1.5
    got = raw_exchange(port, b"POST /updateDashboard HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
    assert got.startswith(b"HTTP/1.1 400 ") and b"over the limit of 131072 bytes" in got
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200


def test_request_paths_cannot_forge_log_lines(procs):
    dash, port = start_dashboard(procs)
    forged = "2026-01-01T00:00:00.000Z dashboard_server warn: FORGED"
    path = "/x%0a" + urllib.parse.quote(forged) + "%0d%1b[31m"
    raw_exchange(port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    raw_exchange(port, f"POST /updateDashboard{path} HTTP/1.1\r\nHost: x\r\nContent-Length: {BODY_LIMIT + 1}\r\n\r\n"
                 .encode())
    raw_exchange(port, f"POST /updateDashboard HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
                       f"\r\nConnection: close\r\nContent-Length: 40\r\n\r\nlabel=%0a{urllib.parse.quote(forged)}&data="
                 .encode()[:200])
    wait_until(lambda: "FORGED" in dash.log_text(), timeout=5, message="the requests logged")
    time.sleep(0.5)  # the other requests' lines
    log = dash.log_text()
    assert not any(line.startswith("2026-01-01T00:00:00.000Z") or "FORGED" in line.split(": ", 1)[0]
                   for line in log.splitlines()), log
    assert "\x1b" not in log
    assert "/x\\n2026-01-01T00:00:00.000Z dashboard_server warn: FORGED\\r\\x1b[31m" in log


def test_response_headers_cache_nosniff_and_referrer_policy(procs):
    dash, port = start_dashboard(procs)
    url = f"http://127.0.0.1:{port}"
    responses = {
        "page": requests.get(url + "/"),
        "js": requests.get(url + "/static/app.js"),
        "chart": requests.get(url + "/static/chart.min.js"),
        "refresh": requests.get(url + "/refreshDashboard"),
        "health": requests.get(url + "/healthz"),
        "update": requests.post(url + "/updateDashboard", data={"label": "['#a']", "data": "[1]"}),
        "refused": requests.post(url + "/updateDashboard", data={"label": "['#a']"}),
        "missing": requests.get(url + "/missing"),
        "method": requests.delete(url + "/healthz"),
    }
    with requests.get(url + "/events", stream=True, timeout=5) as events:
        responses["events"] = events
    for name, r in responses.items():
        assert r.headers.get("Referrer-Policy") == "no-referrer", name
        assert r.headers.get("X-Content-Type-Options") == "nosniff", name
    for name in ["refresh", "health"]:
        assert responses[name].headers["Content-Type"] == "application/json"
        assert responses[name].headers["Cache-Control"] == "no-store"
    for name in ["page", "js", "chart"]:
        r = responses[name]
        assert r.headers["Cache-Control"] == "no-cache", name
        again = requests.get(r.url, headers={"If-None-Match": r.headers["ETag"]})
        assert again.status_code == 304 and again.content == b"", name
        assert again.headers["Referrer-Policy"] == "no-referrer"
    assert responses["missing"].status_code == 404
    assert responses["method"].status_code == 405
