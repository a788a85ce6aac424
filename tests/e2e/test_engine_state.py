"""Nothing lost: the engine's state in --state-dir survives kill -9, torn and corrupt files, a full
disk and a read-only directory; with our client's acknowledged delivery every tweet counts once.

Counts are read with `engine --dump-state` and compared with the original's rule applied to the
same tweets; records with the Python 3 port's (tests/compat/reference.py)."""
import collections
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time

import pytest

from harness import COMPAT, free_port, program, shared_data, wait_port, wait_until

sys.path.insert(0, str(COMPAT))
import reference  # noqa: E402


def hashtags(text):
    """The original's HashtagFinder."""
    return [w for w in text.split() if w[0] == "#"]


def expected_counts(texts):
    counts = collections.Counter()
    for text in texts:
        frame = reference.frame_text(text)
        if frame is None:
            continue
        try:
            frame[5:].decode("utf-8")
        except UnicodeDecodeError:
            continue  # the engine skips a message that is not UTF-8
        counts.update(hashtags(text))
    return dict(counts)


def dump_state(state_dir, *settings):
    out = subprocess.run([program("engine"), "--state-dir", str(state_dir), "--dump-state", *settings],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return {row["tag"]: row["count"] for row in map(json.loads, out.stdout.decode().splitlines())}


class Engine:
    """Our engine on a fixed input port and state directory, to kill and start again."""

    def __init__(self, procs, state_dir, out_port, *extra):
        self.procs, self.state_dir, self.out_port, self.extra = procs, state_dir, out_port, list(extra)
        self.port = free_port()
        self.proc = None
        self.starts = 0

    def start(self, wait=True):
        self.starts += 1
        self.proc = self.procs(f"engine-{self.starts}", [
            program("engine"), "--in", f"127.0.0.1:{self.port}", "--out", f"127.0.0.1:{self.out_port}",
            "--state-dir", str(self.state_dir), "--stats-interval", "0.2", *self.extra])
        if wait:
            wait_port(self.port, proc=self.proc, timeout=30)
        return self.proc

    def kill(self):
        self.proc.kill()


def client(procs, engine_port, *args, name="client"):
    return procs(name, [program("twitter_client"), "--engine", f"127.0.0.1:{engine_port}", "--delivery", "acked",
                        "--queue-full", "wait", "--stats-interval", "0.5", "--drain-timeout", "120", *args])


def all_tweets_file(tmp_path):
    """Every real tweet in one JSONL file, and their texts as the client reads them."""
    tweets_dir = shared_data("tweets")
    joined = tmp_path / "tweets.jsonl"
    with open(joined, "wb") as out:
        for path in reference.tweet_files(tweets_dir):
            with open(path, "rb") as f:
                shutil.copyfileobj(f, out)
    return joined, list(reference.tweet_texts([joined]))


@pytest.mark.parametrize("rate,loops", [(1500, 1), (4000, 1), (0, 6)])
def test_kill_9_at_random_moments_loses_no_tweet_and_counts_none_twice(procs, tmp_path, rate, loops):
    tweets_file, texts = all_tweets_file(tmp_path)
    texts = texts * loops
    expected = expected_counts(texts)
    last_record = reference.records_for_payloads(reference.framed_payloads(reference.framed_stream(texts)),
                                                 model="fast")[-1]
    receiver = reference.RecordListener(keep=False)
    engine = Engine(procs, tmp_path / "state", receiver.port)
    engine.start()
    c = client(procs, engine.port, "--source", "replay", "--file", str(tweets_file), "--rate", str(rate),
               "--limit", str(len(texts)), *(["--loop"] if loops > 1 else []))
    rng = random.Random(rate)
    kills = 0
    while kills < 7 and c.poll() is None:
        time.sleep(rng.uniform(0.15, 0.9))
        engine.kill()
        kills += 1
        time.sleep(rng.uniform(0.0, 0.3))
        engine.start()
    assert kills >= 7 or rate == 0, f"the client finished after {kills} kills: slow the replay down"
    assert c.popen.wait(timeout=180) == 0, c.log_text()[-3000:]
    assert "lost=0" in c.log_text()
    # The last record the receiver saw is the original's last record for these tweets.
    engine.proc.stop()
    dumped = dump_state(engine.state_dir)
    assert dumped == expected, f"{len(dumped)} tags dumped, {len(expected)} expected; differences: " + str(
        {t: (dumped.get(t), expected.get(t)) for t in set(dumped) | set(expected) if dumped.get(t) != expected.get(t)})[:2000]
    receiver2 = reference.RecordListener(keep=True)
    engine.out_port = receiver2.port
    engine.start()
    records = receiver2.wait_records(1, timeout=30)  # the newest record first: the whole state's
    assert records[0] == last_record
    receiver.close()
    receiver2.close()


def test_a_restart_goes_on_as_if_the_engine_never_stopped(procs, tmp_path):
    texts = [f"#a{i % 7} #b{i % 3} words #c{i % 11}" for i in range(3000)]
    first, second = texts[:1700], texts[1700:]
    expected = reference.records_for_payloads(reference.framed_payloads(reference.framed_stream(texts)), model="fast")
    receiver = reference.RecordListener()
    engine = Engine(procs, tmp_path / "state", receiver.port)
    engine.start()
    receiver.wait_connected_and_settled()
    reference.send_bytes(engine.port, reference.framed_stream(first))
    receiver.wait_records(len(expected[:len(hashtags(" ".join(first)))]), timeout=30)
    assert engine.proc.stop() == 0
    assert "state: saved a snapshot" in engine.proc.log_text()
    engine.start()
    log = engine.proc.log_text()
    assert "loaded snapshot-" in log
    receiver.wait_records(len(expected) - sum(len(hashtags(t)) for t in second) + 1, timeout=30)
    reference.send_bytes(engine.port, reference.framed_stream(second))
    records = receiver.wait_records(len(expected) + 1, timeout=30)
    # After the restart: the newest record again, then exactly the uninterrupted engine's records.
    n_first = len(expected) - sum(len(hashtags(t)) for t in second)
    assert records[:n_first] == expected[:n_first]
    assert records[n_first] == expected[n_first - 1]
    assert records[n_first + 1:] == expected[n_first:]
    receiver.close()


def segments(state_dir):
    return sorted(p for p in os.listdir(state_dir) if p.endswith(".wal"))


def snapshots(state_dir):
    return sorted(p for p in os.listdir(state_dir) if p.endswith(".snap"))


def send_and_settle(port, texts, state_dir):
    """Sends frames as the original client does and waits until the log holds them."""
    reference.send_bytes(port, reference.framed_stream(texts))
    time.sleep(0.6)  # two fsync intervals and more


def test_a_torn_log_tail_is_cut_and_said(procs, tmp_path):
    state = tmp_path / "state"
    texts = [f"#t{i % 5} x #u{i % 3}" for i in range(500)]
    engine = Engine(procs, state, free_port(), "--checkpoint-interval", "1h")
    engine.start()
    send_and_settle(engine.port, texts, state)
    engine.kill()
    last = state / segments(state)[-1]
    with open(last, "ab") as f:
        f.write(b"\x40\x00\x00\x00\x12\x34\x56\x78partial")  # a record begun, never finished
    engine.start()
    log = engine.proc.log_text()
    assert "a torn record at its end" in log and "cut 15 bytes" in log, log
    engine.proc.stop()
    assert dump_state(state) == expected_counts(texts)


def test_a_corrupt_snapshot_falls_back_to_the_previous_one(procs, tmp_path):
    state = tmp_path / "state"
    texts = [f"#t{i % 5} x #u{i % 3}" for i in range(900)]
    engine = Engine(procs, state, free_port(), "--checkpoint-interval", "300ms")
    engine.start()
    send_and_settle(engine.port, texts[:300], state)
    wait_until(lambda: len(snapshots(state)) >= 1, timeout=10, message="a first snapshot")
    first = snapshots(state)[-1]
    send_and_settle(engine.port, texts[300:600], state)
    wait_until(lambda: snapshots(state)[-1] != first, timeout=10, message="a second snapshot")
    send_and_settle(engine.port, texts[600:], state)
    engine.kill()
    newest = state / snapshots(state)[-1]
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    newest.write_bytes(bytes(data))
    engine.start()
    log = engine.proc.log_text()
    assert "is corrupt" in log and "trying an older snapshot" in log, log
    engine.proc.stop()
    assert dump_state(state) == expected_counts(texts)


def test_two_engines_cannot_share_a_state_directory(procs, tmp_path):
    state = tmp_path / "state"
    first = Engine(procs, state, free_port())
    first.start()
    second = subprocess.run([program("engine"), "--in", f"127.0.0.1:{free_port()}", "--state-dir", str(state)],
                            capture_output=True, text=True, timeout=30)
    assert second.returncode == 1
    assert "is in use by another engine" in second.stderr
    assert f"pid {first.proc.popen.pid}" in second.stderr


def test_a_state_counted_with_other_settings_is_refused(procs, tmp_path):
    state = tmp_path / "state"
    engine = Engine(procs, state, free_port())
    engine.start()
    send_and_settle(engine.port, ["#a #b"], state)
    assert engine.proc.stop() == 0
    other = subprocess.run([program("engine"), "--in", f"127.0.0.1:{free_port()}", "--state-dir", str(state),
                            "--window", "5m"], capture_output=True, text=True, timeout=30)
    assert other.returncode == 1
    assert "was counted with" in other.stderr and "start it with the same options" in other.stderr


def mount_tmpfs(path, size):
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs for this test (needs root): {done.stderr.decode().strip()}")


def umount(path):
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def lines_client(procs, port, texts, name="client"):
    c = client(procs, port, "--source", "stdin", "--rate", "0", name=name)
    return c


def stats_value(proc, key):
    values = [line.split(f" {key}=")[1].split()[0] for line in proc.log_text().splitlines() if f" {key}=" in line]
    return int(values[-1]) if values else None


def test_a_full_disk_stops_acknowledgements_not_counting_and_loses_nothing(procs, tmp_path):
    mnt = tmp_path / "small"
    mount_tmpfs(mnt, "4m")
    try:
        state = mnt / "state"
        engine = Engine(procs, state, free_port(), "--fsync", "always", "--checkpoint-interval", "1h")
        engine.start()
        texts = [f"#d{i % 9} filler words {i} #e{i % 4}" for i in range(4000)]
        feeder = subprocess.Popen([program("twitter_client"), "--engine", f"127.0.0.1:{engine.port}", "--delivery", "acked",
                                   "--source", "stdin", "--rate", "0", "--stats-interval", "0.3", "--drain-timeout", "120"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "feeder.log", "wb"))
        feeder.stdin.write("".join(t + "\n" for t in texts[:1000]).encode())
        feeder.stdin.flush()
        wait_until(lambda: "acked=1000" in (tmp_path / "feeder.log").read_text(), timeout=30, message="the first acks")
        filler = mnt / "filler"
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)  # until the disk is full
        feeder.stdin.write("".join(t + "\n" for t in texts[1000:3000]).encode())
        feeder.stdin.flush()
        wait_until(lambda: "writing to" in engine.proc.log_text() and "failed" in engine.proc.log_text(), timeout=30,
                   message="the engine to say the disk is full")
        wait_until(lambda: stats_value(engine.proc, "tweets") == 3000, timeout=30, message="counting to go on")
        acked_while_full = stats_value(engine.proc, "acked")
        time.sleep(1.0)
        assert stats_value(engine.proc, "acked") == acked_while_full, "acknowledged while the disk was full"
        assert engine.proc.poll() is None
        filler.unlink()
        feeder.stdin.write("".join(t + "\n" for t in texts[3000:]).encode())
        feeder.stdin.close()
        assert feeder.wait(timeout=120) == 0, (tmp_path / "feeder.log").read_text()[-2000:]
        assert "works again" in engine.proc.log_text()
        engine.kill()
        engine.start()
        engine.proc.stop()
        assert dump_state(state) == expected_counts(texts)
    finally:
        umount(mnt)


def test_a_read_only_directory_counts_in_memory_until_it_is_writable(procs, tmp_path):
    mnt = tmp_path / "ro"
    mount_tmpfs(mnt, "16m")
    try:
        state = mnt / "state"
        texts = [f"#r{i % 6} #s{i % 4}" for i in range(1200)]
        engine = Engine(procs, state, free_port())
        engine.start()
        send_and_settle(engine.port, texts[:400], state)
        assert engine.proc.stop() == 0
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        engine.start()
        log = engine.proc.log_text()
        assert "is not writable" in log, log
        feeder = subprocess.Popen([program("twitter_client"), "--engine", f"127.0.0.1:{engine.port}", "--delivery", "acked",
                                   "--source", "stdin", "--rate", "0", "--stats-interval", "0.3", "--drain-timeout", "120"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "feeder.log", "wb"))
        feeder.stdin.write("".join(t + "\n" for t in texts[400:]).encode())
        feeder.stdin.close()
        wait_until(lambda: stats_value(engine.proc, "tweets") == 800, timeout=30, message="counting in memory")
        time.sleep(1.0)
        assert stats_value(engine.proc, "acked") == 0
        subprocess.run(["mount", "-o", "remount,rw", str(mnt)], check=True)
        assert feeder.wait(timeout=120) == 0, (tmp_path / "feeder.log").read_text()[-2000:]
        engine.kill()
        engine.start()
        engine.proc.stop()
        assert dump_state(state) == expected_counts(texts)
    finally:
        umount(mnt)
