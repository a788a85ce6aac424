"""Shared helpers for the end-to-end tests: real processes, real sockets, real HTTP.

Programs are found in $TREND_BIN, the repository in $TREND_SOURCE, the shared data in
$TREND_SHARED_DATA (tests that need it skip with a clear message when it is absent), and
logs and screenshots go to $TREND_ARTIFACTS.
"""
import http.server
import os
import pathlib
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = pathlib.Path(os.environ.get("TREND_SOURCE", HERE.parent.parent))
BIN = pathlib.Path(os.environ.get("TREND_BIN", SOURCE / "build" / "bin"))
SHARED_DATA = pathlib.Path(os.environ.get("TREND_SHARED_DATA", SOURCE.parent / "shared" / "data"))
ARTIFACTS = pathlib.Path(os.environ.get("TREND_ARTIFACTS", SOURCE / "build" / "test-artifacts"))
COMPAT = SOURCE / "tests" / "compat"
PYTHON = "/usr/bin/python3"


def shared_data(*parts):
    """Path inside ../shared/data, or skip the test when that folder is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test data not found at {path} (expected ../shared/data next to the checkout)")
    return path


def program(name):
    """Path of one of our built programs."""
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is not built: run scripts/build.sh")
    return str(path)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, host="127.0.0.1", timeout=10.0, proc=None):
    """Waits until something accepts connections on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{proc.name} exited with {proc.returncode} before listening on {port}:\n{proc.log_text()}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"nothing listens on {host}:{port} after {timeout} s")


def is_listening(port):
    """True when a socket LISTENs on TCP `port` (read from /proc/net, without connecting: the
    original receiver accepts exactly one connection, which a probe would use up)."""
    want = f"{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[1].rsplit(":", 1)[1] == want and fields[3] == "0A":
                        return True
        except OSError:
            continue
    return False


def wait_listening(port, timeout=10.0, proc=None):
    """Waits until something listens on `port`, without connecting to it."""
    deadline = time.monotonic() + timeout
    while not is_listening(port):
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{proc.name} exited with {proc.returncode} before listening on {port}:\n{proc.log_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing listens on port {port} after {timeout} s")
        time.sleep(0.02)


def wait_until(predicate, timeout=10.0, interval=0.02, message="condition"):
    """Polls predicate() until it returns a truthy value, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


class Proc:
    """A program started for a test, its stdout and stderr in a log file under ARTIFACTS."""

    def __init__(self, name, argv, env=None, stdin=None, cwd=None, nofile=None):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = ARTIFACTS / f"{name}-{os.getpid()}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        def limits():  # runs in the child before exec: e.g. few descriptors, to exhaust them
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.popen = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, env=full_env,
                                      stdin=stdin if stdin is not None else subprocess.DEVNULL, cwd=cwd,
                                      preexec_fn=limits if nofile is not None else None)

    @property
    def returncode(self):
        return self.popen.returncode

    def poll(self):
        return self.popen.poll()

    def log_text(self):
        """Everything the program printed so far (also after stop())."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends sig and waits; kills after timeout. Returns the exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()
        return self.popen.returncode

    def kill(self):
        return self.stop(signal.SIGKILL)


@pytest.fixture
def procs():
    """Starts programs for a test and stops every one of them afterwards."""
    started = []

    def start(name, argv, **kwargs):
        p = Proc(name, argv, **kwargs)
        started.append(p)
        return p

    yield start
    for p in reversed(started):
        p.stop()


def start_engine(procs, out_port, *extra, nofile=None):
    """Starts our engine on a free input port, sending to out_port; returns (proc, in_port).
    `nofile` limits its open descriptors."""
    in_port = free_port()
    engine = procs("engine", [program("engine"), "--in", f"127.0.0.1:{in_port}", "--out", f"127.0.0.1:{out_port}",
                              *extra], nofile=nofile)
    wait_port(in_port, proc=engine)
    return engine, in_port


def python_compat(script):
    """argv prefix to run one of the Python 3 ports in tests/compat."""
    return [PYTHON, str(COMPAT / script)]


def listen_once(port, host="127.0.0.1"):
    """A listening socket on host:port (the caller accepts)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(16)
    return s


class HungServer:
    """A TCP server on 127.0.0.1:port that accepts connections and never reads or answers: a
    hung dashboard (or receiver). close() resets every connection it holds and stops listening."""

    def __init__(self, port=None):
        self.sock = listen_once(port or free_port())
        self.port = self.sock.getsockname()[1]
        self.held = []
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self._closed:
                conn.close()
                return
            self.held.append(conn)

    def accepted(self):
        """How many connections it has accepted so far."""
        return len(self.held)

    def close(self):
        """Stops listening and resets the held connections; a second call does nothing."""
        if self._closed:
            return
        self._closed = True
        self.sock.close()
        self._thread.join(5)
        for conn in self.held:  # a reset leaves no TIME_WAIT: the port can be listened on again
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()


class FakeDashboard:
    """An HTTP/1.1 server on 127.0.0.1 that answers every POST with 201 and keeps each
    connection open for as long as the client wants; `posts` holds the decoded form bodies
    ({'label': ..., 'data': ...}) in arrival order."""

    def __init__(self, port=None):
        posts = self.posts = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                posts.append({k: v[0] for k, v in fields.items()})
                self.send_response(201)
                self.send_header("Content-Length", "7")
                self.end_headers()
                self.wfile.write(b"success")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port or free_port()), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/updateDashboard"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def labels(self):
        """The label field of every POST so far."""
        return [p.get("label") for p in self.posts]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def cpu_seconds(pid):
    """User plus system CPU time a process has used so far, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


if __name__ == "__main__":
    sys.exit("harness.py is a library for the tests")
