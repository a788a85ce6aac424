"""Feeding the engine by hand with Debian's netcat-openbsd, as README shows."""
import shutil
import subprocess
import sys

import pytest

import harness
from harness import COMPAT

sys.path.insert(0, str(COMPAT))
import reference  # noqa: E402


def netcat():
    nc = shutil.which("nc")
    if nc is None:
        pytest.skip("nc not found: install netcat-openbsd (scripts/setup.sh)")
    usage = subprocess.run([nc, "-h"], capture_output=True, text=True).stderr
    if "OpenBSD" not in usage:
        pytest.skip(f"{nc} is not netcat-openbsd (its -q1 is what README uses)")
    return nc


def start_connected_engine(procs, receiver, *extra):
    engine, in_port = harness.start_engine(procs, receiver.port, *extra)
    receiver.wait_connected_and_settled()
    return engine, in_port


def test_printf_into_nc_gives_one_record(procs):
    netcat()
    receiver = reference.RecordListener()
    engine, port = start_connected_engine(procs, receiver)
    subprocess.run(f"printf '00016Hello #everyone\\n' | nc -q1 127.0.0.1 {port}", shell=True, check=True, timeout=30)
    records = receiver.wait_records(1)
    assert records == [b"{'label': \"['#everyone']\", 'data': '[1]'};;\n"]
    assert engine.poll() is None
    receiver.close()


def test_lines_format_takes_typed_lines(procs):
    netcat()
    receiver = reference.RecordListener()
    engine, port = start_connected_engine(procs, receiver, "--input-format", "lines")
    typed = "Hello #everyone\nhi #everyone #now\r\n#café ok\n"
    subprocess.run(f"printf '{typed}' | nc -q1 127.0.0.1 {port}".replace("\n", "\\n").replace("\r", "\\r"),
                   shell=True, check=True, timeout=30)
    expected = reference.records_for_payloads(reference.line_payloads(typed.encode()))
    assert expected == [
        b"{'label': \"['#everyone']\", 'data': '[1]'};;\n",
        b"{'label': \"['#everyone']\", 'data': '[2]'};;\n",
        b"{'label': \"['#everyone', '#now']\", 'data': '[2, 1]'};;\n",
        "{'label': \"['#everyone', '#now', '#café']\", 'data': '[2, 1, 1]'};;\n".encode(),
    ]
    records = receiver.wait_records(len(expected))
    assert reference.describe_difference(records, expected) is None
    assert engine.poll() is None
    receiver.close()
