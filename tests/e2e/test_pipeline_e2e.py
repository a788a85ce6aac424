"""The whole pipeline end to end: real processes, real sockets, real HTTP.

* all four of ours on every real tweet: the dashboard ends on the top 10 the Python 3 port of
  the original computes;
* the swap matrix: each piece replaced by its Python original, and all four Python;
* netcat alone feeding the engine, in both input formats;
* healing: receiver, dashboard and engine each killed and restarted while the client streams.
"""
import os
import shutil
import signal
import socket
import subprocess

import pytest

from harness import SOURCE, free_port, listen_once, program, python_compat, shared_data, wait_until
from pipeline import Pipeline, expected_top

# A file of real tweets small enough for the all-Python pipeline (pandas does ~1,600 hashtags/s,
# the original receiver one synchronous POST per record): 1,109 v2 tweets.
SWAP_FILE = ("tweets", "twarc-csv.v2.jsonl")


@pytest.fixture(scope="module")
def all_tweets(tmp_path_factory):
    """Every real tweet of ../shared/data/tweets in one JSONL file (outside the repository)."""
    folder = shared_data("tweets")
    path = tmp_path_factory.mktemp("tweets") / "all.jsonl"
    with open(path, "wb") as out:
        for f in sorted(folder.glob("*.jsonl")):
            data = f.read_bytes()
            out.write(data if data.endswith(b"\n") else data + b"\n")
    return path


def test_all_four_of_ours_end_on_the_originals_top_10_over_every_real_tweet(procs, all_tweets):
    expected = expected_top(all_tweets)  # the port's fast model, checked against pandas in test_engine_compat
    p = Pipeline(procs).start_servers()
    client = p.client("ours", all_tweets)
    assert client.popen.wait(timeout=120) == 0, client.log_text()
    p.wait_for_top(expected, timeout=30)
    p.assert_running()


SWAPS = {
    "python client framing": dict(client="python"),
    "python engine (machida stand-in)": dict(engine="python"),
    "python receiver": dict(receiver="python"),
    "python dashboard (Flask)": dict(dashboard="python"),
    "all four python": dict(client="python", engine="python", receiver="python", dashboard="python"),
}


@pytest.mark.parametrize("swap", list(SWAPS))
def test_each_piece_swaps_with_its_python_original(procs, swap):
    tweets = shared_data(*SWAP_FILE)
    expected = expected_top(tweets)
    kinds = dict(SWAPS[swap])
    client_kind = kinds.pop("client", "ours")
    p = Pipeline(procs, **kinds).start_servers()
    client = p.client(client_kind, tweets)
    assert client.popen.wait(timeout=120) == 0, client.log_text()
    # The original receiver posts every record, one at a time: give the all-Python run time.
    p.wait_for_top(expected, timeout=180)
    p.assert_running("dashboard", "engine")


def nc_send(port, data):
    """Sends bytes with Debian's netcat-openbsd, as a person would."""
    if not shutil.which("nc"):
        pytest.skip("nc (netcat-openbsd) is not installed")
    subprocess.run(["nc", "-q1", "127.0.0.1", str(port)], input=data, check=True, timeout=20)


def test_netcat_alone_feeds_the_pipeline_in_framed_format(procs):
    p = Pipeline(procs).start_servers()
    nc_send(p.engine_port, b"00016Hello #everyone\n")           # the README's example
    text = "#world #cpp #cpp #café\n".encode()
    nc_send(p.engine_port, b"%05d" % len(text) + text)
    p.wait_for_top((["#cpp", "#everyone", "#world", "#café"], [2, 1, 1, 1]), timeout=15)


def test_netcat_alone_feeds_the_pipeline_in_lines_format(procs, tmp_path):
    typed = "typing #tweets #by #hand\nmore #tweets\n#hand #tweets\n"
    (tmp_path / "typed.txt").write_text(typed)
    expected = expected_top(tmp_path / "typed.txt", lines=True)
    assert expected == (["#tweets", "#hand", "#by"], [3, 2, 1])
    p = Pipeline(procs, engine_args=["--input-format", "lines"]).start_servers()
    nc_send(p.engine_port, typed.encode())
    p.wait_for_top(expected, timeout=15)


def test_the_pipeline_heals_when_receiver_dashboard_and_engine_restart(procs):
    p = Pipeline(procs).start_servers()
    client = procs("client-synthetic", [program("twitter_client"), "--source", "synthetic", "--rate", "2000",
                                        "--engine", f"127.0.0.1:{p.engine_port}", "--stats-interval", "1"])

    def changes_after(before, what):
        """Waits until the dashboard shows something other than `before` (it moves with the stream)."""
        return wait_until(lambda: (t := p.top()) is not None and t != before and len(t[0]) == 10 and t,
                          timeout=20, interval=0.1, message=f"the dashboard to update after {what}")

    first = changes_after(None, "start")
    client_pid = client.popen.pid

    # 1. receiver: the engine reconnects to the new one, which delivers the newest top 10.
    p.restart("receiver")
    after_receiver = changes_after(first, "the receiver restart")
    assert "lost receiver" in p.running["engine"].log_text()

    # 2. dashboard: a new one starts empty; the receiver delivers the newest top 10 to it.
    p.restart("dashboard")
    changes_after(([], []), "the dashboard restart")

    # 3. engine: the client reconnects to the new engine; counts start again from zero, which is
    #    what an engine restart loses today (the state lives in memory only).
    before_engine = p.top()
    p.restart("engine")
    restarted = changes_after(before_engine, "the engine restart")
    wait_until(lambda: (t := p.top()) and t[1][0] < before_engine[1][0], timeout=20, interval=0.1,
               message="the dashboard to show the new engine's counts")
    assert client.popen.pid == client_pid and client.poll() is None, "the client must not be restarted"
    p.assert_running()
    assert max(after_receiver[1]) > 0 and restarted


class run_script:
    """scripts/run.sh replaying `tweets` under `env`, as a context: inside it, `view` is a Pipeline
    reading its dashboard; on leaving, Ctrl-C, and `out` holds what run.sh printed."""

    def __init__(self, procs, env, tweets, timeout):
        self.procs, self.env, self.tweets, self.timeout = procs, env, tweets, timeout

    def __enter__(self):
        self.run = subprocess.Popen([str(SOURCE / "scripts" / "run.sh"), "--no-build", "--", "--source", "replay",
                                     "--file", str(self.tweets)], env=self.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)
        self.view = Pipeline(self.procs)
        self.view.dashboard_port = int(self.env["DASHBOARD_PORT"])
        return self

    def __exit__(self, *exc):
        self.run.send_signal(signal.SIGINT)
        self.out = self.run.communicate(timeout=self.timeout)[0].decode()
        self.returncode = self.run.returncode
        return False


@pytest.mark.parametrize("swapped", ["none", "python receiver and dashboard", "engine args", "dashboard args and token"])
def test_run_script_runs_the_pipeline_and_stops_it_on_ctrl_c(procs, tmp_path, swapped):
    tweets = shared_data(*SWAP_FILE)
    expected = expected_top(tweets)
    ports = {"DASHBOARD_PORT": free_port(), "RECEIVER_PORT": free_port(), "ENGINE_PORT": free_port()}
    env = dict(os.environ, LOG_DIR=str(tmp_path / "logs"), BUILD_DIR=str(program("engine")).rsplit("/bin/", 1)[0],
               **{k: str(v) for k, v in ports.items()})
    if swapped == "engine args":  # ENGINE_ARGS reach the engine: all-time, a record only on change
        env["ENGINE_ARGS"] = "--emit on-change"
    elif swapped == "dashboard args and token":  # DASHBOARD_ARGS, quoted; the token reaches both ends
        env["DASHBOARD_ARGS"] = "--subtitle 'all time, <i>counts</i>' --history \"5m\""
        env["DASHBOARD_TOKEN"] = "run-sh-token-0123456789"
    elif swapped != "none":  # as README shows: the originals through *_CMD
        update = f"http://127.0.0.1:{ports['DASHBOARD_PORT']}/updateDashboard"
        env["DASHBOARD_CMD"] = " ".join(python_compat("app.py") + [str(ports["DASHBOARD_PORT"])])
        env["RECEIVER_CMD"] = " ".join(python_compat("socket_receiver.py") + [str(ports["RECEIVER_PORT"]), update])
    with run_script(procs, env, tweets, timeout=60) as run:
        run.view.wait_for_top(expected, timeout=60)
        if swapped == "dashboard args and token":
            import requests
            config = requests.get(f"http://127.0.0.1:{ports['DASHBOARD_PORT']}/config", timeout=5).json()
            assert config["subtitle"] == "all time, <i>counts</i>" and config["history_ms"] == 300000
            assert requests.post(f"http://127.0.0.1:{ports['DASHBOARD_PORT']}/updateDashboard",
                                 data={"label": "['#forged']", "data": "[1]"}, timeout=5).status_code == 401
    out = run.out
    assert run.returncode == 0, out
    assert f"http://127.0.0.1:{ports['DASHBOARD_PORT']}/" in out
    for name in ("dashboard", "receiver", "engine", "client"):
        assert (tmp_path / "logs" / f"{name}.log").stat().st_size > 0
    # Every program is gone, and each said it stopped.
    engine_log = (tmp_path / "logs" / "engine.log").read_text()
    assert "stopped" in engine_log
    if swapped == "engine args":
        assert "a record when the top 10 changes" in engine_log
    if swapped == "dashboard args and token":
        for name in ("dashboard", "receiver"):
            assert env["DASHBOARD_TOKEN"] not in (tmp_path / "logs" / f"{name}.log").read_text()
        assert "updates need the token" in (tmp_path / "logs" / "dashboard.log").read_text()
        assert "sending the dashboard's update token" in (tmp_path / "logs" / "receiver.log").read_text()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", ports["DASHBOARD_PORT"]), timeout=1)


def test_run_script_with_kafka_mock_runs_two_engines_in_a_group(procs, tmp_path):
    """KAFKA=mock ENGINES=2: a local test cluster, the client producing to it, two engines sharing
    the counting and one writing the records; the page ends on the exact top 10. One tweets
    partition (KAFKA_PARTITIONS=2), so "first seen over the log" is the file's order."""
    tweets = shared_data(*SWAP_FILE)
    expected = expected_top(tweets)
    ports = {"DASHBOARD_PORT": free_port(), "RECEIVER_PORT": free_port(), "ENGINE_PORT": free_port()}
    settings = tmp_path / "kafka settings" / "client.properties"  # a path with a space
    settings.parent.mkdir()
    settings.write_text("# for both programs\ncompression.type=lz4\nsasl.password=not-used-on-plaintext\n")
    settings.chmod(0o600)
    env = dict(os.environ, LOG_DIR=str(tmp_path / "logs"), BUILD_DIR=str(program("engine")).rsplit("/bin/", 1)[0],
               KAFKA="mock", ENGINES="2", KAFKA_PARTITIONS="2", METRICS="0", KAFKA_CONFIG=str(settings),
               **{k: str(v) for k, v in ports.items()})
    with run_script(procs, env, tweets, timeout=90) as run:
        run.view.wait_for_top(expected, timeout=90)
    out = run.out
    assert run.returncode == 0, out
    assert "mock Kafka cluster at" in out
    logs = {name: (tmp_path / "logs" / f"{name}.log").read_text() for name in ("kafka", "engine1", "engine2", "client")}
    assert "--kafka" in out and "lost=0" in logs["client"]
    assert out.count(f"--kafka-config {settings}") == 3  # both engines and the client were given the file
    assert all("not-used-on-plaintext" not in text for text in logs.values())
    assert all("kafka: assigned" in logs[e] and "stopped" in logs[e] for e in ("engine1", "engine2"))
    assert sum(", writer" in logs[e] for e in ("engine1", "engine2")) >= 1
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", ports["DASHBOARD_PORT"]), timeout=1)


def test_run_script_refuses_dashboard_args_it_cannot_split(tmp_path):
    env = dict(os.environ, DASHBOARD_ARGS="--subtitle 'not closed", DASHBOARD_PORT=str(free_port()),
               RECEIVER_PORT=str(free_port()), ENGINE_PORT=str(free_port()), LOG_DIR=str(tmp_path / "logs"))
    done = subprocess.run([str(SOURCE / "scripts" / "run.sh"), "--no-build"], env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2
    assert "DASHBOARD_ARGS cannot be split into words" in done.stderr


def test_run_script_refuses_a_taken_port(tmp_path):
    port = free_port()
    holder = listen_once(port)
    try:
        env = dict(os.environ, ENGINE_PORT=str(port), DASHBOARD_PORT=str(free_port()), RECEIVER_PORT=str(free_port()),
                   LOG_DIR=str(tmp_path / "logs"))
        done = subprocess.run([str(SOURCE / "scripts" / "run.sh"), "--no-build"], env=env, capture_output=True,
                              text=True, timeout=30)
    finally:
        holder.close()
    assert done.returncode == 1
    assert f"port 127.0.0.1:{port} (for the engine) is already in use" in done.stderr
