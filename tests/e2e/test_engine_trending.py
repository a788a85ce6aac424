"""Trending options of the engine with real time, real sockets and short windows: tags leave when
their slot leaves the window, an idle window ends empty, the trend score, records only on change,
Twitter's hashtag rules and normalisation. With no option the engine stays the original (the
compatibility tests check that byte for byte)."""
import socket
import sys
import time

from harness import COMPAT, start_engine, wait_until

sys.path.insert(0, str(COMPAT))
import reference  # noqa: E402


def python_record(labels, counts):
    """A record exactly as the original Python 3 engine writes it."""
    return (str({"label": str(labels), "data": str(counts)}) + ";;\n").encode()


EMPTY = python_record([], [])


def send(port, *texts):
    reference.send_bytes(port, b"".join(reference.frame_text(t) for t in texts))


def test_a_tag_leaves_when_its_slot_leaves_and_an_idle_window_ends_empty(procs):
    receiver = reference.RecordListener()
    engine, port = start_engine(procs, receiver.port, "--window", "2s", "--slide", "500ms", "--stats-interval", "0")
    receiver.wait_connected_and_settled()
    started = time.monotonic()
    send(port, "#a #a #b")
    receiver.wait_records(3, timeout=10)
    time.sleep(0.8)
    send(port, "#b #b")
    records = receiver.wait_records(5, timeout=10)
    assert records[:5] == [python_record(["#a"], [1]), python_record(["#a"], [2]),
                           python_record(["#a", "#b"], [2, 1]), python_record(["#a", "#b"], [2, 2]),
                           python_record(["#b", "#a"], [3, 2])]
    # #a's slot leaves the window about 2 s after it was counted: a record without new tweets.
    wait_until(lambda: python_record(["#b"], [2]) in receiver.records(), timeout=10, interval=0.05,
               message="the record after #a's slot left the window")
    left_after = time.monotonic() - started
    assert 1.4 < left_after < 4.0, f"#a left the window after {left_after:.2f} s, not about 2 s"
    wait_until(lambda: receiver.records()[-1:] == [EMPTY], timeout=10, interval=0.05,
               message="the empty top once the window is idle")
    records = receiver.records()
    assert records[5:] == [python_record(["#b"], [2]), EMPTY], records
    time.sleep(1.2)  # nothing changes any more: no more records
    assert receiver.records() == records
    assert engine.stop() == 0
    receiver.close()


def test_on_change_writes_a_record_only_when_the_top_changes(procs):
    receiver = reference.RecordListener()
    engine, port = start_engine(procs, receiver.port, "--top", "1", "--emit", "on-change", "--stats-interval", "0")
    receiver.wait_connected_and_settled()
    send(port, "#a #a #b", "#b", "#c")
    time.sleep(1.0)
    assert receiver.records() == [python_record(["#a"], [1]), python_record(["#a"], [2])]
    send(port, "#b")  # #b reaches 3 and overtakes #a
    receiver.wait_records(3, timeout=10)
    assert receiver.records()[-1] == python_record(["#b"], [3])
    assert engine.stop() == 0
    receiver.close()


def test_the_trend_score_against_the_window_before(procs):
    receiver = reference.RecordListener()
    engine, port = start_engine(procs, receiver.port, "--window", "1500ms", "--slide", "500ms", "--score", "trend",
                                "--min-count", "3", "--emit", "on-change", "--stats-interval", "0")
    receiver.wait_connected_and_settled()
    send(port, "#x #x", "#x #y")  # #x: 1 and 2 score 0 (under --min-count 3), 3 scores (3-1)^2/1 = 4
    wait_until(lambda: receiver.records() == [python_record(["#x"], [4])], timeout=10,
               message="#x scoring 4 once it is counted 3 times")
    # 1.5 s later #x's counts are in the window before (e = 3, o = 0): no score, the empty top.
    wait_until(lambda: receiver.records()[-1:] == [EMPTY], timeout=10, interval=0.05, message="the empty top")
    send(port, "#x #x #x")  # o = 3 is not above e = 3
    time.sleep(0.3)
    assert receiver.records()[-1] == EMPTY
    send(port, "#x #x")  # o = 5, e = 3: (5-3)^2/3 = 1
    wait_until(lambda: receiver.records()[-1:] == [python_record(["#x"], [1])], timeout=10,
               message="#x scoring 1 against the window before")
    assert engine.stop() == 0
    receiver.close()


def test_twitter_text_hashtags_and_normalisation(procs):
    receiver = reference.RecordListener()
    engine, port = start_engine(procs, receiver.port, "--hashtags", "twitter-text", "--normalize", "nfkc-lower",
                                "--emit", "on-change", "--stats-interval", "0")
    receiver.wait_connected_and_settled()
    send(port, "I love #Café and #C++", "#CAFÉ again, ＃ｃａｆé", "not a tag: http://example.com/#x or #123")
    wait_until(lambda: receiver.records()[-1:] == [python_record(["#Café", "#C"], [3, 1])], timeout=10,
               message="#Café counted 3 times under its first spelling, #C++ as #C")
    assert engine.stop() == 0
    receiver.close()


def test_bad_input_with_trending_options_closes_only_its_connection(procs):
    receiver = reference.RecordListener()
    engine, port = start_engine(procs, receiver.port, "--window", "10s", "--score", "trend", "--min-count", "1",
                                "--stats-interval", "0")
    receiver.wait_connected_and_settled()
    good = socket.create_connection(("127.0.0.1", port))
    bad = socket.create_connection(("127.0.0.1", port))
    bad.sendall(b"GET / HTTP/1.1\r\n\r\n")
    bad.settimeout(5)
    assert bad.recv(1) == b""  # closed by the engine
    good.sendall(reference.frame_text("#ok #ok") + b"00003\xff\xfe\n" + reference.frame_text("#ok"))
    wait_until(lambda: receiver.records()[-1:] == [python_record(["#ok"], [4])], timeout=10,
               message="#ok counted 3 times ((3-1)^2/1 = 4), the invalid UTF-8 message skipped")
    good.close()
    bad.close()
    log = engine.log_text()
    assert "header is not 5 ASCII digits" in log and "invalid UTF-8" in log
    assert engine.stop() == 0
    receiver.close()


def test_usage_errors_name_the_option(procs):
    import subprocess
    from harness import program
    for args, text in [(["--score", "trend"], "needs --window"), (["--window", "5"], "not a duration"),
                       (["--window", "1s", "--slide", "2s"], "longer than the window"),
                       (["--slide", "1s"], "needs --window")]:
        r = subprocess.run([program("engine"), *args], capture_output=True, text=True, timeout=10)
        assert r.returncode == 2, (args, r.stderr)
        assert text in r.stderr, (args, r.stderr)
