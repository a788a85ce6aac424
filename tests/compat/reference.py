#!/usr/bin/python3
"""Offline reference: the exact record bytes the Python 3 port of the original application emits.

    reference.py --jsonl ../shared/data/tweets/*.jsonl > expected.txt   # tweets -> records
    reference.py --framed stream.bin > expected.txt                      # 5-digit frames -> records
    reference.py --lines typed.txt > expected.txt                        # one tweet per line
    reference.py --jsonl FILES --emit-framed > stream.bin                # the client's framing only

The records come from tests/compat/twitter_wallaroo_app.py run through the same topology code as
the live stand-in tests/compat/machida.py, for one input connection. `--model fast` swaps the
pandas state for FastCounts, a dict with an incremental top list that must give identical bytes
(a test checks it against pandas) and is fast enough for large inputs.

It is also the library the engine's end-to-end tests and scripts/bench-engine share: tweet text
extraction and framing as our client does it, record splitting, and RecordListener, a stand-in
receiver that collects what the engine writes.
"""
import argparse
import hashlib
import json
import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import machida  # noqa: E402  (the stand-in's topology code, so both run the port identically)
from twitter_client_framing import tweet_text  # noqa: E402  (our client's text rule, in Python)

MAX_PAYLOAD = 99999
RECORD_END = b";;\n"


# ---- tweets and the client's framing -------------------------------------------------------

def tweet_texts(paths, limit=None):
    """Texts of the tweets in JSONL files, in order; lines that are not tweets are skipped."""
    count = 0
    for path in paths:
        with open(path, "rb") as f:
            for line in f:
                if limit is not None and count >= limit:
                    return
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                text = tweet_text(obj)
                if text is None:
                    continue
                count += 1
                yield text


def frame_text(text):
    """The original client's frame: str(len(utf8)+1).zfill(5) + utf8 + '\\n'; None if too long.

    Lone surrogates (kept by some fixtures) are encoded as Python 2 would have sent them, so
    the engine and the port both see invalid UTF-8 there and skip that message.
    """
    body = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if len(body) + 1 > MAX_PAYLOAD:
        return None
    return str(len(body) + 1).zfill(5).encode("ascii") + body + b"\n"


def framed_stream(texts):
    """One byte string of frames for texts (too long ones skipped, as our client does)."""
    out = bytearray()
    for text in texts:
        frame = frame_text(text)
        if frame is not None:
            out += frame
    return bytes(out)


def tweet_files(tweets_dir):
    """The JSONL files of ../shared/data/tweets, in a fixed order."""
    return sorted(os.path.join(tweets_dir, name) for name in os.listdir(tweets_dir) if name.endswith(".jsonl"))


# ---- the port, run as machida runs it --------------------------------------------------------

class FastCounts(object):
    """Same contract as the port's HashtagCounts (update, get_counts) without pandas.

    Counts only ever go up by one, so the new top n is the old one re-sorted, or the old one
    with its last entry replaced by the hashtag just counted. Order: count descending, ties by
    first seen, which is what pandas' nlargest gives for n <= 16.
    """

    def __init__(self, n=10):
        self.n = n
        self.counts = {}  # hashtag -> [count, first-seen sequence]
        self.top = []

    def update(self, hashtag_name, counts):
        entry = self.counts.get(hashtag_name)
        if entry is None:
            entry = self.counts[hashtag_name] = [0, len(self.counts)]
        entry[0] += counts
        if hashtag_name not in self.top:
            if len(self.top) < self.n:
                self.top.append(hashtag_name)
            else:
                last = self.counts[self.top[-1]]
                if (entry[0], -entry[1]) <= (last[0], -last[1]):
                    return
                self.top[-1] = hashtag_name
        self.top.sort(key=lambda h: (-self.counts[h][0], self.counts[h][1]))

    def get_counts(self, n=10):
        return {h: self.counts[h][0] for h in self.top}


def port_topology(top=10, model="pandas"):
    """machida.Topology of twitter_wallaroo_app, its state replaced for --top or --model fast."""
    import twitter_wallaroo_app as app
    topology = machida.Topology(app.application_setup(["reference", "--in", "127.0.0.1:0", "--out", "127.0.0.1:0"]))
    for i, (kind, computation, state) in enumerate(topology.steps):
        if kind != "stateful":
            continue
        if model == "fast":
            state = FastCounts(top)
        elif top != 10:
            class TopCounts(app.HashtagCounts):
                # The seed's ComputeHashtags calls get_counts() with its default of 10.
                def get_counts(self, n=10):
                    return app.HashtagCounts.get_counts(self, top)
            state = TopCounts()
        topology.steps[i] = (kind, computation, state)
    return topology


def framed_payloads(data):
    """Payloads of a framed byte stream, as one connection would deliver them to the port.

    Stops at a header the port's Decoder rejects (the connection would be closed there); a
    truncated last frame is dropped.
    """
    import twitter_wallaroo_app as app
    buffer = bytearray(data)
    payloads, _error = machida.split_frames(buffer, app.Decoder())
    return payloads


def line_payloads(data):
    """Payloads of the `lines` input format: each line with its '\n'; a last line without one
    still counts when the connection ends (as in the engine)."""
    lines = data.split(b"\n")
    payloads = [line + b"\n" for line in lines[:-1]]
    if lines[-1]:
        payloads.append(lines[-1])
    return payloads


def iter_records(payloads, top=10, model="pandas"):
    """Every record the port emits for these payloads, in order, one at a time."""
    topology = port_topology(top, model)
    for payload in payloads:
        yield from split_records(topology.process(payload))


def records_for_payloads(payloads, top=10, model="pandas"):
    """Every record the port emits for these payloads, in order (a list of bytes)."""
    return list(iter_records(payloads, top, model))


def split_records(data):
    """Whole records (each ending ';;\\n') at the front of data; a torn tail is left out."""
    parts = data.split(RECORD_END)
    return [part + RECORD_END for part in parts[:-1]]


def describe_difference(actual, expected):
    """None when two record lists are equal, else a message naming the first difference."""
    if actual == expected:
        return None
    for i, (a, e) in enumerate(zip(actual, expected)):
        if a != e:
            before = f"\n previous record (equal): {expected[i - 1]!r}" if i else ""
            return (f"record {i} (of {len(expected)} expected, {len(actual)} received) differs:"
                    f"{before}\n expected: {e!r}\n actual:   {a!r}")
    if len(actual) < len(expected):
        return (f"received only {len(actual)} of {len(expected)} records (all equal so far); "
                f"first missing: {expected[len(actual)]!r}")
    return (f"received {len(actual)} records, expected {len(expected)} (all equal so far); "
            f"first extra: {actual[len(expected)]!r}")


# ---- a stand-in receiver and a sender for the end-to-end tests and the benchmark --------------

class RecordListener:
    """Listens on 127.0.0.1:port as socket_receiver does and keeps every byte it reads.

    Connections are served one after the other, like the original receiver. With read=False it
    accepts but does not read until start_reading() (a stalled receiver, for back-pressure).
    """

    def __init__(self, port=0, read=True, rcvbuf=None, keep=True, digest=False):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(1)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.ended = 0  # connections read to their end (or closed by close())
        self.first_record_at = None
        self.last_record_at = None
        self._data = []  # one bytearray per connection
        self._keep = keep  # False: only count records (benchmarks with large outputs)
        self._tail = b""
        self._records = 0
        self._bytes = 0
        self._sha = hashlib.sha256() if digest else None  # of every byte, in order
        self._lock = threading.Lock()
        self._reading = threading.Event()
        if read:
            self._reading.set()
        self._closed = threading.Event()
        self._conn = None
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._conn = conn
                self._tail = b""
                self._data.append(bytearray())
            conn.settimeout(0.05)
            while not self._closed.is_set():
                if not self._reading.is_set():
                    self._reading.wait(0.05)
                    continue
                try:
                    chunk = conn.recv(1 << 16)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                now = time.monotonic()
                with self._lock:
                    # Count records across chunk boundaries: a ';;\n' may be split between reads.
                    joined = self._tail + chunk
                    found = joined.count(RECORD_END)
                    self._tail = joined[-2:]
                    self._bytes += len(chunk)
                    if self._keep:
                        self._data[-1] += chunk
                    if self._sha is not None:
                        self._sha.update(chunk)
                    if found:
                        self._records += found
                        if self.first_record_at is None:
                            self.first_record_at = now
                        self.last_record_at = now
            conn.close()
            with self._lock:
                self._conn = None
                self.ended += 1

    def data(self):
        """Every byte read, connection after connection."""
        with self._lock:
            return b"".join(self._data)

    def digest(self):
        """sha256 hex digest of every byte read (digest=True)."""
        with self._lock:
            return self._sha.hexdigest()

    def byte_count(self):
        with self._lock:
            return self._bytes

    def data_per_connection(self):
        with self._lock:
            return [bytes(d) for d in self._data]

    def records(self):
        """The whole records read, in order; a torn record at the end of a connection is left out."""
        return [r for d in self.data_per_connection() for r in split_records(d)]

    def count(self):
        """How many whole records arrived so far (over every connection)."""
        with self._lock:
            return self._records

    def wait_records(self, count, timeout=30.0):
        """Waits until at least count records arrived; returns the records."""
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver on port {self.port} got {self.count()} records, expected {count}, after {timeout} s")
            time.sleep(0.01)
        return self.records()

    def wait_connected(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while self.connections == 0:
            if time.monotonic() > deadline:
                raise AssertionError(f"nobody connected to the receiver on port {self.port} in {timeout} s")
            time.sleep(0.01)

    def wait_connected_and_settled(self, timeout=30.0, settle=0.5):
        """Waits for the engine's sink to connect, then a little more: records the engine makes
        before its connect completes are, by design, reduced to the newest one."""
        self.wait_connected(timeout)
        time.sleep(settle)

    def wait_ended(self, count=1, timeout=30.0):
        """Waits until count connections have been read to their end."""
        deadline = time.monotonic() + timeout
        while self.ended < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver on port {self.port}: {self.ended} connections ended, expected {count}")
            time.sleep(0.01)

    def start_reading(self):
        self._reading.set()

    def close(self):
        """Stops: the listening socket and the current connection are closed (receiver gone)."""
        self._closed.set()
        self._thread.join(5)
        with self._lock:
            if self._conn is not None:
                self._conn.close()
        self.sock.close()


def heavy_output_texts(count, seed_tags=10, pad=250):
    """Tweets whose records are much longer than they are: ten 58-character hashtags lead the
    top 10 from the first tweet on, then each tweet carries `pad` bytes of words, one new short
    hashtag and, every tenth tweet, one of the long ones (so counts, and records, change)."""
    longs = [f"#long{i}_" + "x" * 50 for i in range(seed_tags)]
    texts = [" ".join(longs + longs)]
    padding = ("lorem ipsum dolor sit amet " * (pad // 27 + 1))[:pad]
    for n in range(count):
        extra = f" {longs[(n // 10) % seed_tags]}" if n % 10 == 0 else ""
        texts.append(f"{padding} #u{n:x}{extra}")
    return texts


# machida's whole command line from the tutorial (ORIGINAL.md); --ponythreads=1 appears twice.
MACHIDA_LINE = ("--application-module twitter_wallaroo_app --in 127.0.0.1:8002 --out 127.0.0.1:7002 "
                "--metrics 127.0.0.1:5001 --control 127.0.0.1:6000 --data 127.0.0.1:6001 "
                "--worker-name worker1 --ponythreads=1 --external 127.0.0.1:5050 "
                "--cluster-initializer --ponythreads=1 --ponynoblock").split()


def machida_line(in_port, out_port):
    """The tutorial's machida command line with our own ports (8002/7002 may be busy)."""
    line = list(MACHIDA_LINE)
    line[line.index("--in") + 1] = f"127.0.0.1:{in_port}"
    line[line.index("--out") + 1] = f"127.0.0.1:{out_port}"
    return line


def send_bytes(port, data, chunk=1 << 16, host="127.0.0.1"):
    """Connects, sends data in chunks, shuts down writing and closes."""
    with socket.create_connection((host, port), timeout=60) as s:
        for i in range(0, len(data), chunk):
            s.sendall(data[i:i + chunk])
        s.shutdown(socket.SHUT_WR)


# ---- command line ----------------------------------------------------------------------------

def main(argv):
    parser = argparse.ArgumentParser(description="Records the Python 3 port of the original application emits for an input, on stdout.")
    kind = parser.add_mutually_exclusive_group(required=True)
    kind.add_argument("--jsonl", action="store_true", help="inputs are tweets, one JSON object a line")
    kind.add_argument("--framed", action="store_true", help="inputs are 5-digit framed streams (one connection)")
    kind.add_argument("--lines", action="store_true", help="inputs are one tweet per '\\n'-terminated line")
    parser.add_argument("--top", type=int, default=10, help="top N (default 10)")
    parser.add_argument("--model", choices=("pandas", "fast"), default="pandas",
                        help="pandas: the port itself (default); fast: FastCounts, same bytes")
    parser.add_argument("--limit", type=int, help="with --jsonl: only the first N tweets")
    parser.add_argument("--emit-framed", action="store_true", help="with --jsonl: write the framed stream, not records")
    parser.add_argument("inputs", nargs="+", help="files, '-' for stdin (each file is one connection's bytes, concatenated)")
    args = parser.parse_args(argv[1:])

    def read(path):
        if path == "-":
            return sys.stdin.buffer.read()
        with open(path, "rb") as f:
            return f.read()

    if args.jsonl:
        stream = framed_stream(tweet_texts(args.inputs, args.limit))
        if args.emit_framed:
            sys.stdout.buffer.write(stream)
            return 0
        payloads = framed_payloads(stream)
    elif args.framed:
        payloads = framed_payloads(b"".join(read(p) for p in args.inputs))
    else:
        payloads = line_payloads(b"".join(read(p) for p in args.inputs))
    topology = port_topology(args.top, args.model)
    out = sys.stdout.buffer
    for payload in payloads:
        out.write(topology.process(payload))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
