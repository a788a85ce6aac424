"""The engine under attack: amplified output, a hung receiver, exhausted descriptors, idle sources.

Each test reproduces a defect found by attacking the running engine (issue 9) with real
processes and sockets, and measures memory and CPU from /proc.
"""
import os
import resource
import socket
import sys
import time

from harness import COMPAT, start_engine, wait_until

sys.path.insert(0, str(COMPAT))
import reference  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for pid {pid}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def python_record(labels, counts):
    """A record exactly as the original Python 3 engine writes it."""
    return (str({"label": str(labels), "data": str(counts)}) + ";;\n").encode()


def stats_value(engine, key):
    values = [line.split(f" {key}=")[1].split()[0] for line in engine.log_text().splitlines() if f" {key}=" in line]
    return int(values[-1]) if values else None


def test_one_frame_of_many_hashtags_cannot_blow_up_the_engines_memory(procs):
    # Ten 4,000-byte hashtags lead the top 10, then one 90 kB frame holds 30,000 '#a': each of its
    # hashtags writes a ~40 kB record, 1.2 GB in all from one frame. The engine used to build all
    # of it in memory inside one read; now the output bound holds between two hashtags, and a
    # receiver that reads still gets every record, in order, exactly the original's bytes.
    longs = [f"#long{i}_" + "x" * 4000 for i in range(10)]
    receiver = reference.RecordListener(keep=False)
    engine, in_port = start_engine(procs, receiver.port, "--stats-interval", "0")
    receiver.wait_connected_and_settled()
    many = 30000
    stream = reference.frame_text(" ".join(longs + longs)) + reference.frame_text(" ".join(["#a"] * many))
    reference.send_bytes(in_port, stream)
    total = 20 + many
    wait_until(lambda: receiver.count() >= total, timeout=240, interval=0.1,
               message=f"{total} records (have {receiver.count()})")
    peak_mib = status_kib(engine.popen.pid, "VmHWM") / 1024
    assert receiver.count() == total
    out_gib = receiver.byte_count() / 2**30
    assert out_gib > 1.0, f"only {out_gib:.2f} GiB of records: the test did not amplify"
    assert peak_mib < 150, f"the engine peaked at {peak_mib:.0f} MiB for {out_gib:.2f} GiB of records"
    # The last record: '#a' first, then the first nine long tags, twice each.
    assert receiver._tail == b";\n"
    assert engine.stop() == 0
    receiver.close()


def test_the_last_record_after_amplification_is_exact(procs):
    # Same shape, small enough to keep every byte and compare the end with the original's record.
    longs = [f"#long{i}_" + "y" * 500 for i in range(10)]
    receiver = reference.RecordListener()
    engine, in_port = start_engine(procs, receiver.port, "--stats-interval", "0")
    receiver.wait_connected_and_settled()
    many = 5000
    reference.send_bytes(in_port, reference.frame_text(" ".join(longs + longs)) +
                         reference.frame_text(" ".join(["#a"] * many)))
    records = receiver.wait_records(20 + many, timeout=120)
    assert len(records) == 20 + many
    expected_last = python_record(["#a"] + longs[:9], [many] + [2] * 9)
    assert records[-1] == expected_last
    assert records[19] == python_record(longs, [2] * 10)
    assert engine.stop() == 0
    receiver.close()


def hung_receiver(port=0):
    """Accepts connections (the kernel does) and never reads a byte."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    return s


def test_a_hung_receiver_does_not_stop_the_counting(procs):
    hung = hung_receiver()
    out_port = hung.getsockname()[1]
    engine, in_port = start_engine(procs, out_port, "--receiver-timeout", "1", "--stats-interval", "0.5")
    tags = 7
    tweets = 600_000  # ~40 MB of records: far more than the buffers between engine and a hung receiver
    stream = b"".join(reference.frame_text(f"#t{i % tags}") for i in range(tweets))
    reference.send_bytes(in_port, stream)
    # Counting goes on: every tweet is counted although the receiver never reads.
    wait_until(lambda: stats_value(engine, "tweets") == tweets, timeout=60, interval=0.2,
               message=f"the engine to count all {tweets} tweets (stats say {stats_value(engine, 'tweets')})")
    log = engine.log_text()
    assert "receiver took no bytes for 1000 ms" in log, log[-3000:]
    # A receiver that reads takes the hung one's place: the newest record comes first, exact.
    hung.close()
    receiver = reference.RecordListener(out_port)
    records = receiver.wait_records(1, timeout=30)
    labels = [f"#t{i}" for i in range(tags)]
    counts = [len(range(i, tweets, tags)) for i in range(tags)]  # already in rank order
    assert records[0] == python_record(labels, counts)
    assert engine.poll() is None
    assert engine.stop() == 0
    receiver.close()


def test_out_of_descriptors_the_engine_backs_off_and_serves_its_sources(procs):
    receiver = reference.RecordListener()
    engine, in_port = start_engine(procs, receiver.port, "--stats-interval", "0", nofile=32)
    try:
        receiver.wait_connected_and_settled()
        source = socket.create_connection(("127.0.0.1", in_port))
        source.sendall(reference.frame_text("before #flood"))
        receiver.wait_records(1, timeout=30)
        log_before = len(engine.log_text())
        # Far more connections than descriptors left: accept() fails with EMFILE.
        flood = []
        for _ in range(80):
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect(("127.0.0.1", in_port))
            except OSError:
                s.close()
                continue
            flood.append(s)
        time.sleep(0.5)
        cpu0, t0 = cpu_seconds(engine.popen.pid), time.monotonic()
        time.sleep(2.0)
        busy = (cpu_seconds(engine.popen.pid) - cpu0) / (time.monotonic() - t0)
        # The established source is still served while accept() fails.
        source.sendall(reference.frame_text("during #flood"))
        records = receiver.wait_records(2, timeout=30)
        assert records[-1] == python_record(["#flood"], [2])
        log_growth = len(engine.log_text()) - log_before
        assert busy < 0.3, f"the engine used {busy:.0%} of a core while accept() failed"
        assert log_growth < 4000, f"the engine wrote {log_growth} bytes of log in 2.5 s of failing accepts"
        assert "accept failed" in engine.log_text()
        for s in flood:
            s.close()
        # Descriptors are back: new sources are accepted again.
        time.sleep(1.5)
        late = socket.create_connection(("127.0.0.1", in_port))
        late.sendall(reference.frame_text("after #flood"))
        records = receiver.wait_records(3, timeout=30)
        assert records[-1] == python_record(["#flood"], [3])
        assert "accepting again after" in engine.log_text()
        late.close()
        source.close()
    finally:
        engine.stop()
        receiver.close()


def test_idle_connections_hold_no_read_buffer(procs):
    receiver = reference.RecordListener()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, 8192)
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    idle_count = min(2000, wanted // 2 - 100)
    engine, in_port = start_engine(procs, receiver.port, "--stats-interval", "0", nofile=wanted)
    sockets = []
    try:
        receiver.wait_connected_and_settled()
        before = status_kib(engine.popen.pid, "VmRSS")
        for _ in range(idle_count):
            sockets.append(socket.create_connection(("127.0.0.1", in_port)))
        # Each idle source once sent a byte (a header begun): it must not pin a read buffer either.
        for s in sockets[: idle_count // 2]:
            s.sendall(reference.frame_text("hello #idle"))
        receiver.wait_records(idle_count // 2, timeout=60)
        time.sleep(0.5)
        growth_kib = status_kib(engine.popen.pid, "VmRSS") - before
        per_connection = growth_kib * 1024 / idle_count
        assert per_connection < 16 * 1024, \
            f"{idle_count} idle sources cost {growth_kib / 1024:.1f} MiB ({per_connection / 1024:.1f} kB each)"
    finally:
        for s in sockets:
            s.close()
        engine.stop()
        receiver.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_idle_timeout_closes_a_source_that_never_completes_a_frame(procs):
    receiver = reference.RecordListener()
    engine, in_port = start_engine(procs, receiver.port, "--idle-timeout", "1", "--stats-interval", "0")
    receiver.wait_connected_and_settled()
    stuck = socket.create_connection(("127.0.0.1", in_port))
    stuck.sendall(b"000")  # a header begun, never finished
    lively = socket.create_connection(("127.0.0.1", in_port))
    stuck.settimeout(5)
    started = time.monotonic()
    for k in range(8):  # a frame every 0.3 s keeps this one open
        lively.sendall(reference.frame_text(f"still here #alive{k % 2}"))
        time.sleep(0.3)
    assert stuck.recv(1) == b"", "the stuck source was not closed"
    assert time.monotonic() - started < 5
    lively.sendall(reference.frame_text("#alive0"))
    records = receiver.wait_records(9, timeout=30)
    assert records[-1] == python_record(["#alive0", "#alive1"], [5, 4])
    assert "no whole message for 1000 ms (--idle-timeout)" in engine.log_text()
    stuck.close()
    lively.close()
    assert engine.stop() == 0
    receiver.close()
