"""Starting the whole pipeline for end-to-end tests, each piece ours or its Python original.

    p = Pipeline(procs, dashboard="ours", receiver="python", engine="ours")
    p.start_servers()          # dashboard, receiver, engine, in the original's order
    p.run_client(...)          # then a client
    p.top()                    # what GET /refreshDashboard shows: (hashtags, counts)
"""
import json
import subprocess
import urllib.request

from harness import PYTHON, COMPAT, free_port, program, python_compat, wait_listening, wait_until

MACHIDA_FLAGS = ["--metrics", "127.0.0.1:5001", "--control", "127.0.0.1:6000", "--data", "127.0.0.1:6001",
                 "--worker-name", "worker1", "--ponythreads=1", "--external", "127.0.0.1:5050",
                 "--cluster-initializer", "--ponythreads=1", "--ponynoblock"]


def http_json(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as reply:
        return json.loads(reply.read())


class Pipeline:
    """Four pieces on free ports; each is 'ours' or 'python' (the Python 3 port of the original)."""

    def __init__(self, procs, dashboard="ours", receiver="ours", engine="ours", engine_args=()):
        self.procs = procs
        self.kinds = {"dashboard": dashboard, "receiver": receiver, "engine": engine}
        self.dashboard_port = free_port()
        self.receiver_port = free_port()
        self.engine_port = free_port()
        self.engine_args = list(engine_args)
        self.running = {}

    @property
    def dashboard_url(self):
        return f"http://127.0.0.1:{self.dashboard_port}"

    def argv(self, piece):
        kind = self.kinds[piece]
        if piece == "dashboard":
            if kind == "ours":
                return [program("dashboard_server"), "--host", "127.0.0.1", "--port", str(self.dashboard_port)]
            return python_compat("app.py") + [str(self.dashboard_port)]
        if piece == "receiver":
            update = f"{self.dashboard_url}/updateDashboard"
            if kind == "ours":
                return [program("socket_receiver"), "--listen", f"127.0.0.1:{self.receiver_port}",
                        "--dashboard", update, "--stats-interval", "1"]
            return python_compat("socket_receiver.py") + [str(self.receiver_port), update]
        if piece == "engine":
            addresses = ["--in", f"127.0.0.1:{self.engine_port}", "--out", f"127.0.0.1:{self.receiver_port}"]
            if kind == "ours":
                return [program("engine")] + addresses + ["--stats-interval", "1"] + self.engine_args
            # The original application under the minimal machida stand-in, with the tutorial's command line.
            return python_compat("machida.py") + ["--application-module", "twitter_wallaroo_app"] + addresses + MACHIDA_FLAGS
        raise ValueError(piece)

    def port(self, piece):
        return {"dashboard": self.dashboard_port, "receiver": self.receiver_port, "engine": self.engine_port}[piece]

    def start(self, piece):
        """Starts one piece and waits until it listens."""
        proc = self.procs(f"{piece}-{self.kinds[piece]}", self.argv(piece), cwd=str(COMPAT))
        wait_listening(self.port(piece), proc=proc, timeout=20)
        self.running[piece] = proc
        return proc

    def start_servers(self):
        for piece in ("dashboard", "receiver", "engine"):
            self.start(piece)
        return self

    def restart(self, piece, kill=True):
        """Kills (or stops) one piece and starts it again on the same port."""
        old = self.running[piece]
        old.kill() if kill else old.stop()
        return self.start(piece)

    def client(self, kind, tweets_file, extra=()):
        """Starts a client replaying a JSONL file into the engine: ours or the original's framing + nc."""
        engine = f"127.0.0.1:{self.engine_port}"
        if kind == "ours":
            argv = [program("twitter_client"), "--source", "replay", "--file", str(tweets_file), "--engine", engine,
                    "--queue-full", "wait", "--stats-interval", "1"] + list(extra)
        else:
            framing = " ".join(python_compat("twitter_client_framing.py"))
            argv = ["sh", "-c", f"{framing} '{tweets_file}' | nc -q1 127.0.0.1 {self.engine_port}"]
        return self.procs(f"client-{kind}", argv)

    def top(self):
        """(hashtags, counts) as GET /refreshDashboard shows them, or None while it does not answer."""
        try:
            data = http_json(f"{self.dashboard_url}/refreshDashboard")
        except OSError:
            return None
        return data["r_hashtags"], data["r_counts"]

    def wait_for_top(self, expected, timeout):
        """Waits until the dashboard shows `expected` (hashtags, counts); fails with both on a timeout."""
        try:
            return wait_until(lambda: self.top() == expected, timeout=timeout, interval=0.1,
                              message=f"the dashboard to show {expected}")
        except AssertionError:
            raise AssertionError(f"dashboard shows {self.top()}\nexpected         {expected}\n"
                                 + "\n".join(f"--- {n}:\n{p.log_text()[-1500:]}" for n, p in self.running.items()))

    def assert_running(self, *pieces):
        for piece in pieces or self.running:
            proc = self.running[piece]
            assert proc.poll() is None, f"{piece} exited ({proc.returncode}):\n{proc.log_text()[-2000:]}"


def expected_top(tweets_file, lines=False):
    """The last record the Python 3 port of the original application emits for these tweets, as
    (hashtags, counts): what the dashboard must show when the stream has gone through."""
    mode = "--lines" if lines else "--jsonl"
    out = subprocess.run(python_compat("reference.py") + ["--model", "fast", mode, str(tweets_file)],
                         check=True, capture_output=True).stdout
    records = out.split(b";;\n")
    last = [r for r in records if r.strip()][-1]
    return top_of_record(last.decode("utf-8"))


def top_of_record(text):
    """(hashtags, counts) of one record's text, read the way the Flask app reads the form."""
    import ast
    record = ast.literal_eval(text)
    return ast.literal_eval(record["label"]), ast.literal_eval(record["data"])


__all__ = ["Pipeline", "expected_top", "top_of_record", "PYTHON"]
