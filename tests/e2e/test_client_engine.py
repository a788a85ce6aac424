"""twitter_client's link to the engine: synthetic determinism, an engine that starts late, goes
away and comes back, a full queue, and signals. Real processes, real sockets."""
import os
import re
import signal
import subprocess
import time

from fake_twitter import EngineSink, parse_frames
from harness import ARTIFACTS, free_port, program, wait_until


def run_synthetic(*extra):
    sink = EngineSink()
    r = subprocess.run([program("twitter_client"), "--source", "synthetic", "--engine", f"127.0.0.1:{sink.port}",
                        "--stats-interval", "0", *extra], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    sink.wait_all_ended()
    sink.close()
    return sink.data()


def test_synthetic_output_is_identical_for_one_seed():
    a = run_synthetic("--seed", "42", "--limit", "20000", "--rate", "0")
    b = run_synthetic("--seed", "42", "--limit", "20000", "--rate", "0")
    c = run_synthetic("--seed", "43", "--limit", "20000", "--rate", "0")
    frames, left = parse_frames(a)
    assert left == b"" and len(frames) == 20000
    assert a == b
    assert a != c
    assert all(f.endswith(b"\n") and len(f) > 1 for f in frames)
    tags = [w for f in frames for w in f.decode().split() if w.startswith("#")]
    # Zipf over the vocabulary: many distinct tags, the top one much more frequent than most.
    assert 1000 < len(set(tags)) < 10001
    assert max(tags.count(t) for t in ("#news", "#music")) > 0.05 * len(tags)


def test_synthetic_rate_is_respected_roughly():
    start = time.monotonic()
    data = run_synthetic("--limit", "300", "--rate", "200")
    elapsed = time.monotonic() - start
    assert len(parse_frames(data)[0]) == 300
    assert elapsed >= 1.3  # 300 tweets at 200/s take 1.5 s; no upper bound on a shared machine


def numbered_lines(n):
    return b"".join(b"tweet %06d #n%d\n" % (i, i % 7) for i in range(n))


def indices(payloads):
    return [int(p.split()[1]) for p in payloads]


def test_engine_restart_mid_stream_tears_no_frame_and_duplicates_none(procs):
    port = free_port()
    sink = EngineSink(port)
    n = 60000
    path = ARTIFACTS / "client-numbered.txt"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path.write_bytes(numbered_lines(n))
    with open(path, "rb") as stdin:
        c = procs("twitter_client", [program("twitter_client"), "--source", "stdin", "--rate", "20000",
                                     "--engine", f"127.0.0.1:{port}", "--stats-interval", "1"], stdin=stdin)
    wait_until(lambda: len(sink.data()) > 200_000, timeout=30, message="a first part of the stream")
    sink.close()  # the engine goes away mid-stream
    time.sleep(0.5)
    sink2 = EngineSink(port)
    c.popen.wait(60)
    assert c.returncode == 0, c.log_text()
    sink2.wait_all_ended()
    first = sink.per_connection()
    second = sink2.per_connection()
    assert len(first) == 1 and len(second) >= 1
    got = []
    # The first connection may end inside a frame: the test closed it while reading. Everything the
    # client sends on a connection starts on a frame boundary and ends on one when it closes.
    p, _ = parse_frames(first[0])
    got += p
    for data in second:
        p, left = parse_frames(data)
        assert left == b"", "a frame was torn"
        got += p
    idx = indices(got)
    assert all(b > a for a, b in zip(idx, idx[1:])), "frames out of order or repeated"
    assert idx[-1] == n - 1
    assert len(idx) > n - 2000  # only what was in the kernel's buffers when the engine died is gone
    log = c.log_text()
    assert re.search(r"engine_reconnects=1 ", log), log
    for payload in got:
        assert re.fullmatch(rb"tweet \d{6} #n\d\n", payload)


def test_an_engine_that_starts_late_gets_everything_queued(procs):
    port = free_port()
    c = procs("twitter_client", [program("twitter_client"), "--seed", "5", "--limit", "5000", "--rate", "0",
                                 "--engine", f"127.0.0.1:{port}", "--drain-timeout", "30"])
    wait_until(lambda: "unreachable" in c.log_text(), timeout=10, message="the client noticing no engine")
    sink = EngineSink(port)
    c.popen.wait(60)
    assert c.returncode == 0, c.log_text()
    sink.wait_all_ended()
    assert sink.data() == run_synthetic("--seed", "5", "--limit", "5000", "--rate", "0")


def test_a_full_queue_drops_the_oldest_frames_and_says_so(procs):
    port = free_port()
    path = ARTIFACTS / "client-numbered-small.txt"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path.write_bytes(numbered_lines(5000))
    with open(path, "rb") as stdin:
        c = procs("twitter_client", [program("twitter_client"), "--source", "stdin", "--queue", "1000",
                                     "--engine", f"127.0.0.1:{port}", "--drain-timeout", "30"], stdin=stdin)
    wait_until(lambda: "unreachable" in c.log_text(), timeout=10, message="the client noticing no engine")
    time.sleep(0.5)  # stdin is read whole meanwhile
    sink = EngineSink(port)
    c.popen.wait(60)
    assert c.returncode == 0, c.log_text()
    sink.wait_all_ended()
    frames, left = parse_frames(sink.data())
    assert left == b""
    assert indices(frames) == list(range(4000, 5000))
    assert "dropped=4000 " in c.log_text()


def test_an_engine_that_hangs_up_an_idle_connection_is_noticed_and_reconnected(procs):
    # The engine never sends: the client must see the end of the connection by reading it, not
    # by a failed write, or the first tweets after a quiet spell would go into a dead socket.
    sink = EngineSink()
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "rb") as stdin:
        c = procs("twitter_client", [program("twitter_client"), "--source", "stdin", "--engine",
                                     f"127.0.0.1:{sink.port}", "--stats-interval", "0"], stdin=stdin)
    with os.fdopen(write_fd, "wb", buffering=0) as feed:
        wait_until(lambda: len(sink.per_connection()) == 1, timeout=10, message="the first connection")
        feed.write(b"before #a\n")
        wait_until(lambda: sink.data() == port_frame(b"before #a"), timeout=10, message="the first tweet")
        sink.drop_clients()
        wait_until(lambda: "closed the connection; reconnecting" in c.log_text(), timeout=10,
                   message="the client noticing the hang-up while idle")
        wait_until(lambda: len(sink.per_connection()) == 2, timeout=10, message="a second connection")
        feed.write(b"after #b\n")
        wait_until(lambda: sink.per_connection()[1] == port_frame(b"after #b"), timeout=10,
                   message="the next tweet on the new connection")
    c.popen.wait(30)
    assert c.returncode == 0, c.log_text()
    assert re.search(r"done: stats: .*engine_reconnects=1 .* lost=0$", c.log_text(), re.M), c.log_text()


def port_frame(text):
    payload = text + b"\n"
    return b"%05d" % len(payload) + payload


def test_sigterm_flushes_and_exits_0_and_a_dead_engine_is_reported_as_loss(procs):
    sink = EngineSink()
    c = procs("twitter_client", [program("twitter_client"), "--rate", "5000", "--engine", f"127.0.0.1:{sink.port}"])
    wait_until(lambda: len(sink.data()) > 10_000, timeout=30, message="tweets")
    assert c.stop(signal.SIGTERM) == 0
    sink.wait_all_ended()
    frames, left = parse_frames(sink.data())
    assert left == b""
    sent = int(re.search(r"done: stats: read=\d+ sent=(\d+) ", c.log_text()).group(1))
    assert sent == len(frames)
    # A finite source and no engine at all: the drain timeout expires and the loss is an error.
    r = subprocess.run([program("twitter_client"), "--limit", "100", "--engine", f"127.0.0.1:{free_port()}",
                        "--drain-timeout", "0.5"], capture_output=True, timeout=60)
    assert r.returncode == 1
    assert b"100 frames could not be delivered" in r.stderr
