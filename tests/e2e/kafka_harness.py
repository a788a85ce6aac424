"""Helpers of the Kafka tests: a mock cluster (librdkafka's mock brokers, real Kafka protocol over
TCP) run by build/bin/mock_cluster, topic dumps through kcat, a receiver that keeps the arrival
time of every record, and the expected records computed from the log itself."""
import shutil
import socket
import subprocess
import threading
import time

import pytest

from harness import ARTIFACTS, program

RECORD_END = b";;\n"


class MockCluster:
    """build/bin/mock_cluster: 3 brokers and the given topics; down(id) / up(id) through its stdin."""

    def __init__(self, topics, brokers=3):
        argv = [program("mock_cluster"), "--brokers", str(brokers)]
        for name, partitions in topics.items():
            argv += ["--topic", f"{name}:{partitions}"]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / f"mock_cluster-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")
        self.popen = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log)
        self.bootstrap = self.popen.stdout.readline().decode().strip()
        if self.popen.stdout.readline().decode().strip() != "ready":
            raise AssertionError(f"mock_cluster did not start: {self.log_path.read_text(errors='replace')}")

    def command(self, line):
        self.popen.stdin.write((line + "\n").encode())
        self.popen.stdin.flush()
        answer = self.popen.stdout.readline().decode().strip()
        assert answer == "ok", f"mock_cluster {line!r}: {answer!r}"

    def down(self, broker):
        self.command(f"down {broker}")

    def up(self, broker):
        self.command(f"up {broker}")

    def close(self):
        if self.popen.poll() is None:
            try:
                self.popen.stdin.close()
            except OSError:
                pass
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()


def kcat():
    path = shutil.which("kcat")
    if path is None:
        pytest.fail("kcat is not installed (scripts/setup.sh installs it)")
    return path


def dump_topic(bootstrap, topic):
    """Every record of a topic as (timestamp_ms, partition, offset, value bytes), in log order per partition."""
    out = subprocess.run([kcat(), "-C", "-b", bootstrap, "-t", topic, "-e", "-q", "-f", "%T %p %o %S\n%s\n"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=True).stdout
    records, at = [], 0
    while at < len(out):
        end = out.index(b"\n", at)
        ts, partition, offset, size = (int(x) for x in out[at:end].split())
        value = out[end + 1:end + 1 + size]
        records.append((ts, partition, offset, value))
        at = end + 1 + size + 1
    return records


def log_order(records):
    """The tweets in the order "first seen over the log" defines: timestamp, partition, offset."""
    return sorted(records, key=lambda r: (r[0], r[1], r[2]))


class TimedReceiver:
    """A receiver for any number of engine connections at once (the writer may change), keeping
    every whole record with the time it arrived."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self._lock = threading.Lock()
        self._records = []  # (monotonic time, record bytes)
        self._closed = threading.Event()
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(0.1)
        buf = b""
        while not self._closed.is_set():
            try:
                chunk = conn.recv(1 << 16)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            parts = buf.split(RECORD_END)
            buf = parts[-1]
            now = time.monotonic()
            with self._lock:
                self._records.extend((now, p + RECORD_END) for p in parts[:-1])
        conn.close()

    def records(self):
        with self._lock:
            return [r for _, r in self._records]

    def timed(self):
        with self._lock:
            return list(self._records)

    def last(self):
        with self._lock:
            return self._records[-1][1] if self._records else None

    def wait_for(self, expected, timeout):
        """Waits until the newest record is `expected`; returns the newest record either way."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.last() == expected:
                return expected
            time.sleep(0.1)
        return self.last()

    def close(self):
        self._closed.set()
        self.sock.close()


def python_hashtags(text):
    """The original's rule: [w.strip() for w in text.split() if w[0] == '#'] (on str, as Python 3)."""
    return [w for w in text.split() if w.startswith("#")]


def decode_text(value):
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None  # skipped by the engine, as by the port


def format_record(pairs):
    """The original's record for (tag, number) pairs, through the Python 3 port's own str()."""
    tags = [t for t, _ in pairs]
    data = [n for _, n in pairs]
    return (str({"label": str(tags), "data": str(data)}) + ";;\n").encode("utf-8")


def windowed_top(tweets, window_slots, slide_ms, top=10):
    """The exact top N of a window on the log's time after `tweets` (one source partition, in
    offset order): counts of the events whose slot is among the last window_slots at the final
    time; ties by the first event of the tag's current stay in the state (a tag is forgotten when
    window_slots slides pass without it)."""
    end_slot = max(ts for ts, _, _, _ in tweets) // slide_ms
    counts, first, last_slot = {}, {}, {}
    for ts, partition, offset, value in tweets:
        text = decode_text(value)
        if text is None:
            continue
        slot = ts // slide_ms
        for index, tag in enumerate(python_hashtags(text)):
            if tag in last_slot and slot - last_slot[tag] >= window_slots:
                counts.pop(tag, None)  # forgotten: every kept slot of it had left the window
            if tag not in counts:
                first[tag] = (ts, partition, offset, index)
                counts[tag] = []
            counts[tag].append(slot)
            last_slot[tag] = slot
    live = {}
    for tag, slots in counts.items():
        n = sum(1 for s in slots if s > end_slot - window_slots)
        if n > 0:
            live[tag] = n
    ranked = sorted(live, key=lambda t: (-live[t], first[t]))[:top]
    return format_record([(t, live[t]) for t in ranked])
