"""twitter_client's Prometheus metrics (--metrics): every counter equals what the test made the
client do (tweets fed, frames the fake engine read, engines and streams that went away)."""
import os
import signal
import sys

from fake_twitter import EngineSink, parse_frames
from harness import COMPAT, free_port, program, start_engine, wait_port, wait_until
from scrape import Scrape, get, scrape, scrape_until
from test_client_stream import SECRETS, TORN_FILE, V1_ENV, V1_FILE, client, start_fake

sys.path.insert(0, str(COMPAT))
import reference  # noqa: E402


def stdin_client(procs, engine_port, *extra):
    """A client reading a pipe, serving metrics; returns (proc, pipe to write, metrics port)."""
    metrics_port = free_port()
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "rb") as stdin:
        c = procs("twitter_client", [program("twitter_client"), "--source", "stdin", "--engine",
                                     f"127.0.0.1:{engine_port}", "--metrics", f"127.0.0.1:{metrics_port}",
                                     "--stats-interval", "0", *extra], stdin=stdin)
    wait_port(metrics_port, proc=c)
    return c, os.fdopen(write_fd, "wb", buffering=0), metrics_port


when = scrape_until


def test_tweets_read_sent_skipped_and_an_engine_that_hangs_up(procs):
    sink = EngineSink()
    c, feed, port = stdin_client(procs, sink.port)
    wait_until(lambda: len(sink.per_connection()) == 1, timeout=10, message="the engine connection")
    texts = [b"one #a", b"two #b", b"three", b"four #a #c", b"five"]
    feed.write(b"".join(t + b"\n" for t in texts) + b"x" * 100_000 + b"\n")  # the last is too long for a frame
    wait_until(lambda: len(parse_frames(sink.data())[0]) == 5, timeout=10, message="five frames")
    s = when(port, trend_twitter_client_tweets_sent_total=5)
    assert s.value("trend_twitter_client_tweets_read_total") == 6
    assert s.value("trend_twitter_client_tweets_skipped_total") == 1
    assert s.value("trend_twitter_client_tweets_dropped_total") == 0
    assert s.value("trend_twitter_client_queue_frames") == 0
    assert s.value("trend_twitter_client_queue_capacity_frames") == 100000
    assert s.value("trend_twitter_client_engine_connected") == 1
    assert s.value("trend_twitter_client_engine_reconnects_total", reason="closed") == 0
    assert s.labels("trend_twitter_client_source_info") == [{"source": "stdin", "delivery": "plain"}]
    assert s.total("trend_twitter_client_source_reconnects_total") == 0
    # The engine hangs up while the client is idle; the client sees the end and connects again.
    sink.drop_clients()
    wait_until(lambda: len(sink.per_connection()) == 2, timeout=10, message="a second connection")
    feed.write(b"six #d\n")
    s = when(port, trend_twitter_client_tweets_sent_total=6)
    assert s.value("trend_twitter_client_engine_reconnects_total", reason="closed") == 1
    assert s.value("trend_twitter_client_engine_reconnects_total", reason="write_failed") == 0
    assert s.value("trend_twitter_client_tweets_read_total") == 7
    feed.close()
    c.popen.wait(30)
    assert c.returncode == 0, c.log_text()
    assert "read=7 sent=6 dropped=0 skipped=1" in c.log_text()
    sink.close()


def test_a_full_queue_drops_the_oldest_and_the_gauges_say_so(procs):
    port = free_port()
    c, feed, metrics_port = stdin_client(procs, port, "--queue", "10", "--drain-timeout", "30")
    wait_until(lambda: "unreachable" in c.log_text(), timeout=10, message="the client noticing no engine")
    feed.write(b"".join(b"tweet %d #n\n" % i for i in range(50)))
    s = when(metrics_port, trend_twitter_client_tweets_read_total=50)
    assert s.value("trend_twitter_client_tweets_dropped_total") == 40
    assert s.value("trend_twitter_client_queue_frames") == 10
    assert s.value("trend_twitter_client_queue_bytes") == sum(len(b"%05dtweet %d #n\n" % (0, i)) for i in range(40, 50))
    assert s.value("trend_twitter_client_queue_capacity_frames") == 10
    assert s.value("trend_twitter_client_engine_connected") == 0
    assert s.value("trend_twitter_client_tweets_sent_total") == 0
    sink = EngineSink(port)
    s = when(metrics_port, trend_twitter_client_tweets_sent_total=10, trend_twitter_client_queue_frames=0)
    assert s.value("trend_twitter_client_engine_connected") == 1
    assert s.total("trend_twitter_client_engine_reconnects_total") == 0  # the first connection is no reconnect
    feed.close()
    assert c.popen.wait(30) == 0
    sink.close()


def test_acknowledged_frames_are_counted_when_our_engine_acknowledges_them(procs):
    receiver = reference.RecordListener()
    engine, in_port = start_engine(procs, receiver.port)
    c, feed, port = stdin_client(procs, in_port, "--delivery", "acked")
    feed.write(b"".join(b"acked %d #k%d\n" % (i, i % 3) for i in range(25)))
    s = when(port, trend_twitter_client_tweets_acked_total=25, trend_twitter_client_tweets_sent_total=25)
    assert s.labels("trend_twitter_client_source_info") == [{"source": "stdin", "delivery": "acked"}]
    feed.close()
    assert c.popen.wait(30) == 0
    receiver.close()


def test_stream_reconnects_are_counted_by_how_each_connection_ended(procs):
    # One connection of each kind of end, then a good one: cut mid-line (network), 429
    # (rate_limit), silent (stalled), 503 (http), ended properly (ended).
    script = f"cut:{V1_FILE}:10;status:429;stall:{TORN_FILE}:20;status:503;end:{V1_FILE}:3;ok:{V1_FILE}"
    fake, url, raw = start_fake(procs, script)
    sink = EngineSink()
    metrics_port = free_port()
    c = client(procs, "twitter-v1", url, sink, V1_ENV, "--stall-timeout", "1", "--metrics", f"127.0.0.1:{metrics_port}")
    wait_port(metrics_port, proc=c)
    s = wait_until(lambda: (lambda x: x if x.total("trend_twitter_client_source_reconnects_total") == 5 else None)(
        scrape(metrics_port)), timeout=60, message="five reconnects")
    for reason in ("network", "rate_limit", "stalled", "http", "ended"):
        assert s.value("trend_twitter_client_source_reconnects_total", reason=reason) == 1, (reason, c.log_text())
    frames = lambda: len(parse_frames(sink.data())[0])  # noqa: E731
    # Every tweet taken from the stream is written to the engine (none is dropped or too long); the
    # lines that are no tweet (torn by the cut, keep-alives aside) are skipped before they count as read.
    s = wait_until(lambda: (lambda x: x if x.value("trend_twitter_client_tweets_sent_total") == frames() and
                            x.value("trend_twitter_client_queue_frames") == 0 else None)(scrape(metrics_port)),
                   timeout=30, message="the queue to drain")
    assert s.value("trend_twitter_client_tweets_read_total") == s.value("trend_twitter_client_tweets_sent_total") > 0
    assert s.value("trend_twitter_client_tweets_dropped_total") == 0
    assert s.labels("trend_twitter_client_source_info") == [{"source": "twitter-v1", "delivery": "plain"}]
    assert c.stop(signal.SIGINT) == 0
    skipped = int(s.value("trend_twitter_client_tweets_skipped_total"))
    assert f"skipped={skipped} " in c.log_text().splitlines()[-1]
    for secret in SECRETS.values():
        assert secret not in s.text


def test_metrics_are_off_by_default_and_only_metrics_is_served(procs):
    sink = EngineSink()
    c, feed, port = stdin_client(procs, sink.port)
    assert get(f"http://127.0.0.1:{port}/")[0] == 404
    assert get(f"http://127.0.0.1:{port}/metrics?x=1")[0] == 200
    assert isinstance(scrape(port), Scrape)
    feed.close()
    assert c.popen.wait(30) == 0
    assert "metrics: serving http://127.0.0.1:" in c.log_text()
    plain = procs("plain", [program("twitter_client"), "--source", "stdin", "--engine", f"127.0.0.1:{sink.port}"])
    assert plain.popen.wait(30) == 0
    assert "metrics" not in plain.log_text()
    sink.close()


def test_bluesky_reconnects_by_how_each_connection_ended_and_the_events_not_forwarded(procs):
    import re

    import fake_jetstream
    from test_client_live import start_fake as start_jetstream
    from test_client_live import texts
    timeline = fake_jetstream.timeline(120)
    want = fake_jetstream.posts(timeline)
    fake, port = start_jetstream(procs, "cut:20;close:20;stall:20", None, "--events", "120")
    sink = EngineSink()
    metrics_port = free_port()
    c = procs("twitter_client", [program("twitter_client"), "--engine", f"127.0.0.1:{sink.port}", "--source", "bluesky",
                                 "--jetstream-url", f"ws://127.0.0.1:{port}/subscribe", "--stall-timeout", "1",
                                 "--backoff-scale", "0.01", "--metrics", f"127.0.0.1:{metrics_port}"])
    wait_port(metrics_port, proc=c)
    wait_until(lambda: len(texts(sink)) >= len(want), timeout=60, message="every post")
    s = when(metrics_port, trend_twitter_client_tweets_sent_total=len(want))
    for reason, count in (("network", 1), ("ended", 1), ("stalled", 1), ("http", 0), ("rate_limit", 0)):
        assert s.value("trend_twitter_client_source_reconnects_total", reason=reason) == count, (reason, c.log_text())
    assert s.labels("trend_twitter_client_source_info") == [{"source": "bluesky", "delivery": "plain"}]
    assert c.stop(signal.SIGINT) == 0
    done = re.search(r"done: stats: .* ignored=(\d+) duplicates=(\d+) other_lang=(\d+) lost=0$", c.log_text(), re.M)
    assert done, c.log_text()
    assert s.value("trend_twitter_client_posts_ignored_total", reason="not_a_post") == int(done.group(1))
    assert s.value("trend_twitter_client_posts_ignored_total", reason="duplicate") == int(done.group(2)) > 0
    assert s.value("trend_twitter_client_posts_ignored_total", reason="other_language") == int(done.group(3)) == 0
    assert texts(sink) == want
