"""Bad input closes or skips only what is bad; a good stream on another connection is untouched.

While one connection streams good tweets, other connections send garbage headers, truncated
frames, invalid UTF-8 and a stalled half header. Their hashtags (#evil...) must never reach the
state, so the good stream's records must be exactly the port's records for the good stream
alone. Then, on the same running engine, a connection sends invalid UTF-8 followed by good
frames and a 99999-byte payload: the good frames after the bad one count.
"""
import socket
import sys
import threading
import time

from harness import COMPAT, free_port, program, wait_port

sys.path.insert(0, str(COMPAT))
import reference  # noqa: E402


def good_texts(count):
    """Deterministic tweets with ties, repeats and non-ASCII hashtags."""
    tags = ["#cpp", "#python", "#café", "#it's", "#a\u200db", "#日本", "#x,", "#", "#Cpp", "#🙂"]
    return [f"tweet {i} {tags[i % 7]} and {tags[(i * 3) % 10]} #n{i % 23}" for i in range(count)]


def send_and_close(port, data, linger=0.0):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        time.sleep(linger)


def bad_connections(port, stop):
    """Sends every kind of bad input, over and over, until stop is set. Returns counts."""
    evil = reference.frame_text("#evil after the bad part")
    sent = 0
    while not stop.is_set():
        # A garbage header: the connection is closed, the valid frame behind it never counts.
        send_and_close(port, b"abcde#evil1\n" + evil)
        # A garbage header after a good frame (one without hashtags, so the state is unchanged).
        send_and_close(port, reference.frame_text("no tags here") + b"12a45" + evil)
        # A truncated frame: the header promises 100 bytes, 12 arrive, then the end.
        send_and_close(port, b"00100#evil2 #evil3")
        # Invalid UTF-8 payloads: each message is skipped.
        send_and_close(port, reference.frame_text(b"#evil4 \xff\xfe") + reference.frame_text(b"#evil5 \xed\xa0\x80")
                       + reference.frame_text(b"#evil6 \xc3"))
        # An HTTP request sent to the wrong port.
        send_and_close(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n#evil7\n")
        sent += 1
    return sent


def test_bad_connections_do_not_disturb_a_good_stream(procs):
    receiver = reference.RecordListener()
    port = free_port()
    engine = procs("engine", [program("engine"), "--in", f"127.0.0.1:{port}", "--out", f"127.0.0.1:{receiver.port}"])
    wait_port(port, proc=engine)
    receiver.wait_connected_and_settled()

    good = reference.framed_stream(good_texts(1500))
    expected = reference.records_for_payloads(reference.framed_payloads(good), model="fast")

    # A connection that sends half a header and then nothing for the whole test.
    staller = socket.create_connection(("127.0.0.1", port))
    staller.sendall(b"000")

    stop = threading.Event()
    bad_rounds = []
    bad = threading.Thread(target=lambda: bad_rounds.append(bad_connections(port, stop)))
    bad.start()
    try:
        with socket.create_connection(("127.0.0.1", port)) as s:
            for i in range(0, len(good), 1001):  # frames and characters split across reads
                s.sendall(good[i:i + 1001])
                time.sleep(0.002)
            receiver.wait_records(len(expected), timeout=60)
    finally:
        stop.set()
        bad.join(30)
    assert bad_rounds and bad_rounds[0] > 0, "no bad connection ran while the good stream was sent"
    records = receiver.records()
    problem = reference.describe_difference(records, expected)
    assert problem is None, problem
    assert b"#evil" not in receiver.data()
    assert engine.poll() is None, "the engine died"

    # Same engine: invalid UTF-8 skips one message, the frames after it on that connection count;
    # a 99999-byte payload (the largest) is taken whole.
    big = b"#big " + b"x" * (99999 - len(b"#big  #bigend\n")) + b" #bigend\n"
    assert len(big) == 99999
    tail = (reference.frame_text(b"#skipped \xff") + reference.frame_text("#after #café")
            + b"99999" + big + reference.frame_text("#last"))
    expected_all = reference.records_for_payloads(reference.framed_payloads(good + tail), model="fast")
    assert len(expected_all) == len(expected) + 5
    send_and_close(port, tail)
    receiver.wait_records(len(expected_all), timeout=30)
    problem = reference.describe_difference(receiver.records(), expected_all)
    assert problem is None, problem
    staller.close()
    assert engine.poll() is None
    assert engine.stop() == 0
    receiver.close()
