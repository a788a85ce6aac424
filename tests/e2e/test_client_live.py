"""twitter_client's live sources and TLS against local fakes (no internet here).

Bluesky: tests/e2e/fake_jetstream.py over WSS cuts the stream every few dozen events, replays from
the cursor the client sends (duplicates included) and mixes deletes, likes, identity and account
events: every post must be forwarded once, in order. Mastodon: tests/e2e/fake_mastodon.py over
HTTPS streams chunked Server-Sent Events with heartbeats, events cut across chunks, boosts,
deletes and HTML statuses: the forwarded texts must be the statuses' texts. Twitter: the fake
Twitter over HTTPS. Every TLS server uses a certificate of a throw-away CA (tests/e2e/tls.py) that
the client trusts only through --ca-file. Hostile servers: invalid JSON, a 100 MB message, a
WebSocket frame claiming 2**63 bytes, HTML nested 100,000 deep, a server that never answers:
memory stays bounded (VmHWM from /proc), the client stays alive and reconnects.
"""
import json
import os
import re
import signal
import subprocess
import time

import pytest

import fake_jetstream
import fake_mastodon
import tls
from fake_twitter import EngineSink, lines_of, parse_frames
from harness import ARTIFACTS, HERE, PYTHON, SOURCE, HungServer, free_port, program, shared_data, wait_port, wait_until
from pipeline import Pipeline

NO_CREDS = {k: "" for k in ("TWITTER_BEARER_TOKEN", "TWITTER_CONSUMER_KEY", "TWITTER_CONSUMER_SECRET",
                            "TWITTER_ACCESS_TOKEN", "TWITTER_ACCESS_SECRET", "MASTODON_TOKEN")}
TOKEN = "mastodon-S3cret-token"


@pytest.fixture(scope="module")
def ca():
    return tls.make_ca(ARTIFACTS / f"tls-{os.getpid()}")


def events(fake):
    return [json.loads(line) for line in fake.log_text().splitlines() if line.startswith("{")]


def texts(sink):
    frames, left = parse_frames(sink.data())
    assert left == b""
    return [f[:-1].decode() for f in frames]


def start_fake(procs, script, ca, *extra, kind="jetstream"):
    port = free_port()
    argv = [PYTHON, str(HERE / f"fake_{kind}.py"), "--port", str(port), "--script", script, *extra]
    if ca is not None:
        argv += ["--tls", str(ca["server"]), str(ca["server_key"])]
    fake = procs(f"fake_{kind}", argv)
    wait_port(port, proc=fake)
    return fake, port


def client(procs, sink, *args, env=None):
    argv = [program("twitter_client"), "--engine", f"127.0.0.1:{sink.port}", "--stats-interval", "1",
            "--backoff-scale", "0.01", *args]
    return procs("twitter_client", argv, env={**NO_CREDS, **(env or {})})


def peak_rss_kib(proc, peak=0):
    """The highest VmHWM of a running process so far (KiB), at least `peak`."""
    try:
        with open(f"/proc/{proc.popen.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return max(peak, int(line.split()[1]))
    except OSError:
        pass
    return peak


def wait_texts(sink, want, proc, timeout=60, peak=None):
    """Waits until the sink holds `want` (or more); tracks the client's peak RSS in peak[0]."""
    def enough():
        if peak is not None:
            peak[0] = peak_rss_kib(proc, peak[0])
        return len(texts(sink)) >= len(want) or proc.poll() is not None
    wait_until(enough, timeout=timeout, message=f"{len(want)} posts")
    return texts(sink)


def reconnect_reasons(log, source):
    return re.findall(rf"{source}: (.*) after \d+ posts; reconnecting in \d+ ms \(([a-z-]+) back-off", log)


# ---------------------------------------------------------------- Bluesky


def test_bluesky_over_wss_forwards_every_post_once_in_order_across_cuts_and_replays(procs, ca):
    timeline = fake_jetstream.timeline(300)
    want = fake_jetstream.posts(timeline)
    fake, port = start_fake(procs, "cut:40;close:50;cut:60;close:70", ca, "--events", "300")
    sink = EngineSink()
    c = client(procs, sink, "--source", "bluesky", "--jetstream-url", f"wss://127.0.0.1:{port}/subscribe",
               "--ca-file", str(ca["ca"]), "--stall-timeout", "30")
    got = wait_texts(sink, want, c)
    # Pings of the idle connection are answered (the fake drops a client that does not answer).
    wait_until(lambda: len([e for e in events(fake) if e["event"] == "pong"]) >= 3, timeout=20, message="pongs")
    assert c.stop(signal.SIGINT) == 0, c.log_text()
    log = c.log_text()
    assert got == want, log
    connects = [e for e in events(fake) if e["event"] == "connect"]
    assert [e["step"] for e in connects] == ["cut:40", "close:50", "cut:60", "close:70", "rest"], connects
    assert all(e["wanted"] == ["app.bsky.feed.post"] for e in connects)
    assert connects[0]["cursor"] is None
    times = {e["time_us"] for e in timeline}
    for before, after in zip(connects, connects[1:]):
        # The cursor is the time_us of an event handled, 3 s back, and never goes back in time.
        assert after["cursor"] + 3_000_000 in times, after
        assert before["cursor"] is None or after["cursor"] >= before["cursor"]
    # The replays brought duplicates, which were not forwarded again; everything else was counted.
    done = re.search(r"done: stats: .* ignored=(\d+) duplicates=(\d+) other_lang=(\d+) lost=0$", log, re.M)
    assert done, log
    assert int(done.group(2)) > 0 and int(done.group(3)) == 0
    assert int(done.group(1)) >= len(timeline) - len(want)
    assert reconnect_reasons(log, "bluesky")[1] == ("the server closed the WebSocket (code 1001 going away)", "network")


def test_bluesky_lang_forwards_only_posts_in_those_languages(procs, ca):
    want = fake_jetstream.posts(fake_jetstream.timeline(100), langs=["pt", "ja"])
    fake, port = start_fake(procs, "cut:30", ca, "--events", "100")
    sink = EngineSink()
    c = client(procs, sink, "--source", "bluesky", "--jetstream-url", f"wss://127.0.0.1:{port}/subscribe",
               "--ca-file", str(ca["ca"]), "--lang", "pt", "--lang", "ja")
    got = wait_texts(sink, want, c)
    time.sleep(0.5)
    assert c.stop() == 0
    assert got == want and len(want) > 0
    assert re.search(r"other_lang=[1-9]", c.log_text())


def test_bluesky_refuses_a_certificate_its_ca_file_does_not_vouch_for(procs, ca):
    fake, port = start_fake(procs, "", ca, "--events", "10")
    sink = EngineSink()
    c = client(procs, sink, "--source", "bluesky", "--jetstream-url", f"wss://127.0.0.1:{port}/subscribe",
               "--ca-file", str(ca["other-ca"]))
    wait_until(lambda: len(reconnect_reasons(c.log_text(), "bluesky")) >= 2, timeout=30, message="two refusals")
    assert c.stop() == 0
    assert texts(sink) == []
    why, cls = reconnect_reasons(c.log_text(), "bluesky")[0]
    assert "TLS handshake with 127.0.0.1 failed" in why and "certificate verify failed" in why, why
    assert cls == "network"


def test_bluesky_hostile_servers_keep_memory_bounded_and_the_client_reconnecting(procs, ca):
    timeline = fake_jetstream.timeline(100)
    want = fake_jetstream.posts(timeline)
    fake, port = start_fake(procs, "huge:100000000;frame63;frame64;invalid:8;stall:12", ca, "--events", "100")
    sink = EngineSink()
    c = client(procs, sink, "--source", "bluesky", "--jetstream-url", f"wss://127.0.0.1:{port}/subscribe",
               "--ca-file", str(ca["ca"]), "--stall-timeout", "1")
    peak = [0]
    got = wait_texts(sink, want, c, peak=peak)
    assert c.poll() is None, c.log_text()  # alive
    assert c.stop() == 0
    log = c.log_text()
    assert got == want, log
    # Beast fails the connection on the frame header of each oversized message (the error seen
    # last may be the TLS close that follows); every ending is a network-class reconnect.
    ended = reconnect_reasons(log, "bluesky")
    assert len(ended) == 5 and {cls for _, cls in ended} == {"network"}, ended
    assert "stalled" in ended[4][0], ended
    assert re.search(r"done: stats: .* skipped=([89]|\d\d+) ", log), log  # the invalid messages
    assert [e for e in events(fake) if e["event"] == "huge_sent"]
    assert peak[0] < 48 * 1024, f"peak RSS {peak[0]} KiB"  # 100 MB offered, never held

    # A server that accepts connections and never answers: the connect timeout, then a reconnect.
    hung = HungServer()
    sink = EngineSink()
    c = client(procs, sink, "--source", "bluesky", "--jetstream-url", f"wss://127.0.0.1:{hung.port}/subscribe",
               "--ca-file", str(ca["ca"]), "--stall-timeout", "1")
    wait_until(lambda: hung.accepted() >= 3, timeout=30, message="three attempts")
    assert c.poll() is None
    assert c.stop() == 0
    hung.close()
    assert "no answer to connect, TLS and WebSocket handshakes within 1000 ms" in c.log_text(), c.log_text()


# ---------------------------------------------------------------- Mastodon


def test_mastodon_over_https_forwards_the_statuses_texts(procs, ca):
    fake, port = start_fake(procs, "cut:3;all", ca, "--token", TOKEN, kind="mastodon")
    sink = EngineSink()
    # Mastodon replays nothing: the cut connection's two statuses come again on the next one.
    want = fake_mastodon.texts()[:2] + fake_mastodon.texts()
    c = client(procs, sink, "--source", "mastodon", "--instance", f"https://127.0.0.1:{port}", "--ca-file",
               str(ca["ca"]), env={"MASTODON_TOKEN": TOKEN})
    got = wait_texts(sink, want, c)
    time.sleep(1)  # heartbeats only from here
    assert c.stop(signal.SIGINT) == 0, c.log_text()
    log = c.log_text()
    assert got == want, log
    connects = [e for e in events(fake) if e["event"] == "connect"]
    assert len(connects) == 2 and all(e["authorized"] and e["accept"] == "text/event-stream" for e in connects)
    assert all(e["path"] == "/api/v1/streaming/public" for e in connects)
    assert reconnect_reasons(log, "mastodon")[0][1] == "network"
    # The boost of the cut connection; the boost, delete, status.update and notification of the next.
    assert re.search(r"done: stats: .* ignored=5 duplicates=0 other_lang=0 lost=0$", log, re.M), log
    assert TOKEN not in log


def test_mastodon_streams_chosen_by_stream_and_lang(procs, ca):
    fake, port = start_fake(procs, "all", ca, kind="mastodon")
    sink = EngineSink()
    want = fake_mastodon.texts(langs=["fr", "ja"])
    c = client(procs, sink, "--source", "mastodon", "--instance", f"https://127.0.0.1:{port}/", "--ca-file",
               str(ca["ca"]), "--stream", "hashtag:café", "--lang", "fr", "--lang", "ja")
    got = wait_texts(sink, want, c)
    time.sleep(0.5)
    assert c.stop() == 0
    assert got == want
    connect = [e for e in events(fake) if e["event"] == "connect"][0]
    assert connect["path"] == "/api/v1/streaming/hashtag" and connect["tag"] == "café"
    assert "no MASTODON_TOKEN" in c.log_text()


def test_mastodon_401_says_how_to_get_a_token(procs, ca):
    fake, port = start_fake(procs, "all", ca, "--token", TOKEN, kind="mastodon")
    c = client(procs, EngineSink(), "--source", "mastodon", "--instance", f"https://127.0.0.1:{port}", "--ca-file",
               str(ca["ca"]), env={"MASTODON_TOKEN": "wrong-token"})
    c.popen.wait(30)
    log = c.log_text()
    assert c.returncode == 1, log
    assert "this instance streams only to registered users" in log and "MASTODON_TOKEN" in log, log
    assert f"https://127.0.0.1:{port}/settings/applications" in log
    assert "wrong-token" not in log


def test_mastodon_token_from_a_credentials_file(procs, ca, tmp_path):
    fake, port = start_fake(procs, "all", ca, "--token", TOKEN, kind="mastodon")
    path = tmp_path / "creds.env"
    path.write_text(f"MASTODON_TOKEN={TOKEN}\n")
    os.chmod(path, 0o600)
    sink = EngineSink()
    c = client(procs, sink, "--source", "mastodon", "--instance", f"https://127.0.0.1:{port}", "--ca-file",
               str(ca["ca"]), "--credentials", str(path))
    got = wait_texts(sink, fake_mastodon.texts(), c)
    assert c.stop() == 0
    assert got == fake_mastodon.texts()
    assert TOKEN not in c.log_text()


def test_mastodon_hostile_servers_keep_memory_bounded_and_the_client_reconnecting(procs, ca):
    fake, port = start_fake(procs, "stall;hostile", ca, kind="mastodon")
    sink = EngineSink()
    want = ["#deep"] + fake_mastodon.texts()
    c = client(procs, sink, "--source", "mastodon", "--instance", f"https://127.0.0.1:{port}", "--ca-file",
               str(ca["ca"]), "--stall-timeout", "1")
    peak = [0]
    got = wait_texts(sink, want, c, timeout=90, peak=peak)
    assert c.poll() is None, c.log_text()
    time.sleep(0.5)
    peak[0] = peak_rss_kib(c, peak[0])
    assert c.stop() == 0
    log = c.log_text()
    assert got == want, log
    assert "stalled" in reconnect_reasons(log, "mastodon")[0][0]
    assert "skipped an event larger than 1 MiB" in log
    assert re.search(r"done: stats: .* skipped=2 ", log), log  # invalid JSON, the 100 MB event
    assert [e for e in events(fake) if e["event"] == "hostile_sent"][0]["bytes"] >= 100_000_000
    assert peak[0] < 48 * 1024, f"peak RSS {peak[0]} KiB"

    hung = HungServer()
    c = client(procs, EngineSink(), "--source", "mastodon", "--instance", f"https://127.0.0.1:{hung.port}",
               "--ca-file", str(ca["ca"]), "--stall-timeout", "1")
    wait_until(lambda: hung.accepted() >= 3, timeout=30, message="three attempts")
    assert c.poll() is None
    assert c.stop() == 0
    hung.close()
    assert "(stalled)" in c.log_text()


def test_mastodon_refuses_a_certificate_its_ca_file_does_not_vouch_for(procs, ca):
    fake, port = start_fake(procs, "all", ca, kind="mastodon")
    c = client(procs, EngineSink(), "--source", "mastodon", "--instance", f"https://127.0.0.1:{port}",
               "--ca-file", str(ca["other-ca"]))
    wait_until(lambda: len(reconnect_reasons(c.log_text(), "mastodon")) >= 2, timeout=30, message="two refusals")
    assert c.stop() == 0
    assert "SSL peer certificate or SSH remote key was not OK" in reconnect_reasons(c.log_text(), "mastodon")[0][0]


# ---------------------------------------------------------------- Twitter over TLS

V1_FILE = "python-twitter_streaming_lines.json"
V2_FILE = "twarc-csv_streaming_output_with_error.jsonl"
SECRETS = {"FAKE_CONSUMER_KEY": "ck-abc123", "FAKE_CONSUMER_SECRET": "cs-S3cr3t+/=", "FAKE_TOKEN": "12-tok",
           "FAKE_TOKEN_SECRET": "ts-!*'()", "FAKE_BEARER": "AAAA%2Fbearer=="}


def start_fake_twitter(procs, script, ca):
    raw = shared_data("tweets", "raw")
    port = free_port()
    fake = procs("fake_twitter", [PYTHON, str(HERE / "fake_twitter.py"), "--port", str(port), "--script", script,
                                  "--raw-dir", str(raw), "--tls", str(ca["server"]), str(ca["server_key"])],
                 env=SECRETS)
    wait_port(port, proc=fake)
    return fake, f"https://127.0.0.1:{port}", raw


def expected_frames(raw, name):
    import twitter_client_framing as port  # tests/compat, on the path through test_client_stream's import
    return port.frame_lines([l.rstrip(b"\n").rstrip(b"\r") for l in lines_of((raw / name).read_bytes())])


@pytest.fixture
def compat_path():
    import sys
    from harness import COMPAT
    sys.path.insert(0, str(COMPAT))
    yield
    sys.path.remove(str(COMPAT))


def test_twitter_v2_and_v1_over_https_with_the_rules_and_oauth(procs, ca, compat_path):
    fake, url, raw = start_fake_twitter(procs, f"ok:{V2_FILE}", ca)
    sink = EngineSink()
    want = expected_frames(raw, V2_FILE)
    c = client(procs, sink, "--source", "twitter", "--api-url", url, "--ca-file", str(ca["ca"]), "--rule", "#cpp",
               env={"TWITTER_BEARER_TOKEN": SECRETS["FAKE_BEARER"]})
    wait_until(lambda: len(sink.data()) >= len(want), timeout=30, message="the v2 tweets over HTTPS")
    assert c.stop() == 0
    assert sink.data() == want
    kinds = [e["event"] for e in events(fake) if e["event"].startswith("rules")]
    assert kinds == ["rules_list", "rules_add"]

    fake, url, raw = start_fake_twitter(procs, f"ok:{V1_FILE}", ca)
    sink = EngineSink()
    want = expected_frames(raw, V1_FILE)
    env = {"TWITTER_CONSUMER_KEY": SECRETS["FAKE_CONSUMER_KEY"], "TWITTER_CONSUMER_SECRET": SECRETS["FAKE_CONSUMER_SECRET"],
           "TWITTER_ACCESS_TOKEN": SECRETS["FAKE_TOKEN"], "TWITTER_ACCESS_SECRET": SECRETS["FAKE_TOKEN_SECRET"]}
    c = client(procs, sink, "--source", "twitter-v1", "--api-url", url, "--ca-file", str(ca["ca"]), env=env)
    wait_until(lambda: len(sink.data()) >= len(want), timeout=30, message="the v1.1 tweets over HTTPS")
    assert c.stop() == 0
    assert sink.data() == want
    assert [e["event"] for e in events(fake) if e["event"].startswith("auth")] == ["auth_ok"]  # https:// base URL signed


def test_twitter_refuses_a_certificate_its_ca_file_does_not_vouch_for(procs, ca):
    fake, url, _ = start_fake_twitter(procs, f"ok:{V2_FILE}", ca)
    sink = EngineSink()
    c = client(procs, sink, "--source", "twitter", "--api-url", url, "--ca-file", str(ca["other-ca"]),
               env={"TWITTER_BEARER_TOKEN": SECRETS["FAKE_BEARER"]})
    wait_until(lambda: "reconnecting in" in c.log_text(), timeout=30, message="a refused connection")
    assert c.stop() == 0
    assert sink.data() == b""
    assert "SSL peer certificate or SSH remote key was not OK" in c.log_text()
    assert not [e for e in events(fake) if e["event"] == "connect"]


# ---------------------------------------------------------------- scripts/run.sh -- --source bluesky


def test_run_script_shows_what_is_trending_on_bluesky(procs, ca, tmp_path):
    fake, port = start_fake(procs, "", ca, "--events", "300")
    ports = {"DASHBOARD_PORT": free_port(), "RECEIVER_PORT": free_port(), "ENGINE_PORT": free_port()}
    env = dict(os.environ, LOG_DIR=str(tmp_path / "logs"), BUILD_DIR=str(program("engine")).rsplit("/bin/", 1)[0],
               **{k: str(v) for k, v in ports.items()})
    run = subprocess.Popen([str(SOURCE / "scripts" / "run.sh"), "--no-build", "--", "--source", "bluesky",
                            "--jetstream-url", f"wss://127.0.0.1:{port}/subscribe", "--ca-file", str(ca["ca"])],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        p = Pipeline(procs)
        p.dashboard_port = ports["DASHBOARD_PORT"]

        def bluesky_on_top():
            top = p.top()  # None while the dashboard does not answer yet
            return top is not None and "#bluesky" in top[0] and top[0]
        tags = wait_until(bluesky_on_top, timeout=60, message="#bluesky on the dashboard")
    finally:
        run.send_signal(signal.SIGINT)
        out = run.communicate(timeout=60)[0].decode()
    assert run.returncode == 0, out
    assert tags[0] == "#bluesky", tags  # in every post of the fake
    assert "#tag0" in tags
    client_log = (tmp_path / "logs" / "client.log").read_text()
    assert "source bluesky" in client_log and "bluesky: connected to 127.0.0.1" in client_log
