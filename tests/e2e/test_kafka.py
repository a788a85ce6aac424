"""engine --kafka and twitter_client --kafka: real processes, the real Kafka protocol (librdkafka's
mock brokers in build/bin/mock_cluster), real tweets. Exactness is checked against the log itself:
the tweets topic is dumped with kcat and the expected record computed from it, in the order that
defines "first seen over the log" (record timestamp, partition, offset)."""
import signal
import subprocess
import sys
import time

import pytest

from harness import ARTIFACTS, COMPAT, SOURCE, Proc, free_port, program, shared_data, wait_until
from kafka_harness import (MockCluster, TimedReceiver, dump_topic, log_order, windowed_top)
from scrape import documented, scrape

if str(COMPAT) not in sys.path:
    sys.path.insert(0, str(COMPAT))
import reference  # noqa: E402

SESSION_MS = 6000
GROUP_OPTIONS = ["--kafka-option", f"session.timeout.ms={SESSION_MS}", "--kafka-option", "heartbeat.interval.ms=500"]


@pytest.fixture
def kafka_env():
    """Starts what a test asks for and stops it all at the end, cluster last."""
    started = {"procs": [], "clusters": [], "receivers": []}

    def cluster(partitions=3, group="trend-engine", counting=6, topic="tweets"):
        c = MockCluster({topic: partitions, f"{group}-hashtags": counting, f"{group}-tops": 1,
                         f"{group}-state": counting})
        started["clusters"].append(c)
        return c

    def proc(name, argv):
        p = Proc(name, argv)
        started["procs"].append(p)
        return p

    def receiver():
        r = TimedReceiver()
        started["receivers"].append(r)
        return r

    yield cluster, proc, receiver
    for p in started["procs"]:
        p.stop(timeout=20)
    for r in started["receivers"]:
        r.close()
    for c in started["clusters"]:
        c.close()


def all_tweets_file():
    """Every real tweet, one JSONL file (in the artifacts folder, never the repository)."""
    tweets = shared_data("tweets")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "kafka-all-tweets.jsonl"
    if not path.exists():
        with open(path, "wb") as out:
            for name in reference.tweet_files(tweets):
                with open(name, "rb") as f:
                    for line in f:
                        out.write(line.rstrip(b"\n") + b"\n")
    return path


def engine_argv(cluster, receiver, *extra, group="trend-engine", topic="tweets"):
    return [program("engine"), "--kafka", cluster.bootstrap, "--topic", topic, "--group", group,
            "--out", f"127.0.0.1:{receiver.port}", "--stats-interval", "1", "--checkpoint-interval", "1s",
            *GROUP_OPTIONS, *extra]


def client_argv(cluster, *extra, topic="tweets"):
    return [program("twitter_client"), "--kafka", cluster.bootstrap, "--topic", topic, "--stats-interval", "1",
            "--drain-timeout", "60", *extra]


def expected_last_record(cluster, topic="tweets"):
    """What the Python 3 port of the original writes last for the tweets in log order."""
    tweets = log_order(dump_topic(cluster.bootstrap, topic))
    payloads = [value + b"\n" for _, _, _, value in tweets]
    last = None
    for record in reference.iter_records(payloads, model="fast"):
        last = record
    return last, len(tweets)


def wait_exit(proc, timeout):
    wait_until(lambda: proc.poll() is not None, timeout=timeout, interval=0.2, message=f"{proc.name} to finish")
    return proc.returncode


def writer_of(engines):
    """The engine whose latest assignment made it the writer."""
    for e in engines:
        lines = [l for l in e.log_text().splitlines() if "kafka: assigned" in l]
        if lines and lines[-1].endswith(", writer") and e.poll() is None:
            return e
    return None


def keep_for_diagnosis(cluster, receiver, name):
    """Writes what the receiver got and the partial tops to the artifacts folder."""
    with open(ARTIFACTS / f"kafka-{name}-records.txt", "wb") as f:
        for t, r in receiver.timed():
            f.write(b"%.3f " % t + r)
    with open(ARTIFACTS / f"kafka-{name}-tops.txt", "wb") as f:
        for ts, p, o, v in dump_topic(cluster.bootstrap, f"{name}-tops"):
            f.write(b"%d %d %d %r\n" % (ts, p, o, v))


def max_gap(timed, start, end):
    """The longest time without a record between start and end (monotonic seconds)."""
    times = [start] + [t for t, _ in timed if start <= t <= end] + [end]
    return max(b - a for a, b in zip(times, times[1:]))


def test_three_engines_write_the_exact_top_10_of_the_real_tweets(kafka_env):
    cluster_of, proc, receiver_of = kafka_env
    cluster = cluster_of()
    receiver = receiver_of()
    ports = [free_port() for _ in range(3)]
    engines = [proc(f"engine{k}", engine_argv(cluster, receiver, "--metrics", f"127.0.0.1:{ports[k]}")) for k in range(3)]
    wait_until(lambda: all("kafka: assigned" in e.log_text() for e in engines), timeout=60, message="3 engines assigned")
    client = proc("client", client_argv(cluster, "--source", "replay", "--file", str(all_tweets_file())))
    assert wait_exit(client, 120) == 0, client.log_text()
    assert "lost=0" in client.log_text()
    expected, count = expected_last_record(cluster)
    assert count > 19000
    got = receiver.wait_for(expected, timeout=90)
    assert got == expected, f"last record {got!r}\nexpected {expected!r}"
    # --metrics on Kafka: together the engines counted every tweet once, hold the 6 counting
    # partitions, and one of them is the writer.
    def group_metrics():
        scrapes = [scrape(port) for port in ports]
        return {name: sum(s.value(name) for s in scrapes) for name in
                ("trend_engine_tweets_total", "trend_engine_kafka_counting_partitions", "trend_engine_kafka_writer",
                 "trend_engine_kafka_tweet_partitions")}
    wait_until(lambda: group_metrics()["trend_engine_tweets_total"] == count, timeout=10, interval=0.5,
               message=f"the engines' metrics to count {count} tweets (last: {group_metrics()})")
    assert group_metrics() == {"trend_engine_tweets_total": count, "trend_engine_kafka_counting_partitions": 6,
                               "trend_engine_kafka_writer": 1, "trend_engine_kafka_tweet_partitions": 3}
    # What an engine on Kafka serves is what docs/observability.md says, with the documented types.
    docs = documented(SOURCE / "docs" / "observability.md", kafka=True)
    served = scrape(ports[0])
    families = {name[:-len("_total")] if kind == "counter" else name: kind for name, (kind, _) in docs.items()}
    assert set(served.types) == set(families), (sorted(set(served.types) - set(families)),
                                                sorted(set(families) - set(served.types)))
    assert all(served.types[f] == kind for f, kind in families.items())
    # Three engines shared the work: a tweets partition and two counting partitions each.
    for e in engines:
        assert "counting_partitions=2 tweet_partitions=1" in e.log_text(), e.log_text()[-3000:]


def test_kill_9_of_an_engine_mid_stream_loses_and_doubles_nothing(kafka_env):
    cluster_of, proc, receiver_of = kafka_env
    cluster = cluster_of()
    receiver = receiver_of()
    engines = [proc(f"engine{k}", engine_argv(cluster, receiver)) for k in range(3)]
    wait_until(lambda: all("kafka: assigned" in e.log_text() for e in engines), timeout=60, message="3 engines assigned")
    client = proc("client", client_argv(cluster, "--source", "replay", "--file", str(all_tweets_file()), "--rate", "1200"))
    wait_until(lambda: receiver.records(), timeout=60, message="a first record")
    started = time.monotonic()
    time.sleep(4)
    # The writer, so that the page has to fail over too.
    victim = writer_of(engines)
    assert victim is not None
    victim.popen.send_signal(signal.SIGKILL)
    victim.popen.wait()
    time.sleep(3)
    engines.append(proc("engine-restarted", engine_argv(cluster, receiver)))
    assert wait_exit(client, 120) == 0, client.log_text()
    streamed_until = time.monotonic()
    expected, _ = expected_last_record(cluster)
    got = receiver.wait_for(expected, timeout=120)
    assert got == expected, f"last record {got!r}\nexpected {expected!r}"
    # While tweets came in, the page was never left without a record for longer than the group
    # needs to notice a dead member (session timeout) and hand its partitions over (one rebalance).
    gap = max_gap(receiver.timed(), started, streamed_until)
    assert gap < SESSION_MS / 1000 + 6, f"no record for {gap:.1f} s"
    # Copies were produced again after the kill and skipped, or none at all: never counted twice
    # (the exact record above says so); the restarted engine took part.
    assert "kafka: assigned" in engines[-1].log_text()


def test_windows_stay_exact_across_a_join_and_a_kill_and_expire(kafka_env):
    cluster_of, proc, receiver_of = kafka_env
    # One tweets partition: the window's model is then the tweets' own timestamps in offset order.
    cluster = cluster_of(partitions=1, group="windows")
    receiver = receiver_of()
    window = ["--window", "8s", "--slide", "2s"]
    engines = [proc(f"engine{k}", engine_argv(cluster, receiver, *window, group="windows")) for k in range(2)]
    wait_until(lambda: all("kafka: assigned" in e.log_text() for e in engines), timeout=60, message="engines assigned")
    # 20 s of tweets; the join and the kill early enough that the group has settled again (a
    # session timeout and a rebalance) before the last tweet: the record of the window at the last
    # tweet is then written before the wall clock moves the idle log on (4 s after it).
    client = proc("client", client_argv(cluster, "--source", "replay", "--file", str(all_tweets_file()), "--rate", "600",
                                        "--limit", "12000"))
    time.sleep(3)
    engines.append(proc("engine-joins", engine_argv(cluster, receiver, *window, group="windows")))
    time.sleep(4)
    victim = next(e for e in engines if "counting [ " in e.log_text() and e.poll() is None and e is not writer_of(engines))
    victim.popen.send_signal(signal.SIGKILL)
    victim.popen.wait()
    assert wait_exit(client, 120) == 0, client.log_text()
    tweets = dump_topic(cluster.bootstrap, "tweets")
    expected = windowed_top(tweets, window_slots=4, slide_ms=2000)
    # The record of the window as it stood at the last tweet, then (no more tweets: the log time
    # follows the wall clock) the window empties.
    try:
        wait_until(lambda: expected in receiver.records(), timeout=90, interval=0.2,
                   message=f"the record {expected!r} (last seen {receiver.last()!r})")
    except AssertionError:
        keep_for_diagnosis(cluster, receiver, "windows")
        raise
    empty = b"{'label': '[]', 'data': '[]'};;\n"
    assert receiver.wait_for(empty, timeout=60) == empty


def test_kafka_away_at_start_and_brokers_going_down_lose_nothing(kafka_env):
    cluster_of, proc, receiver_of = kafka_env
    cluster = cluster_of()
    receiver = receiver_of()
    for broker in (1, 2, 3):
        cluster.down(broker)
    engines = [proc(f"engine{k}", engine_argv(cluster, receiver)) for k in range(2)]
    client = proc("client", client_argv(cluster, "--source", "replay", "--file", str(all_tweets_file()), "--rate", "2000"))
    wait_until(lambda: "unreachable" in engines[0].log_text(), timeout=30, message="the engine saying Kafka is unreachable")
    wait_until(lambda: "unreachable" in client.log_text(), timeout=30, message="the client saying Kafka is unreachable")
    time.sleep(2)
    for broker in (1, 2, 3):
        cluster.up(broker)
    wait_until(lambda: all("kafka: assigned" in e.log_text() for e in engines), timeout=60, message="engines assigned")
    time.sleep(3)
    cluster.down(2)  # a broker goes away mid-stream, and returns
    time.sleep(4)
    cluster.up(2)
    assert wait_exit(client, 180) == 0, client.log_text()
    assert "lost=0" in client.log_text()
    expected, _ = expected_last_record(cluster)
    got = receiver.wait_for(expected, timeout=120)
    assert got == expected, f"last record {got!r}\nexpected {expected!r}"


def test_kafka_config_file_reaches_librdkafka_and_its_secrets_stay_private(tmp_path):
    """--kafka-config: its settings go to librdkafka (a bad value is librdkafka's error, naming the
    key only); a file holding a password that others may read is refused; a password on the
    command line is refused. No value is ever printed."""
    for prog in ("engine", "twitter_client"):
        loose = tmp_path / f"{prog}-loose.properties"
        loose.write_text("# shared\nsasl.username=trend\nsasl.password=hunter2\n")
        loose.chmod(0o644)
        run = subprocess.run([program(prog), "--kafka", "127.0.0.1:1", "--kafka-config", str(loose)],
                             capture_output=True, text=True, timeout=30)
        assert run.returncode != 0
        assert "chmod 600" in run.stderr + run.stdout and "hunter2" not in run.stderr + run.stdout
        private = tmp_path / f"{prog}-private.properties"
        private.write_text("sasl.password=hunter2\nsocket.timeout.ms=not-a-number\n")
        private.chmod(0o600)
        run = subprocess.run([program(prog), "--kafka", "127.0.0.1:1", "--kafka-config", str(private)],
                             capture_output=True, text=True, timeout=30)
        out = run.stderr + run.stdout
        assert run.returncode != 0 and "socket.timeout.ms" in out and "not-a-number" not in out, out
        assert "hunter2" not in out
        run = subprocess.run([program(prog), "--kafka", "127.0.0.1:1", "--kafka-option", "sasl.password=hunter2"],
                             capture_output=True, text=True, timeout=30)
        out = run.stderr + run.stdout
        assert run.returncode == 2 and "--kafka-config" in out and "hunter2" not in out, out
