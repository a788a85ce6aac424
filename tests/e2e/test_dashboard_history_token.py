"""dashboard_server's history and update token (issue 15), over real HTTP with real processes:
GET /history never holds more than the span allows, the newest update of each second wins;
with a token, POST /updateDashboard answers 401 without it and 201 with it while reading stays
open; socket_receiver delivers with the token from DASHBOARD_TOKEN or a mode-600 --token-file;
a non-loopback --host without a token refuses to start and names both ways out; the token is
never logged; GET /config carries the subtitle as text."""
import os
import socket
import time

import pytest
import requests

from harness import free_port, program, wait_port, wait_until

TOKEN = "t0k3n-for-tests_only.9f8e7d"


def start_dashboard(procs, *extra, env=None):
    port = free_port()
    p = procs("dashboard_server", [program("dashboard_server"), "--port", str(port), *extra], env=env)
    wait_port(port, proc=p)
    return p, f"http://127.0.0.1:{port}"


def start_receiver(procs, dashboard_url, *extra, env=None):
    port = free_port()
    p = procs("socket_receiver", [program("socket_receiver"), "--listen", f"127.0.0.1:{port}",
                                  "--dashboard", dashboard_url + "/updateDashboard", *extra], env=env)
    wait_port(port, proc=p)
    return p, port


def no_token_env():
    """The environment without DASHBOARD_TOKEN, whatever the caller's holds."""
    return {"DASHBOARD_TOKEN": ""}


def engine_record(labels, counts):
    return (str({"label": str(labels), "data": str(counts)}) + ";;\n").encode()


def board(url):
    return requests.get(url + "/refreshDashboard", timeout=5).json()


# ---- history ------------------------------------------------------------------------------------

def test_history_never_holds_more_than_the_span_and_the_newest_of_each_second_wins(procs):
    _, url = start_dashboard(procs, "--history", "3s", env=no_token_env())
    assert requests.get(url + "/history", timeout=5).json() == []
    for i in range(12):  # about 6 s of updates, two a second
        r = requests.post(url + "/updateDashboard", data={"label": "['#a', '#b']", "data": f"[{i}, 1]"}, timeout=5)
        assert r.status_code == 201
        history = requests.get(url + "/history", timeout=5).json()
        seconds = [s["t"] // 1000 for s in history]
        assert len(history) <= 3, history
        assert seconds == sorted(set(seconds)), "one snapshot per second, oldest first"
        assert all(seconds[-1] - s < 3 for s in seconds), history
        time.sleep(0.5)
    # The snapshot of the last second is its newest update (the shared body is at most 1 s old).
    wait_until(lambda: requests.get(url + "/history", timeout=5).json()[-1]["r_counts"] == [11, 1], timeout=3,
               message="the newest update in the last snapshot")
    last = requests.get(url + "/history", timeout=5).json()[-1]
    assert set(last) == {"t", "r_hashtags", "r_counts"} and last["r_hashtags"] == ["#a", "#b"]
    # With no update for longer than the span, the history is empty.
    wait_until(lambda: requests.get(url + "/history", timeout=5).json() == [], timeout=6, interval=0.25,
               message="the span passing with no update")


def test_a_history_snapshot_keeps_the_top_10_and_absurd_spans_are_refused(procs):
    _, url = start_dashboard(procs, env=no_token_env())
    labels = [f"#t{i}" for i in range(25)]
    requests.post(url + "/updateDashboard", json={"label": labels, "data": list(range(25, 0, -1))}, timeout=5)
    history = requests.get(url + "/history", timeout=5).json()
    assert history[0]["r_hashtags"] == labels[:10]
    assert board(url)["r_hashtags"] == labels  # the board itself stays whole
    for span in ("0", "500ms", "2h", "15", "forever"):
        p = procs("dashboard_server", [program("dashboard_server"), "--port", str(free_port()), "--history", span])
        assert p.popen.wait(10) == 2, span
        assert "--history" in p.log_text()


# ---- the token ----------------------------------------------------------------------------------

def test_with_a_token_updates_need_it_and_reading_stays_open(procs):
    dash, url = start_dashboard(procs, env={"DASHBOARD_TOKEN": TOKEN})
    form = {"label": "['#x']", "data": "[1]"}
    r = requests.post(url + "/updateDashboard", data=form, timeout=5)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in r.text
    for wrong in ("Bearer nope", "Bearer " + TOKEN[:-1], "Basic " + TOKEN, TOKEN, "Bearer " + TOKEN + "x"):
        assert requests.post(url + "/updateDashboard", data=form, headers={"Authorization": wrong},
                             timeout=5).status_code == 401, wrong
    assert board(url) == {"r_hashtags": [], "r_counts": []}, "a refused update changed the board"
    r = requests.post(url + "/updateDashboard", data=form, headers={"Authorization": "Bearer " + TOKEN}, timeout=5)
    assert (r.status_code, r.text) == (201, "success")
    r = requests.post(url + "/updateDashboard", json={"label": ["#y"], "data": [2]},
                      headers={"Authorization": "bearer " + TOKEN}, timeout=5)
    assert r.status_code == 201
    # Reading needs no token.
    assert board(url) == {"r_hashtags": ["#y"], "r_counts": [2]}
    for path in ("/", "/static/app.js", "/history", "/config", "/healthz", "/favicon.ico"):
        assert requests.get(url + path, timeout=5).status_code == 200, path
    with requests.get(url + "/events", stream=True, timeout=5) as events:
        assert events.status_code == 200
        assert b"#y" in next(events.iter_content(4096))
    dash.stop()
    log = dash.log_text()
    assert TOKEN not in log and TOKEN[:-1] not in log
    assert "401" in log and "updates need the token" in log
    assert "unauthorized=6" in log  # the stats line at exit


def test_the_receiver_delivers_with_the_token_from_its_environment(procs):
    dash, url = start_dashboard(procs, env={"DASHBOARD_TOKEN": TOKEN})
    recv, rport = start_receiver(procs, url, env={"DASHBOARD_TOKEN": TOKEN})
    with socket.create_connection(("127.0.0.1", rport)) as engine:
        engine.sendall(engine_record(["#with", "#token"], [2, 1]))
        wait_until(lambda: board(url) == {"r_hashtags": ["#with", "#token"], "r_counts": [2, 1]}, timeout=10,
                   message="the record on the dashboard")
    recv.stop()
    dash.stop()
    for p in (recv, dash):
        assert TOKEN not in p.log_text()
    assert "forwarded=1" in recv.log_text() and "rejected=0" in recv.log_text()
    assert "unauthorized=0" in dash.log_text()


def test_the_receiver_delivers_with_a_mode_600_token_file_and_refuses_one_others_can_read(procs, tmp_path):
    dash, url = start_dashboard(procs, env={"DASHBOARD_TOKEN": TOKEN})
    token_file = tmp_path / "dashboard-token"
    token_file.write_text(TOKEN + "\n")
    os.chmod(token_file, 0o644)
    p = procs("socket_receiver", [program("socket_receiver"), "--listen", f"127.0.0.1:{free_port()}",
                                  "--dashboard", url + "/updateDashboard", "--token-file", str(token_file)],
              env=no_token_env())
    assert p.popen.wait(10) == 2
    assert "chmod 600" in p.log_text() and TOKEN not in p.log_text()
    os.chmod(token_file, 0o600)
    # The file wins over a wrong DASHBOARD_TOKEN.
    recv, rport = start_receiver(procs, url, "--token-file", str(token_file), env={"DASHBOARD_TOKEN": "wrong"})
    with socket.create_connection(("127.0.0.1", rport)) as engine:
        engine.sendall(engine_record(["#from_file"], [7]))
        wait_until(lambda: board(url) == {"r_hashtags": ["#from_file"], "r_counts": [7]}, timeout=10,
                   message="the record on the dashboard")
    assert TOKEN not in recv.log_text()
    # The dashboard takes its token from a file the same way.
    dash2, url2 = start_dashboard(procs, "--token-file", str(token_file), env=no_token_env())
    assert requests.post(url2 + "/updateDashboard", data={"label": "['#f']", "data": "[1]"},
                         timeout=5).status_code == 401
    assert requests.post(url2 + "/updateDashboard", data={"label": "['#f']", "data": "[1]"},
                         headers={"Authorization": "Bearer " + TOKEN}, timeout=5).status_code == 201
    assert TOKEN not in dash2.log_text()


def test_a_receiver_without_the_token_is_refused_and_says_so_once(procs):
    dash, url = start_dashboard(procs, env={"DASHBOARD_TOKEN": TOKEN})
    recv, rport = start_receiver(procs, url, env=no_token_env())
    with socket.create_connection(("127.0.0.1", rport)) as engine:
        for i in range(5):
            engine.sendall(engine_record(["#no_token"], [i]))
            time.sleep(0.2)
        wait_until(lambda: "HTTP 401" in recv.log_text(), timeout=10, message="the receiver noticing the 401")
    recv.stop()
    log = recv.log_text()
    assert log.count("HTTP 401") == 1, log
    assert "DASHBOARD_TOKEN" in log and "--token-file" in log
    assert board(url) == {"r_hashtags": [], "r_counts": []}


def test_the_python_receiver_and_our_dashboard_still_work_together_without_a_token(procs):
    from harness import python_compat, wait_listening
    _, url = start_dashboard(procs, env=no_token_env())
    rport = free_port()
    recv = procs("socket_receiver.py", python_compat("socket_receiver.py") + [str(rport), url + "/updateDashboard"])
    wait_listening(rport, proc=recv)  # it accepts one connection only: no probe
    with socket.create_connection(("127.0.0.1", rport)) as engine:
        engine.sendall(engine_record(["#original"], [3]))
        wait_until(lambda: board(url) == {"r_hashtags": ["#original"], "r_counts": [3]}, timeout=10,
                   message="the original receiver's POST")


# ---- refusing to start exposed ------------------------------------------------------------------

@pytest.mark.parametrize("where", [["--host", "0.0.0.0"], ["--listen", "[::]:0"]])
def test_a_non_loopback_address_without_a_token_refuses_to_start_naming_both_ways_out(procs, where):
    argv = [program("dashboard_server"), *where]
    if where[0] == "--host":
        argv += ["--port", str(free_port())]
    else:
        argv[-1] = f"[::]:{free_port()}"
    p = procs("dashboard_server", argv, env=no_token_env())
    assert p.popen.wait(10) == 2
    log = p.log_text()
    assert "not a loopback address" in log
    assert "DASHBOARD_TOKEN" in log and "--token-file" in log and "--allow-anonymous-updates" in log


def test_a_non_loopback_address_starts_with_a_token_or_when_anonymous_updates_are_allowed(procs):
    for extra, env in ((["--allow-anonymous-updates"], no_token_env()), ([], {"DASHBOARD_TOKEN": TOKEN})):
        port = free_port()
        p = procs("dashboard_server", [program("dashboard_server"), "--host", "0.0.0.0", "--port", str(port), *extra],
                  env=env)
        wait_port(port, proc=p)
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["status"] == "ok"
        p.stop()
        assert ("open to anyone" in p.log_text()) == bool(extra)
        assert TOKEN not in p.log_text()


# ---- the page's settings ------------------------------------------------------------------------

def test_config_gives_the_subtitle_as_text_and_the_spans(procs):
    subtitle = "last 5 minutes, trend score </p><script>alert(1)</script>"
    _, url = start_dashboard(procs, "--subtitle", subtitle, "--history", "5m", "--stale-after", "30s",
                             env=no_token_env())
    r = requests.get(url + "/config", timeout=5)
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"subtitle": subtitle, "history_ms": 300000, "stale_after_ms": 30000}
    page = requests.get(url + "/", timeout=5).text
    assert "alert(1)" not in page  # the page itself never carries it
