"""The engine's Prometheus metrics (--metrics, machida's flag): every counter equals the traffic
the test sent, over real sockets; an address that cannot be bound is only a warning."""
import socket
import subprocess
import sys

import pytest

from harness import COMPAT, free_port, program, wait_listening, wait_port, wait_until
from scrape import scrape, scrape_until

sys.path.insert(0, str(COMPAT))
import reference  # noqa: E402


def start(procs, receiver_port, *extra, name="engine"):
    in_port, metrics_port = free_port(), free_port()
    engine = procs(name, [program("engine"), "--in", f"127.0.0.1:{in_port}", "--out", f"127.0.0.1:{receiver_port}",
                          "--metrics", f"127.0.0.1:{metrics_port}", *extra])
    wait_listening(in_port, proc=engine)  # without connecting: every connection is counted
    wait_port(metrics_port, proc=engine)
    return engine, in_port, metrics_port


def settled(metrics_port, **want):
    """Scrapes until every named sample has its value (the engine books a write once it
    completed, a close once its coroutine ran); returns that scrape."""
    return scrape_until(metrics_port, timeout=15, **want)


def test_every_counter_equals_the_traffic_sent(procs):
    receiver = reference.RecordListener()
    engine, in_port, metrics_port = start(procs, receiver.port)
    receiver.wait_connected_and_settled()
    # Connection 1: three tweets (5 hashtags), one payload that is not UTF-8.
    first = reference.framed_stream(["#a #b hello", "no tags at all", "#a #c #a"]) + b"00003\xff\xfe\n"
    # Connection 2: not a frame header: closed at once.
    second = b"GET /"
    # Connection 3: one tweet, then a frame cut short by the end of the connection.
    third = reference.frame_text("#d") + b"00010#x"
    for data in (first, second, third):
        reference.send_bytes(in_port, data)
    receiver.wait_records(6)
    s = settled(metrics_port, trend_engine_records_total=6, trend_engine_connections_open=0,
                trend_engine_connections_total=3)
    assert s.value("trend_engine_tweets_total") == 4
    assert s.value("trend_engine_hashtags_total") == 6
    assert s.value("trend_engine_distinct_hashtags") == 4
    assert s.value("trend_engine_records_total") == receiver.count() == 6
    assert s.value("trend_engine_sent_bytes_total") == receiver.byte_count()
    assert s.value("trend_engine_received_bytes_total") == len(first) + len(second) + len(third)
    assert s.value("trend_engine_skipped_messages_total", reason="invalid_utf8") == 1
    assert s.value("trend_engine_skipped_messages_total", reason="duplicate") == 0
    assert s.value("trend_engine_malformed_frames_total", reason="bad_header") == 1
    assert s.value("trend_engine_malformed_frames_total", reason="cut_short") == 1
    assert s.value("trend_engine_malformed_frames_total", reason="line_too_long") == 0
    assert s.value("trend_engine_receiver_connected") == 1
    assert s.value("trend_engine_receiver_reconnects_total") == 0
    assert s.value("trend_engine_output_buffer_bytes") == 0
    assert s.value("trend_engine_window_seconds") == 0
    assert s.labels("trend_engine_settings_info") == [{
        "top": "10", "input_format": "framed", "hashtags": "python", "normalize": "none", "window": "0",
        "slide": "0", "score": "count", "min_count": "5", "emit": "every-event", "durable": "false"}]
    assert s.value("trend_engine_settings_info", **s.labels("trend_engine_settings_info")[0]) == 1
    assert s.types["trend_engine_tweets"] == "counter" and s.types["trend_engine_distinct_hashtags"] == "gauge"
    assert "trend_engine_state_durable_lsn" not in s.names()  # only with --state-dir
    # The stats line the engine logs at the end says the same.
    assert engine.stop() == 0
    assert "tweets=4 hashtags=6 distinct=4" in engine.log_text()
    receiver.close()


def test_a_receiver_that_comes_and_goes_is_counted(procs):
    port = free_port()
    receiver = reference.RecordListener(port=port)
    engine, in_port, metrics_port = start(procs, port)
    receiver.wait_connected_and_settled()
    reference.send_bytes(in_port, reference.frame_text("#one"))
    receiver.wait_records(1)
    receiver.close()
    settled(metrics_port, trend_engine_receiver_connected=0)
    again = reference.RecordListener(port=port)
    again.wait_connected()
    s = settled(metrics_port, trend_engine_receiver_connected=1)
    assert s.value("trend_engine_receiver_reconnects_total") == 1
    again.close()


def test_trending_settings_are_an_info_metric_and_a_line_over_1_mib_is_malformed(procs):
    receiver = reference.RecordListener()
    engine, in_port, metrics_port = start(
        procs, receiver.port, "--input-format", "lines", "--window", "2s", "--slide", "100ms", "--score", "trend",
        "--min-count", "1", "--emit", "on-change", "--hashtags", "twitter-text", "--normalize", "nfkc-lower",
        "--top", "3")
    receiver.wait_connected_and_settled()
    reference.send_bytes(in_port, b"#Tag #tag #other\n")
    try:
        reference.send_bytes(in_port, b"x" * (1024 * 1024 + 100))
    except OSError:
        pass  # the engine may close before it took every byte
    s = settled(metrics_port, trend_engine_connections_total=2, trend_engine_connections_open=0)
    assert s.value("trend_engine_malformed_frames_total", reason="line_too_long") == 1
    assert s.value("trend_engine_tweets_total") == 1
    assert s.value("trend_engine_hashtags_total") == 3
    assert s.value("trend_engine_window_seconds") == 2
    assert s.value("trend_engine_slide_seconds") == pytest.approx(0.1)
    assert s.labels("trend_engine_settings_info") == [{
        "top": "3", "input_format": "lines", "hashtags": "twitter-text", "normalize": "nfkc-lower", "window": "2s",
        "slide": "100ms", "score": "trend", "min_count": "1", "emit": "on-change", "durable": "false"}]
    # The window moves on every 100 ms; once 2 s (and the window before, for the trend score)
    # have passed, the tags are forgotten.
    first_slides = s.value("trend_engine_slides_total")
    later = wait_until(lambda: (lambda x: x if x.value("trend_engine_distinct_hashtags") == 0 else None)(scrape(metrics_port)),
                       timeout=20, message="the window to empty")
    assert later.value("trend_engine_slides_total") >= first_slides + 20
    receiver.close()


def frame(payload):
    return b"%05d" % len(payload) + payload


def read_controls(sock, until_ack):
    """Reads the engine's control frames until an ack of `until_ack`; returns them all."""
    held, got = b"", []
    sock.settimeout(10)
    while not got or got[-1] != f"\x1etrend-delivery/1 ack {until_ack}\n".encode():
        chunk = sock.recv(4096)
        assert chunk, f"the engine closed before acknowledging {until_ack}; got {got}"
        held += chunk
        while len(held) >= 5 and len(held) >= 5 + int(held[:5]):
            n = int(held[:5])
            got.append(held[5:5 + n])
            held = held[5 + n:]
    return got


def test_acknowledgements_and_duplicates_equal_what_the_engine_wrote_and_skipped(procs):
    receiver = reference.RecordListener()
    engine, in_port, metrics_port = start(procs, receiver.port)
    receiver.wait_connected_and_settled()
    hello = frame(b"\x1etrend-delivery/1 hello session=00000000000000ab next=1\n")
    tweets = [reference.frame_text(t) for t in ("#x one", "#y two", "#x three", "#z four")]
    controls = []
    with socket.create_connection(("127.0.0.1", in_port)) as c:
        c.sendall(hello + b"".join(tweets[:3]))
        controls += read_controls(c, 3)
    with socket.create_connection(("127.0.0.1", in_port)) as c:  # the three again (a resend), then one more
        c.sendall(hello + b"".join(tweets))
        controls += read_controls(c, 4)
    welcomes = [m for m in controls if b" welcome " in m]
    acks = [m for m in controls if b" ack " in m]
    assert welcomes == [b"\x1etrend-delivery/1 welcome applied=0\n", b"\x1etrend-delivery/1 welcome applied=3\n"]
    s = settled(metrics_port, trend_engine_connections_open=0)
    assert s.value("trend_engine_acks_total") == len(acks)
    assert s.value("trend_engine_skipped_messages_total", reason="duplicate") == 3
    assert s.value("trend_engine_tweets_total") == 4
    assert s.value("trend_engine_hashtags_total") == 4
    assert s.value("trend_engine_delivery_sessions") == 1
    receiver.close()


def test_durable_state_metrics(procs, tmp_path):
    receiver = reference.RecordListener()
    engine, in_port, metrics_port = start(procs, receiver.port, "--state-dir", str(tmp_path / "state"),
                                          "--checkpoint-interval", "200ms")
    receiver.wait_connected_and_settled()
    reference.send_bytes(in_port, reference.framed_stream([f"#s{i} tweet {i}" for i in range(5)]))
    s = settled(metrics_port, trend_engine_tweets_total=5, trend_engine_state_logged_lsn=5,
                trend_engine_state_durable_lsn=5)
    assert s.value("trend_engine_state_healthy") == 1
    assert s.value("trend_engine_state_write_failures_total") == 0
    assert s.labels("trend_engine_settings_info")[0]["durable"] == "true"
    wait_until(lambda: scrape(metrics_port).value("trend_engine_state_snapshots_total") >= 1, timeout=15,
               message="a snapshot")
    assert engine.stop() == 0
    # A restart recovers the five hashtags: they are held, not counted again by this process.
    engine, in_port, metrics_port = start(procs, receiver.port, "--state-dir", str(tmp_path / "state"), name="engine-2")
    s = scrape(metrics_port)
    assert s.value("trend_engine_distinct_hashtags") == 5
    assert s.value("trend_engine_hashtags_total") == 0
    assert s.value("trend_engine_tweets_total") == 0
    assert s.value("trend_engine_state_durable_lsn") == 5
    receiver.close()


def test_a_state_directory_that_cannot_be_written_shows_as_unhealthy_until_it_can(procs, tmp_path):
    mnt = tmp_path / "ro"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs for this test (needs root): {done.stderr.decode().strip()}")
    try:
        (mnt / "state").mkdir()
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        receiver = reference.RecordListener()
        engine, in_port, metrics_port = start(procs, receiver.port, "--state-dir", str(mnt / "state"))
        s = scrape(metrics_port)
        assert s.value("trend_engine_state_healthy") == 0
        assert s.value("trend_engine_state_write_failures_total") >= 1
        assert s.value("trend_engine_state_snapshots_total") == 0
        reference.send_bytes(in_port, reference.frame_text("#kept #in #memory"))
        settled(metrics_port, trend_engine_hashtags_total=3)
        subprocess.run(["mount", "-o", "remount,rw", str(mnt)], check=True)
        s = wait_until(lambda: (lambda x: x if x.value("trend_engine_state_healthy") == 1 else None)(scrape(metrics_port)),
                       timeout=30, message="writes to work again")
        assert s.value("trend_engine_state_snapshots_total") >= 1
        assert engine.stop() == 0
        receiver.close()
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_metrics_port_that_is_taken_is_a_warning_and_machidas_line_keeps_counting(procs):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    receiver = reference.RecordListener()
    in_port = free_port()
    line = reference.machida_line(in_port, receiver.port)
    line[line.index("--metrics") + 1] = f"127.0.0.1:{port}"
    engine = procs("engine", [program("engine"), *line])
    wait_port(in_port, proc=engine)
    receiver.wait_connected_and_settled()
    reference.send_bytes(in_port, reference.frame_text("Hello #everyone"))
    assert receiver.wait_records(1) == [b"{'label': \"['#everyone']\", 'data': '[1]'};;\n"]
    assert engine.poll() is None
    assert engine.stop() == 0
    log = engine.log_text()
    assert f"warn: metrics: cannot listen on 127.0.0.1:{port}: Address already in use; going on without metrics" in log
    taken.close()
    receiver.close()


def test_machidas_line_serves_metrics_on_its_address_and_several_engines_may_race_for_it(procs):
    # Three engines with machida's whole line and the same --metrics address: one serves, the
    # others say why not, and all three count.
    port = free_port()
    receiver = reference.RecordListener()
    engines = []
    for k in range(3):
        in_port = free_port()
        line = reference.machida_line(in_port, receiver.port)
        line[line.index("--metrics") + 1] = f"127.0.0.1:{port}"
        engines.append((procs(f"engine-{k}", [program("engine"), *line]), in_port))
    for engine, in_port in engines:
        wait_port(in_port, proc=engine)
    wait_port(port)
    s = scrape(port)
    assert s.value("trend_engine_tweets_total") == 0
    wait_until(lambda: all("metrics: " in engine.log_text() for engine, _ in engines), message="every engine's metrics line")
    logs = [engine.log_text() for engine, _ in engines]
    assert sum(f"metrics: serving http://127.0.0.1:{port}/metrics" in log for log in logs) == 1, logs
    assert sum("metrics: cannot listen on" in log for log in logs) == 2, logs
    for engine, _ in engines:
        assert engine.poll() is None
        assert engine.stop() == 0
    receiver.close()
