"""Shared helpers for the end-to-end tests: real processes, real sockets, real HTTP.

Programs are found in $TREND_BIN, the repository in $TREND_SOURCE, the shared data in
$TREND_SHARED_DATA (tests that need it skip with a clear message when it is absent), and
logs and screenshots go to $TREND_ARTIFACTS.
"""
import os
import pathlib
import resource
import signal
import socket
import subprocess
import sys
import time

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


if __name__ == "__main__":
    sys.exit("harness.py is a library for the tests")
