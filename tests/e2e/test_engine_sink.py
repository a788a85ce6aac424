"""The engine's sink: an absent or departing receiver, and a receiver that does not read."""
import hashlib
import socket
import sys
import threading
import time

from harness import COMPAT, free_port, start_engine, wait_until

sys.path.insert(0, str(COMPAT))
import reference  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def test_newest_record_first_when_the_receiver_comes_and_goes(procs):
    # Four phases of input; the expected records are the port's over all of them, in order.
    phases = [
        [f"warm up #p1_{i % 7} #common" for i in range(40)],
        ["then #fresh"],
        [f"while away #p3_{i % 5} #common" for i in range(12)],
        ["back #again"],
    ]
    frames = [reference.framed_stream(p) for p in phases]
    ends = [len(reference.records_for_payloads(reference.framed_payloads(b"".join(frames[:k + 1])))) for k in range(4)]
    expected = reference.records_for_payloads(reference.framed_payloads(b"".join(frames)))

    out_port = free_port()
    engine, in_port = start_engine(procs, out_port)
    # No receiver yet: the engine processes phase 1 and keeps only its newest record.
    reference.send_bytes(in_port, frames[0])
    time.sleep(1.0)
    receiver = reference.RecordListener(out_port)
    receiver.wait_records(1, timeout=30)
    reference.send_bytes(in_port, frames[1])
    records = receiver.wait_records(2, timeout=30)
    assert records == [expected[ends[0] - 1], expected[ends[0]]], \
        f"expected the newest record of phase 1 then phase 2's, got {records}"

    # The receiver goes away; records made meanwhile are replaced by the newest.
    receiver.close()
    time.sleep(0.5)
    for text in phases[2]:
        reference.send_bytes(in_port, reference.frame_text(text))
        time.sleep(0.05)
    time.sleep(1.0)
    receiver = reference.RecordListener(out_port)
    receiver.wait_records(1, timeout=30)
    reference.send_bytes(in_port, frames[3])
    records = receiver.wait_records(2, timeout=30)
    assert records == [expected[ends[2] - 1], expected[ends[2]]], \
        f"expected the newest record of phase 3 then phase 4's, got {records}"
    assert ends[3] == len(expected) == ends[2] + 1
    assert engine.poll() is None
    assert engine.stop() == 0
    receiver.close()


class Sender(threading.Thread):
    """Sends data on one connection with a small send buffer, recording its progress."""

    def __init__(self, port, data):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
        self.sock.connect(("127.0.0.1", port))
        self.data = data
        self.sent = 0
        self.error = None

    def run(self):
        try:
            view = memoryview(self.data)
            while self.sent < len(self.data):
                self.sent += self.sock.send(view[self.sent:self.sent + 16384])
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            self.error = e
        finally:
            self.sock.close()


def test_a_receiver_that_does_not_read_blocks_the_client_not_memory(procs):
    texts = reference.heavy_output_texts(180000)  # ~48 MB in, ~137 MB of records out
    stream = reference.framed_stream(texts)
    # Nothing pinned: the expected digest is the Python port's records for this input, made here.
    sha = hashlib.sha256()
    count = 0
    for record in reference.iter_records(reference.framed_payloads(stream), model="fast"):
        sha.update(record)
        count += 1

    receiver = reference.RecordListener(read=False, rcvbuf=64 * 1024, keep=False, digest=True)
    # A receiver that pauses is waited for here (back-pressure, nothing dropped); one that stays
    # hung past --receiver-timeout is treated as gone (test_engine_hardening.py).
    engine, in_port = start_engine(procs, receiver.port, "--receiver-timeout", "0")
    receiver.wait_connected_and_settled()
    baseline = rss_kib(engine.popen.pid)

    sender = Sender(in_port, stream)
    sender.start()
    # Wait until the client stops making progress: the engine has stopped reading.
    last = [-1, time.monotonic()]

    def stalled():
        now = time.monotonic()
        if sender.sent != last[0]:
            last[0], last[1] = sender.sent, now
            return False
        return now - last[1] > 1.5

    wait_until(lambda: stalled() or not sender.is_alive(), timeout=120, interval=0.1, message="the client to block")
    assert sender.is_alive() and sender.sent < len(stream), \
        f"the client was never blocked: the engine read all {len(stream)} bytes while the receiver read nothing"
    samples = []
    for _ in range(10):
        samples.append(rss_kib(engine.popen.pid))
        time.sleep(0.1)
    growth_mib = (max(samples) - baseline) / 1024
    unsent_mib = (len(stream) - sender.sent) / 2**20
    assert growth_mib < 40, f"engine RSS grew by {growth_mib:.1f} MiB while its receiver was stalled"
    assert unsent_mib > 4, f"only {unsent_mib:.1f} MiB of input were left unsent"

    receiver.start_reading()
    sender.join(120)
    assert not sender.is_alive() and sender.error is None, f"client did not finish: {sender.error}"
    wait_until(lambda: receiver.count() >= count, timeout=120, interval=0.05,
               message=f"{count} records (have {receiver.count()})")
    time.sleep(0.2)
    assert receiver.count() == count
    assert receiver.digest() == sha.hexdigest(), "the records differ from the port's (same count)"
    assert engine.poll() is None
    assert engine.stop() == 0
    receiver.close()
