"""Compatibility with the Python 3 ports of the tutorial's programs (tests/compat): our receiver
feeding the original Flask app, the original receiver feeding our dashboard; both show the same
top-10, and a Python 2 style record shows #café."""
import socket

import pytest
import requests

from harness import free_port, program, python_compat, wait_port, wait_until

PY3_RECORDS = [
    b"{'label': \"['#world', '#cpp']\", 'data': '[1, 1]'};;\n",
    "{'label': '[\\'#cpp\\', \\'#world\\', \\'#café\\', \"#it\\'s\"]', 'data': '[2, 1, 1, 1]'};;\n".encode(),
    b"{'label': \"['#cpp', '#a\\\\u200db']\", 'data': '[3, 1]'};;\n",
]
EXPECTED_PY3 = {"r_hashtags": ["#cpp", "#a\u200db"], "r_counts": [3, 1]}
PY2_RECORD = b"{'data': '[3, 1, 2]', 'label': '[\\'#foo\\', \\'#caf\\\\xc3\\\\xa9\\', \"#it\\'s\"]'};;\n"
EXPECTED_PY2 = {"r_hashtags": ["#foo", "#café", "#it's"], "r_counts": [3, 1, 2]}


def flask_app(procs):
    try:
        import flask  # noqa: F401
    except ImportError:
        pytest.skip("python3-flask is not installed (scripts/setup.sh installs it)")
    port = free_port()
    p = procs("compat-app", python_compat("app.py") + [str(port)])
    wait_port(port, proc=p, timeout=20)
    return port


def our_dashboard(procs):
    port = free_port()
    p = procs("dashboard_server", [program("dashboard_server"), "--port", str(port)])
    wait_port(port, proc=p)
    return port


def our_receiver(procs, dashboard_port):
    port = free_port()
    p = procs("socket_receiver", [program("socket_receiver"), "--listen", f"127.0.0.1:{port}",
                                  "--dashboard", f"http://127.0.0.1:{dashboard_port}/updateDashboard"])
    wait_port(port, proc=p)
    return port


def python_receiver(procs, dashboard_port):
    port = free_port()
    p = procs("compat-receiver", python_compat("socket_receiver.py") +
              [str(port), f"http://localhost:{dashboard_port}/updateDashboard"])
    # The original accepts exactly one connection: wait for its log line, not for the port.
    wait_until(lambda: "Waiting for TCP connection" in p.log_text(), timeout=20, message="the Python receiver")
    return port


def board(port):
    try:
        return requests.get(f"http://localhost:{port}/refreshDashboard", timeout=5).json()
    except requests.RequestException:
        return None


def feed(port, records):
    with socket.create_connection(("127.0.0.1", port)) as engine:
        for r in records:
            engine.sendall(r)


def test_our_receiver_feeding_the_original_app_and_the_original_receiver_feeding_ours_agree(procs):
    app_port = flask_app(procs)
    feed(our_receiver(procs, app_port), PY3_RECORDS)
    wait_until(lambda: board(app_port) == EXPECTED_PY3, message="the Flask app showing the last record")

    dash_port = our_dashboard(procs)
    feed(python_receiver(procs, dash_port), PY3_RECORDS)
    wait_until(lambda: board(dash_port) == EXPECTED_PY3, message="our dashboard showing the last record")
    assert board(app_port) == board(dash_port)


def test_a_python2_record_through_our_receiver_shows_cafe_in_the_original_app(procs):
    app_port = flask_app(procs)
    feed(our_receiver(procs, app_port), [PY2_RECORD])
    wait_until(lambda: board(app_port) == EXPECTED_PY2, message="#café in the Flask app")


def test_a_python2_record_through_our_receiver_shows_cafe_on_our_dashboard(procs):
    dash_port = our_dashboard(procs)
    feed(our_receiver(procs, dash_port), [PY2_RECORD])
    wait_until(lambda: board(dash_port) == EXPECTED_PY2, message="#café on our dashboard")


def test_the_original_receiver_under_python3_garbles_a_python2_record_the_same_for_both_dashboards(procs):
    # Its replace("\\\\", "\\") turns '\\xc3\\xa9' into '\xc3\xa9', which Python 3's literal_eval
    # reads as the two characters U+00C3 U+00A9: the label arrives as real text '#cafÃ©', so no
    # dashboard can know it was UTF-8. Ours shows exactly what the original app shows; our
    # receiver is the fix (the tests above).
    garbled = {"r_hashtags": ["#foo", "#caf\u00c3\u00a9", "#it's"], "r_counts": [3, 1, 2]}
    app_port = flask_app(procs)
    feed(python_receiver(procs, app_port), [PY2_RECORD])
    wait_until(lambda: board(app_port) == garbled, message="the Flask app's board")
    dash_port = our_dashboard(procs)
    feed(python_receiver(procs, dash_port), [PY2_RECORD])
    wait_until(lambda: board(dash_port) == garbled, message="our dashboard's board")
