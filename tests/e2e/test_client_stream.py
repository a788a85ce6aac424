"""twitter_client against a local fake Twitter (tests/e2e/fake_twitter.py).

The fake serves the real stream captures of ../shared/data/tweets/raw with chunked transfer and
keep-alives, drops a connection mid-line, answers 429 and 503, stalls; it checks the OAuth 1.0a
signature of every v1.1 request and the bearer token of every v2 call. The client must forward
every complete tweet of every connection, in order, and reconnect with the right back-off class.
"""
import json
import os
import re
import signal
import sys
import time


from fake_twitter import EngineSink, lines_of, parse_frames
from harness import ARTIFACTS, COMPAT, HERE, PYTHON, free_port, program, shared_data, wait_port, wait_until

sys.path.insert(0, str(COMPAT))
import twitter_client_framing as port  # noqa: E402

V1_FILE = "python-twitter_streaming_lines.json"
TORN_FILE = "rtweet_stream-20210221173118.json"
V2_FILE = "twarc-csv_streaming_output_with_error.jsonl"
SECRETS = {"FAKE_CONSUMER_KEY": "ck-abc123", "FAKE_CONSUMER_SECRET": "cs-S3cr3t+/=", "FAKE_TOKEN": "12-tok",
           "FAKE_TOKEN_SECRET": "ts-!*'()", "FAKE_BEARER": "AAAA%2Fbearer=="}
V1_ENV = {"TWITTER_CONSUMER_KEY": SECRETS["FAKE_CONSUMER_KEY"], "TWITTER_CONSUMER_SECRET": SECRETS["FAKE_CONSUMER_SECRET"],
          "TWITTER_ACCESS_TOKEN": SECRETS["FAKE_TOKEN"], "TWITTER_ACCESS_SECRET": SECRETS["FAKE_TOKEN_SECRET"]}
NO_CREDS = {k: "" for k in ("TWITTER_BEARER_TOKEN", "TWITTER_CONSUMER_KEY", "TWITTER_CONSUMER_SECRET",
                            "TWITTER_ACCESS_TOKEN", "TWITTER_ACCESS_SECRET")}


def start_fake(procs, script, *extra):
    raw = shared_data("tweets", "raw")
    port_no = free_port()
    fake = procs("fake_twitter", [PYTHON, str(HERE / "fake_twitter.py"), "--port", str(port_no), "--script", script,
                                  "--raw-dir", str(raw), *extra], env=SECRETS)
    wait_port(port_no, proc=fake)
    return fake, f"http://127.0.0.1:{port_no}", raw


def events(fake):
    out = []
    for line in fake.log_text().splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def expected(raw, *parts):
    """Port framing of the first n lines of each (file, n) part (n None = all)."""
    out = b""
    for name, n in parts:
        lines = lines_of((raw / name).read_bytes())
        out += port.frame_lines([l.rstrip(b"\n").rstrip(b"\r") for l in lines[:n]])
    return out


def client(procs, source, api_url, sink, env, *extra, scale="0.01"):
    argv = [program("twitter_client"), "--source", source, "--api-url", api_url, "--engine",
            f"127.0.0.1:{sink.port}", "--stats-interval", "1", "--backoff-scale", scale, *extra]
    return procs("twitter_client", argv, env={**NO_CREDS, **env})


def backoff_classes(log):
    return re.findall(r"reconnecting in \d+ ms \(([a-z-]+) back-off", log)


def test_v1_reconnects_by_class_and_forwards_every_complete_tweet_in_order(procs):
    script = f"cut:{V1_FILE}:10;status:429;stall:{TORN_FILE}:100;status:503;ok:{V1_FILE}"
    fake, url, raw = start_fake(procs, script)
    sink = EngineSink()
    want = expected(raw, (V1_FILE, 10), (TORN_FILE, 100), (V1_FILE, None))
    c = client(procs, "twitter-v1", url, sink, V1_ENV, "--stall-timeout", "1")
    wait_until(lambda: len(sink.data()) >= len(want) or c.poll() is not None, timeout=60, message="every tweet")
    got = sink.data()
    assert c.stop(signal.SIGINT) == 0, c.log_text()
    log = c.log_text()
    assert got == want, log
    assert backoff_classes(log) == ["network", "rate-limit", "network", "http"], log
    assert "stalled" in log
    ev = events(fake)
    assert not [e for e in ev if e["event"] == "auth_fail"], ev
    connects = [e for e in ev if e["event"] == "connect"]
    assert [e["step"].split(":")[0] for e in connects] == ["cut", "status", "stall", "status", "ok"]
    # 429: 60 s nominal, 0.6 s at scale 0.01; a network error waits 2.5 ms (nominal 250 ms).
    gap_after_429 = connects[2]["t"] - connects[1]["t"]
    assert gap_after_429 >= 0.55
    assert "nominal 60000 ms" in log and "nominal 5000 ms" in log and "nominal 250 ms" in log
    assert "received SIGINT" in log
    for secret in SECRETS.values():
        assert secret not in log


def test_a_retry_after_longer_than_the_back_off_is_honoured(procs):
    fake, url, raw = start_fake(procs, f"status:429:90;ok:{V1_FILE}")
    sink = EngineSink()
    want = expected(raw, (V1_FILE, None))
    c = client(procs, "twitter-v1", url, sink, V1_ENV)
    wait_until(lambda: len(sink.data()) >= len(want) or c.poll() is not None, timeout=60, message="every tweet")
    assert c.stop(signal.SIGINT) == 0, c.log_text()
    log = c.log_text()
    assert sink.data() == want, log
    # 90 s asked, more than the 60 s rate-limit back-off: 0.9 s at scale 0.01.
    assert "Retry-After: 90 s" in log and "nominal 90000 ms" in log, log
    connects = [e for e in events(fake) if e["event"] == "connect"]
    assert connects[1]["t"] - connects[0]["t"] >= 0.85


def test_v2_sets_rules_with_the_bearer_token_and_streams(procs):
    fake, url, raw = start_fake(procs, f"ok:{V2_FILE};ok:{V2_FILE}")
    sink = EngineSink()
    want = expected(raw, (V2_FILE, None))
    assert len(parse_frames(want)[0]) == 7
    env = {"TWITTER_BEARER_TOKEN": SECRETS["FAKE_BEARER"]}
    c = client(procs, "twitter", url, sink, env, "--rule", "#cpp", "--rule", "has:hashtags lang:en")
    wait_until(lambda: len(sink.data()) >= len(want), timeout=30, message="the v2 tweets")
    assert c.stop() == 0
    assert sink.data() == want
    # A second run replaces the rules: the old ones are deleted first.
    c2 = client(procs, "twitter", url, EngineSink(), env, "--rule", "#wallaroo")
    wait_until(lambda: "stream: connected" in c2.log_text(), timeout=30, message="second connection")
    assert c2.stop() == 0
    ev = events(fake)
    assert not [e for e in ev if e["event"] == "auth_fail"]
    kinds = [e["event"] for e in ev if e["event"].startswith("rules")]
    assert kinds == ["rules_list", "rules_add", "rules_list", "rules_delete", "rules_add"]
    adds = [e["values"] for e in ev if e["event"] == "rules_add"]
    assert adds == [["#cpp", "has:hashtags lang:en"], ["#wallaroo"]]
    assert [e["ids"] for e in ev if e["event"] == "rules_delete"] == [["1", "2"]]
    for log in (c.log_text(), c2.log_text()):
        assert SECRETS["FAKE_BEARER"] not in log


def test_a_refused_bearer_token_ends_with_what_to_fix(procs):
    fake, url, _ = start_fake(procs, f"ok:{V2_FILE}")
    c = client(procs, "twitter", url, EngineSink(), {"TWITTER_BEARER_TOKEN": "wrong-token"})
    c.popen.wait(30)
    assert c.returncode == 1
    assert "TWITTER_BEARER_TOKEN" in c.log_text()
    assert "wrong-token" not in c.log_text()
    assert [e for e in events(fake) if e["event"] == "auth_fail"]


def test_a_bad_oauth_signature_gets_401_and_the_v1_retirement_advice(procs):
    fake, url, _ = start_fake(procs, f"ok:{V1_FILE}")
    env = {**V1_ENV, "TWITTER_ACCESS_SECRET": "not-the-secret"}
    c = client(procs, "twitter-v1", url, EngineSink(), env)
    c.popen.wait(30)
    assert c.returncode == 1
    assert "retired" in c.log_text() and "--source twitter" in c.log_text()
    fails = [e for e in events(fake) if e["event"] == "auth_fail"]
    assert fails and fails[0]["problem"] == "bad signature"


def test_credentials_file_must_be_private(procs):
    fake, url, raw = start_fake(procs, f"ok:{V2_FILE}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"client-creds-{os.getpid()}.env"
    path.write_text(f"# test\nTWITTER_BEARER_TOKEN={SECRETS['FAKE_BEARER']}\n")
    os.chmod(path, 0o644)
    sink = EngineSink()
    c = client(procs, "twitter", url, sink, {}, "--credentials", str(path))
    c.popen.wait(30)
    assert c.returncode == 2
    assert "readable by group or others" in c.log_text()
    os.chmod(path, 0o600)
    c = client(procs, "twitter", url, sink, {}, "--credentials", str(path))
    want = expected(raw, (V2_FILE, None))
    wait_until(lambda: sink.data() == want, timeout=30, message="tweets with the token from the file")
    assert c.stop() == 0
    assert SECRETS["FAKE_BEARER"] not in c.log_text()
    path.unlink()


def wait_exit_with_peak_rss(proc, timeout=120):
    """Waits for proc to end; returns its peak resident memory in KiB: the highest VmHWM read from
    /proc/PID/status while it ran, or the kernel's own peak from wait4, whichever is larger."""
    peak, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{proc.popen.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        pid, status, usage = os.wait4(proc.popen.pid, os.WNOHANG)
        if pid:
            proc.popen.returncode = os.waitstatus_to_exitcode(status)
            return max(peak, usage.ru_maxrss)
        time.sleep(0.005)
    raise AssertionError(f"{proc.name} still runs after {timeout} s")


def test_a_huge_rules_reply_is_refused_without_being_held(procs):
    # A rules list is a few kB; 100 MB used to be kept whole (and parsed into a DOM): 1.25 GB of
    # memory was seen for a 300 MB reply.
    # The stream answers 401: a client that went on after the rules ends anyway.
    fake, url, _ = start_fake(procs, "status:401", "--rules-reply", "huge:100000000")
    c = client(procs, "twitter", url, EngineSink(), {"TWITTER_BEARER_TOKEN": SECRETS["FAKE_BEARER"]}, "--rule", "#a")
    peak_kib = wait_exit_with_peak_rss(c)
    log = c.log_text()
    assert peak_kib < 48 * 1024, f"peak RSS {peak_kib} KiB\n{log}"
    assert c.returncode == 1, log
    assert "listing the stream rules failed: the reply is larger than 1 MiB" in log, log
    huge = [e for e in events(fake) if e["event"] == "rules_huge"]
    assert huge and huge[0]["sent"] < 50_000_000  # the transfer was cut short, not read to the end
    assert not [e for e in events(fake) if e["event"] == "connect"]  # no stream without the rules


def test_a_server_that_hangs_up_after_each_line_gets_growing_delays(procs):
    # Every connection delivers one tweet and ends: it never stays up the 30 s that would make it
    # healthy, so the network back-off keeps growing (250, 500, 750 ms ... nominal) instead of
    # starting over at 250 ms after every byte, about four connections a second forever.
    fake, url, raw = start_fake(procs, f"end:{V1_FILE}:1*")
    sink = EngineSink()
    c = client(procs, "twitter-v1", url, sink, V1_ENV, scale="0.1")
    time.sleep(4)
    assert c.stop(signal.SIGINT) == 0, c.log_text()
    log = c.log_text()
    nominal = [int(n) for n in re.findall(r"reconnecting in \d+ ms \(network back-off, nominal (\d+) ms\)", log)]
    assert len(nominal) >= 5, log
    assert nominal == [250 * (k + 1) for k in range(len(nominal))], log
    connects = [e["t"] for e in events(fake) if e["event"] == "connect"]
    # Each gap holds at least its delay (25, 50, 75 ... ms at scale 0.1): it only grows. Starting
    # over after every connection, every gap would be about 25 ms and 4 s would hold ~150 of them.
    gaps = [b - a for a, b in zip(connects, connects[1:])]
    assert all(gap >= 0.025 * (k + 1) * 0.95 for k, gap in enumerate(gaps)), gaps
    # 25 + 50 + ... + 425 ms = 3.8 s: at most 18 connections start within 4 s of the first.
    assert len([t for t in connects if t - connects[0] <= 4.0]) <= 18, gaps
    assert "the server ended the stream after 1 tweets" in log
    one = expected(raw, (V1_FILE, 1))
    frames, _ = parse_frames(sink.data())
    assert len(frames) >= len(connects) - 1 and set(frames) == set(parse_frames(one)[0])


LOG_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z twitter_client (debug|info|warn|error): ")


def assert_log_is_clean(log):
    """No terminal control byte and no line that twitter_client did not start itself."""
    for bad in ("\x1b", "\x07"):
        assert bad not in log, log
    for line in log.splitlines():
        assert LOG_LINE.match(line), f"forged or broken log line: {line!r}"
    assert "\\x1b[31mred" in log, log  # the body is shown, escaped, not dropped


def test_hostile_error_bodies_are_escaped_in_the_log(procs):
    env = {"TWITTER_BEARER_TOKEN": SECRETS["FAKE_BEARER"]}
    # Stream replies: a 503 and a 404 (reconnect, http class), then a 401 (fatal, with advice).
    fake, url, _ = start_fake(procs, "evil:503;evil:404;evil:401")
    c = client(procs, "twitter", url, EngineSink(), env)
    c.popen.wait(60)
    log = c.log_text()
    assert c.returncode == 1, log
    assert backoff_classes(log) == ["http", "http"], log
    assert "TWITTER_BEARER_TOKEN" in log
    assert_log_is_clean(log)
    # A rules call refused with the same body.
    fake, url, _ = start_fake(procs, "idle", "--rules-reply", "evil:400")
    c = client(procs, "twitter", url, EngineSink(), env, "--rule", "#a")
    c.popen.wait(60)
    log = c.log_text()
    assert c.returncode == 1, log
    assert "listing the stream rules failed with HTTP 400" in log, log
    assert_log_is_clean(log)
