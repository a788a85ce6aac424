"""socket_receiver under attack, as real processes: records that are not valid UTF-8, hostile bytes
in what it logs, the normal end of an engine connection, a dashboard that accepts and never
answers, and a flood of connections past its descriptor limit (issue 9)."""
import re
import signal
import socket
import time

import requests

from harness import (FakeDashboard, HungServer, cpu_seconds, free_port, program, start_engine, wait_port,
                     wait_until)


def record(labels, counts):
    """The record text exactly as the Python 3 engine writes it."""
    return (str({'label': str(labels), 'data': str(counts)}) + ';;\n').encode()


def start_receiver(procs, dashboard_url, extra=(), prefix=()):
    port = free_port()
    p = procs("socket_receiver", [*prefix, program("socket_receiver"), "--listen", f"127.0.0.1:{port}",
                                  "--dashboard", dashboard_url, *extra])
    wait_port(port, proc=p)
    return p, port


def start_dashboard(procs, port=None):
    port = port or free_port()
    p = procs("dashboard_server", [program("dashboard_server"), "--port", str(port)])
    wait_port(port, proc=p)
    return p, port


def update_url(port):
    return f"http://127.0.0.1:{port}/updateDashboard"


def shows(port, labels, counts):
    try:
        b = requests.get(f"http://127.0.0.1:{port}/refreshDashboard", timeout=5).json()
    except requests.RequestException:
        return False
    return b == {"r_hashtags": labels, "r_counts": counts}


def final_stats(log):
    """The counters of the last stats line."""
    lines = [line for line in log.splitlines() if "connections=" in line and "failed_attempts=" in line]
    assert lines, f"no stats line in:\n{log}"
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", lines[-1])}


def test_a_label_that_is_not_valid_utf8_is_malformed_and_the_next_record_still_arrives(procs):
    # Raw bytes F7 BF BF BF would decode to U+1FFFFF, beyond Unicode: Python's decoder refuses
    # them, and re-encoded they become a literal no dashboard can read.
    _, dport = start_dashboard(procs)
    recv, rport = start_receiver(procs, update_url(dport), ["--stats-interval", "1"])
    bad = b"{'label': \"['#bad\xf7\xbf\xbf\xbf', '#b']\", 'data': '[2, 1]'};;\n"
    with socket.create_connection(("127.0.0.1", rport)) as engine:
        engine.sendall(record(["#first"], [1]))
        wait_until(lambda: shows(dport, ["#first"], [1]), message="the first record")
        engine.sendall(bad)
        wait_until(lambda: "malformed record skipped" in recv.log_text() or "rejected" in recv.log_text(),
                   message="the receiver handling the invalid record")
        engine.sendall(bad)  # the same kind again: counted, not logged again
        wait_until(lambda: "malformed=2" in recv.log_text(), message="the second invalid record counted")
        engine.sendall(record(["#after"], [3]))
        wait_until(lambda: shows(dport, ["#after"], [3]), message="the record after the invalid ones")
    assert recv.stop() == 0
    log = recv.log_text()
    assert log.count("malformed record skipped") == 1, log
    assert "invalid UTF-8 at byte 18" in log  # counted from the '\n' after the previous ';;'
    assert "#bad\\xf7\\xbf\\xbf\\xbf" in log  # shown escaped
    stats = final_stats(log)
    assert stats["rejected"] == 0 and stats["forwarded"] == 2 and stats["malformed"] == 2, log


def test_peer_bytes_in_a_malformed_record_are_escaped_in_the_log(procs):
    _, dport = start_dashboard(procs)
    recv, rport = start_receiver(procs, update_url(dport))
    hostile = (b"{'label': \"['#x\x1b[2J\x1b]0;owned\x07', '\nFORGED socket_receiver info: all is well\"]\", "
               b"'data': '[1]'};;\n")
    with socket.create_connection(("127.0.0.1", rport)) as engine:
        engine.sendall(hostile)
        wait_until(lambda: "malformed record skipped" in recv.log_text(), message="the hostile record logged")
        engine.sendall(record(["#ok"], [1]))
        wait_until(lambda: shows(dport, ["#ok"], [1]), message="the record after the hostile one")
    recv.stop()
    raw = recv.log_path.read_bytes()
    assert b"\x1b" not in raw and b"\x07" not in raw
    assert not any(line.startswith(b"FORGED") for line in raw.splitlines())
    assert rb"#x\x1b[2J\x1b]0;owned\x07', '\nFORGED socket_receiver info" in raw, raw.decode(errors="replace")


def test_a_normal_engine_disconnect_is_no_unfinished_record_but_a_cut_one_is(procs):
    _, dport = start_dashboard(procs)
    recv, rport = start_receiver(procs, update_url(dport))
    engine, in_port = start_engine(procs, rport)
    with socket.create_connection(("127.0.0.1", in_port)) as source:
        source.sendall(b"00009#a #b #a\n")
        wait_until(lambda: shows(dport, ["#a", "#b"], [2, 1]), message="the engine's records")
    disconnects = recv.log_text().count("disconnected")  # wait_port's probe is one
    assert engine.stop() == 0  # the engine flushes and closes: its last bytes are ';;\n'
    wait_until(lambda: recv.log_text().count("disconnected") > disconnects, message="the engine's disconnect")
    assert "unfinished" not in recv.log_text()

    with socket.create_connection(("127.0.0.1", rport)) as cut:
        cut.sendall(record(["#whole"], [1]) + b"{'label': \"['#cu\x1bt")
    wait_until(lambda: "unfinished record" in recv.log_text(), message="the warning about the cut record")
    warnings = [line for line in recv.log_text().splitlines() if "unfinished record" in line]
    assert len(warnings) == 1 and "closed with 19 bytes of an unfinished record" in warnings[0], warnings
    assert "#cu\\x1bt" in warnings[0]


def test_a_hung_dashboard_times_out_after_5_s_and_the_newest_record_arrives_once_it_is_back(procs):
    hung = HungServer()
    dport = hung.port
    recv, rport = start_receiver(procs, update_url(dport), ["--stats-interval", "1"])
    try:
        with socket.create_connection(("127.0.0.1", rport)) as engine:
            engine.sendall(record(["#r", "#n"], [1, 1]))
            sent = time.monotonic()
            wait_until(lambda: "unreachable" in recv.log_text(), timeout=30, message="the POST timing out")
            waited = time.monotonic() - sent
            assert waited > 4, f"the POST failed after {waited:.1f} s, before its 5 s timeout"
            assert re.search(r"unreachable \(.*timed out", recv.log_text()), recv.log_text()
            assert hung.accepted() >= 1
            # The receiver keeps receiving while the dashboard hangs.
            for n in range(2, 101):
                engine.sendall(record(["#r", "#n"], [n, 1]))
            wait_until(lambda: "received=100 " in recv.log_text(), message="all 100 records received")
            # The hung dashboard goes away; a working one takes its port. Nothing more is sent:
            # the receiver still holds the newest record and delivers it.
            hung.close()
            start_dashboard(procs, dport)
            wait_until(lambda: shows(dport, ["#r", "#n"], [100, 1]), timeout=20,
                       message="the newest record on the dashboard that came back")
            engine.sendall(record(["#r", "#n"], [101, 1]))
            wait_until(lambda: shows(dport, ["#r", "#n"], [101, 1]), message="the next record")
    finally:
        hung.close()
    assert recv.stop() == 0
    assert "reachable again" in recv.log_text()


def test_out_of_descriptors_the_receiver_backs_off_serves_its_engine_and_accepts_again(procs):
    dash = FakeDashboard()
    limit = 32
    recv, rport = start_receiver(procs, dash.url, ["--stats-interval", "0"],
                                 prefix=["prlimit", f"--nofile={limit}:{limit}", "--"])
    pid = recv.popen.pid
    flood = []
    try:
        engine = socket.create_connection(("127.0.0.1", rport))
        engine.sendall(record(["#before"], [1]))
        wait_until(lambda: "['#before']" in dash.labels(), message="the record sent before the flood")

        # More connections than descriptors: the kernel completes them all (the listen backlog),
        # the receiver's accept() fails with EMFILE once its table is full.
        for _ in range(2 * limit):
            flood.append(socket.create_connection(("127.0.0.1", rport)))
        wait_until(lambda: "accept failed" in recv.log_text(), message="accept failing")
        time.sleep(0.2)
        lines_before = len(recv.log_text().splitlines())
        cpu_before, t_before = cpu_seconds(pid), time.monotonic()
        engine.sendall(record(["#during"], [2]))  # the established engine is still served
        time.sleep(2)
        cpu = (cpu_seconds(pid) - cpu_before) / (time.monotonic() - t_before)
        new_lines = recv.log_text().splitlines()[lines_before:]
        print(f"out of descriptors: {cpu:.1%} of a core, {len(new_lines)} log lines in 2 s")
        assert len(new_lines) < 10, "\n".join(new_lines[:20])
        assert cpu < 0.3, f"the receiver used {cpu:.0%} of a core while out of descriptors"
        assert "['#during']" in dash.labels(), "the established engine's record was not forwarded"
        assert recv.poll() is None

        for s in flood:
            s.close()
        flood.clear()
        # Accepting works again: a new engine connection is served.
        with socket.create_connection(("127.0.0.1", rport)) as again:
            again.sendall(record(["#again"], [3]))
            wait_until(lambda: "['#again']" in dash.labels(), timeout=15, message="a record on a new connection")
        assert "accepting again after" in recv.log_text()
        engine.close()
    finally:
        for s in flood:
            s.close()
        dash.close()
    assert recv.stop(signal.SIGINT) == 0
    # Each burst of failures is logged once (closing the flood may let a few short bursts happen).
    assert recv.log_text().count("accept failed") < 10
