"""The engine against the Python 3 port of the original application (tests/compat/).

First the port itself is checked against ORIGINAL.md's byte-exact records and pandas' tie order;
then the real engine processes every real tweet of ../shared/data/tweets on one connection and
its output is compared byte for byte with the port's; last, the machida stand-in (the port run
live as a TCP server) gives the same bytes as the offline reference.
"""
import random
import sys

from harness import COMPAT, PYTHON, free_port, program, shared_data, wait_port

sys.path.insert(0, str(COMPAT))
import reference  # noqa: E402

def lines(*texts):
    return b"".join(t.encode("utf-8") + b"\n" for t in texts)


def test_port_gives_the_byte_exact_records_of_original_md():
    records = reference.records_for_payloads(reference.line_payloads(lines("#world #cpp", "#cpp #café #it's")))
    assert records[1] == b"{'label': \"['#world', '#cpp']\", 'data': '[1, 1]'};;\n"
    assert records[-1] == "{'label': '[\\'#cpp\\', \\'#world\\', \\'#café\\', \"#it\\'s\"]', 'data': '[2, 1, 1, 1]'};;\n".encode()
    records = reference.records_for_payloads(reference.line_payloads(lines("#cpp #cpp #a\u200db #cpp")))
    assert records[-1] == b"{'label': \"['#cpp', '#a\\\\u200db']\", 'data': '[3, 1]'};;\n"


def test_port_orders_ties_by_first_seen_and_fast_model_agrees():
    # Random streams over small vocabularies make many ties, both while the state holds fewer
    # than 10 hashtags (pandas sorts) and more (pandas selects with a stable mergesort).
    rnd = random.Random(2)
    payloads = []
    for _ in range(400):
        vocab = rnd.choice([4, 12, 40])
        payloads.append(" ".join(f"#t{rnd.randrange(vocab)}" for _ in range(rnd.randint(0, 4))).encode() + b"\n")
    pandas_records = reference.records_for_payloads(payloads)
    assert len(pandas_records) > 500
    assert reference.describe_difference(reference.records_for_payloads(payloads, model="fast"), pandas_records) is None
    # The first-seen rule spelled out on one case: #b and #a tie at 2 and #b came first.
    records = reference.records_for_payloads([b"#b #a #c #a #b\n"])
    assert records[-1] == b"{'label': \"['#b', '#a', '#c']\", 'data': '[2, 2, 1]'};;\n"


def test_engine_matches_port_on_every_real_tweet(procs):
    tweets = shared_data("tweets")
    stream = reference.framed_stream(reference.tweet_texts(reference.tweet_files(tweets)))
    # All 19,063 tweets (about 48,000 hashtag events): the pandas port needs about 30 s for them.
    expected = reference.records_for_payloads(reference.framed_payloads(stream))
    assert len(expected) > 40000

    receiver = reference.RecordListener()
    in_port = free_port()
    engine = procs("engine", [program("engine"), "--in", f"127.0.0.1:{in_port}", "--out", f"127.0.0.1:{receiver.port}"])
    wait_port(in_port, proc=engine)
    receiver.wait_connected_and_settled()
    reference.send_bytes(in_port, stream, chunk=4093)  # odd chunks split frames and characters
    try:
        receiver.wait_records(len(expected), timeout=120)
    except AssertionError:
        pass  # the comparison below says what is missing
    problem = reference.describe_difference(receiver.records(), expected)
    assert problem is None, problem + f"\nengine log: {engine.log_path}"
    assert engine.poll() is None
    assert engine.stop() == 0
    receiver.close()


def test_machida_stand_in_runs_the_port_live_like_the_reference(procs):
    payloads = [b"x #world #cpp\n", "#cpp #café #it's\n".encode(), b"#a\xff #bad\n", b"#cpp\n"]
    stream = b"".join(reference.frame_text(p) for p in payloads)
    expected = reference.records_for_payloads(reference.framed_payloads(stream))
    assert len(expected) == 6  # the invalid UTF-8 message is skipped

    receiver = reference.RecordListener()
    in_port = free_port()
    machida = procs("machida", [PYTHON, str(COMPAT / "machida.py"), *reference.machida_line(in_port, receiver.port)])
    wait_port(in_port, proc=machida, timeout=60)
    reference.send_bytes(in_port, stream, chunk=7)
    receiver.wait_records(len(expected), timeout=60)
    assert reference.describe_difference(receiver.records(), expected) is None
    assert machida.stop() == 0
    receiver.close()
