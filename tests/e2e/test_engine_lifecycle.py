"""Start-up with machida's command line, and shutdown on SIGTERM/SIGINT with the records flushed."""
import re
import signal
import sys
import threading
import time

from harness import COMPAT, free_port, program, start_engine, wait_port

sys.path.insert(0, str(COMPAT))
import reference  # noqa: E402


def test_machidas_whole_command_line_is_accepted(procs):
    receiver = reference.RecordListener()
    in_port = free_port()
    engine = procs("engine", [program("engine"), *reference.machida_line(in_port, receiver.port)])
    wait_port(in_port, proc=engine)
    receiver.wait_connected_and_settled()
    reference.send_bytes(in_port, b"00016Hello #everyone\n")
    assert receiver.wait_records(1) == [b"{'label': \"['#everyone']\", 'data': '[1]'};;\n"]
    assert engine.stop() == 0
    mentions = [line for line in engine.log_text().splitlines() if "machida" in line.lower()]
    assert len(mentions) == 1, f"expected one start-up line about machida's options, got {mentions}"
    receiver.close()


def test_sigint_and_sigterm_exit_zero(procs):
    for sig in (signal.SIGINT, signal.SIGTERM):
        receiver = reference.RecordListener()
        engine, in_port = start_engine(procs, receiver.port)
        receiver.wait_connected_and_settled()
        reference.send_bytes(in_port, reference.frame_text("#one #two"))
        receiver.wait_records(2)
        assert engine.stop(sig, timeout=15) == 0, f"exit code after {sig.name}"
        receiver.close()


def test_sigterm_with_a_receiver_absent_exits_zero(procs):
    engine, in_port = start_engine(procs, free_port())
    reference.send_bytes(in_port, reference.frame_text("#kept #newest"))
    time.sleep(0.3)
    started = time.monotonic()
    assert engine.stop(signal.SIGTERM, timeout=15) == 0
    assert time.monotonic() - started < 10


def test_sigterm_flushes_every_record_already_made(procs):
    # A stalled receiver lets the engine fill its output buffer; SIGTERM arrives; then the
    # receiver reads. Every record of every hashtag the engine counted must arrive, whole.
    stream = reference.framed_stream(reference.heavy_output_texts(40000))  # ~30 MB of records
    expected = reference.records_for_payloads(reference.framed_payloads(stream), model="fast")
    receiver = reference.RecordListener(read=False, rcvbuf=64 * 1024)
    engine, in_port = start_engine(procs, receiver.port)
    receiver.wait_connected_and_settled()

    sender = threading.Thread(target=lambda: _send_ignoring_reset(in_port, stream), daemon=True)
    sender.start()
    time.sleep(2.0)  # the engine reads until its buffer is full, then stops reading
    engine.popen.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    receiver.start_reading()
    engine.popen.wait(20)
    assert engine.stop() == 0
    receiver.wait_ended()  # the engine closed its end; everything it wrote has been read
    data = receiver.data()
    assert data.endswith(b";;\n"), f"the last record is torn: ...{data[-80:]!r}"
    records = receiver.records()
    assert 0 < len(records) < len(expected), "the test needs a receiver that was behind at SIGTERM"
    problem = reference.describe_difference(records, expected[:len(records)])
    assert problem is None, problem
    stats = re.findall(r"hashtags=(\d+)", engine.log_text())
    assert stats, "the engine logged no final statistics line (hashtags=N)"
    counted = int(stats[-1])
    assert len(records) == counted, f"the engine counted {counted} hashtags but delivered {len(records)} records"
    sender.join(10)
    receiver.close()


def _send_ignoring_reset(port, data):
    try:
        reference.send_bytes(port, data)
    except OSError:
        pass  # the engine closes its sources on SIGTERM
