#!/usr/bin/python3
"""A minimal stand-in for Wallaroo 0.2.2's `machida`: runs a Python application module live.

    python3 tests/compat/machida.py --application-module twitter_wallaroo_app \\
      --in 127.0.0.1:8002 --out 127.0.0.1:7002 --metrics 127.0.0.1:5001 \\
      --control 127.0.0.1:6000 --data 127.0.0.1:6001 --worker-name worker1 \\
      --ponythreads=1 --external 127.0.0.1:5050 --cluster-initializer \\
      --ponythreads=1 --ponynoblock

It imports the module (from this folder or the current directory, as machida did through
PYTHONPATH), calls application_setup(argv) and runs the topology it returns: a TCP source that
listens on --in (any number of connections, each framed on its own by the module's Decoder:
header_length / payload_length / decode), the computations in order (compute_multi or compute),
the state computation with the state its builder built, and a TCP sink that connects out to
--out, retrying every second, and writes what the Encoder returns, as UTF-8.

Single-threaded, like one Wallaroo worker with --ponythreads=1. Departures from Wallaroo, to
keep the stand-in lossless and simple (see README.md): while the sink is not connected or its
buffer is full, sources are not read (TCP back-pressure) rather than data dropped; a header
that payload_length() rejects closes that connection; a payload decode() rejects is skipped.
SIGINT/SIGTERM stop reading, flush the sink (up to 10 s) and exit 0. The other machida flags
are accepted and ignored.
"""
import argparse
import errno
import importlib
import os
import select
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SINK_RETRY_S = 1.0
SINK_HIGH_WATER = 1 << 20  # stop reading sources while this much output is unsent
READ_SIZE = 1 << 16
FLUSH_TIMEOUT_S = 10.0


def log(message):
    sys.stderr.write(f"machida: {message}\n")
    sys.stderr.flush()


def parse_command_line(argv):
    """machida's command line; everything but --application-module is left to the module."""
    parser = argparse.ArgumentParser(
        prog="machida.py",
        description="Stand-in for Wallaroo 0.2.2's machida: runs a Python application module "
                    "with a TCP source and a TCP sink.")
    parser.add_argument("--application-module", required=True,
                        help="module defining application_setup(args), e.g. twitter_wallaroo_app")
    parser.add_argument("-i", "--in", dest="input_addrs", help="HOST:PORT to listen on for input")
    parser.add_argument("-o", "--out", dest="output_addrs", help="HOST:PORT to connect out to")
    # Accepted for compatibility with the tutorial's command line, ignored.
    for flag in ("--metrics", "--control", "--data", "--worker-name", "--external", "--name",
                 "--ponythreads", "--ponyminthreads", "--ponymaxthreads"):
        parser.add_argument(flag, action="append", help="accepted and ignored")
    for flag in ("--cluster-initializer", "--ponynoblock", "--ponypinasio"):
        parser.add_argument(flag, action="store_true", help="accepted and ignored")
    return parser.parse_known_args(argv)[0]


class Topology:
    """The pipeline application_setup() described, run on one message at a time."""

    def __init__(self, actions):
        self.name = None
        self.source = None
        self.sink = None
        self.steps = []  # (kind, computation, state)
        for action in actions:
            kind = action[0]
            if kind == "name":
                self.name = action[1]
            elif kind == "new_pipeline":
                if self.source is not None:
                    raise SystemExit("machida.py: only one pipeline is supported")
                self.source = action[2]
            elif kind == "to":
                computation = action[1]
                # Wallaroo 0.2.2 passes the class and builds the instance itself.
                self.steps.append(("stateless", computation() if isinstance(computation, type) else computation, None))
            elif kind == "to_stateful":
                computation, state_builder = action[1], action[2]
                self.steps.append(("stateful", computation, state_builder.build()))
            elif kind == "to_sink":
                self.sink = action[1]
            elif kind == "done":
                pass
            else:
                raise SystemExit(f"machida.py: unsupported topology action {kind!r}")
        if self.source is None or self.source[0] != "tcp" or self.sink is None or self.sink[0] != "tcp":
            raise SystemExit("machida.py: the application needs one TCP source and one TCP sink")
        self.decoder = self.source[3]
        self.encoder = self.sink[3]

    def process(self, payload):
        """Output bytes for one framed payload; b'' when it yields nothing or does not decode."""
        try:
            data = self.decoder.decode(payload)
        except (UnicodeDecodeError, ValueError) as e:
            log(f"skipping a message that does not decode ({len(payload)} bytes): {e}")
            return b""
        messages = [data]
        for kind, computation, state in self.steps:
            produced = []
            for message in messages:
                if kind == "stateless":
                    if hasattr(computation, "compute_multi"):
                        produced.extend(x for x in computation.compute_multi(message) if x is not None)
                    else:
                        result = computation.compute(message)
                        if result is not None:
                            produced.append(result)
                else:
                    result = computation.compute(message, state)
                    # Wallaroo 0.2.2 state computations return (output, state_changed).
                    if isinstance(result, tuple):
                        result = result[0]
                    if result is not None:
                        produced.append(result)
            messages = produced
        out = bytearray()
        for message in messages:
            encoded = self.encoder.encode(message)
            out += encoded.encode("utf-8") if isinstance(encoded, str) else encoded
        return bytes(out)


class Source:
    """One input connection and its unframed bytes."""

    def __init__(self, sock, peer):
        self.sock = sock
        self.peer = peer
        self.buffer = bytearray()


def split_frames(buffer, decoder):
    """Takes whole frames off the front of buffer: (payloads, error or None)."""
    header_length = decoder.header_length()
    payloads = []
    start = 0
    while len(buffer) - start >= header_length:
        header = bytes(buffer[start:start + header_length])
        try:
            length = decoder.payload_length(header)
        except (ValueError, TypeError) as e:
            del buffer[:start]
            return payloads, f"bad header {header!r}: {e}"
        if length < 0:
            del buffer[:start]
            return payloads, f"bad header {header!r}: negative length"
        end = start + header_length + length
        if len(buffer) < end:
            break
        payloads.append(bytes(buffer[start + header_length:end]))
        start = end
    del buffer[:start]
    return payloads, None


class Machida:
    """The event loop: one listening socket, any number of sources, one sink."""

    def __init__(self, topology):
        self.topology = topology
        _, in_host, in_port, _ = topology.source
        _, out_host, out_port, _ = topology.sink
        self.out_addr = (out_host, int(out_port))
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((in_host, int(in_port)))
        self.listener.listen(64)
        self.listener.setblocking(False)
        self.sources = {}
        self.sink = None
        self.sink_connecting = False
        self.next_connect = 0.0
        self.pending = bytearray()
        self.stopping = False
        self.records = 0
        log(f"application {topology.name!r}: listening on {in_host}:{in_port}, sink {out_host}:{out_port}")

    def stop(self, signum, _frame):
        log(f"signal {signum}: flushing and stopping")
        self.stopping = True

    def connect_sink(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        err = sock.connect_ex(self.out_addr)
        if err in (0, errno.EINPROGRESS):
            self.sink = sock
            self.sink_connecting = err != 0
            if not self.sink_connecting:
                log(f"sink connected to {self.out_addr[0]}:{self.out_addr[1]}")
        else:
            sock.close()
            self.next_connect = time.monotonic() + SINK_RETRY_S

    def drop_sink(self, why):
        if not self.sink_connecting:
            log(f"sink lost ({why}); dropping {len(self.pending)} unsent bytes, retrying every {SINK_RETRY_S:g} s")
        self.sink.close()
        self.sink = None
        self.sink_connecting = False
        self.pending.clear()
        self.next_connect = time.monotonic() + SINK_RETRY_S

    def close_source(self, source, why):
        log(f"closing input connection {source.peer[0]}:{source.peer[1]}: {why}")
        self.sources.pop(source.sock, None)
        source.sock.close()

    def on_source_readable(self, source):
        try:
            data = source.sock.recv(READ_SIZE)
        except OSError as e:
            self.close_source(source, str(e))
            return
        if not data:
            if source.buffer:
                self.close_source(source, f"end of stream inside a frame ({len(source.buffer)} bytes dropped)")
            else:
                self.sources.pop(source.sock, None)
                source.sock.close()
            return
        source.buffer += data
        payloads, error = split_frames(source.buffer, self.topology.decoder)
        for payload in payloads:
            out = self.topology.process(payload)
            if out:
                self.pending += out
        if error:
            self.close_source(source, error)

    def on_sink_writable(self):
        if self.sink_connecting:
            err = self.sink.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.drop_sink(os.strerror(err))
                return
            self.sink_connecting = False
            log(f"sink connected to {self.out_addr[0]}:{self.out_addr[1]}")
        if self.pending:
            try:
                sent = self.sink.send(self.pending)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                self.drop_sink(str(e))
                return
            del self.pending[:sent]

    def on_sink_readable(self):
        try:
            data = self.sink.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.drop_sink(str(e))
            return
        if not data:
            self.drop_sink("receiver closed the connection")

    def run(self):
        flush_deadline = None
        while True:
            now = time.monotonic()
            if self.stopping and flush_deadline is None:
                flush_deadline = now + FLUSH_TIMEOUT_S
                self.listener.close()
                for sock in list(self.sources):
                    sock.close()
                self.sources.clear()
            if flush_deadline is not None and (not self.pending or now > flush_deadline):
                if self.pending:
                    log(f"exiting with {len(self.pending)} bytes unsent")
                return 0
            if self.sink is None and now >= self.next_connect:
                self.connect_sink()
            readers, writers = [], []
            sink_up = self.sink is not None and not self.sink_connecting
            if not self.stopping:
                readers.append(self.listener)
                if sink_up and len(self.pending) < SINK_HIGH_WATER:
                    readers.extend(self.sources)
            if self.sink is not None:
                if self.sink_connecting or self.pending:
                    writers.append(self.sink)
                if sink_up:
                    readers.append(self.sink)
            try:
                readable, writable, _ = select.select(readers, writers, [], 0.1)
            except InterruptedError:
                continue
            for sock in readable:
                if sock is self.listener:
                    try:
                        conn, peer = self.listener.accept()
                    except (BlockingIOError, InterruptedError):
                        continue
                    conn.setblocking(False)
                    self.sources[conn] = Source(conn, peer)
                elif sock is self.sink:
                    self.on_sink_readable()
                elif sock in self.sources:
                    self.on_source_readable(self.sources[sock])
            if self.sink is not None and self.sink in writable:
                self.on_sink_writable()


def main(argv):
    options = parse_command_line(argv[1:])
    # machida found the module through PYTHONPATH; the tutorial adds "." to it.
    for path in (os.getcwd(), HERE):
        if path not in sys.path:
            sys.path.insert(0, path)
    module = importlib.import_module(options.application_module)
    topology = Topology(module.application_setup(argv))
    machida = Machida(topology)
    signal.signal(signal.SIGTERM, machida.stop)
    signal.signal(signal.SIGINT, machida.stop)
    code = machida.run()
    log("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
