"""The four programs' metrics together (docs/observability.md): the whole pipeline's counters
agree with each other; the Grafana dashboard and the documentation name only metrics that the
real programs serve, and the documentation names every one they serve, with its type and labels;
the Prometheus scrape config is the documented one; scripts/run.sh serves all four."""
import json
import os
import re
import signal
import socket
import subprocess

import pytest
import yaml

from harness import SOURCE, free_port, program, wait_listening, wait_port, wait_until
from scrape import documented as scrape_docs, scrape

DOC = SOURCE / "docs" / "observability.md"
GRAFANA = SOURCE / "docs" / "grafana-dashboard.json"
PROMETHEUS_YML = SOURCE / "docs" / "prometheus.yml"


class Pipeline:
    """Our four programs, each serving metrics, the client reading a pipe."""

    def __init__(self, procs, tmp_path, *engine_args):
        self.ports = {name: free_port() for name in ("dashboard", "receiver", "engine", "client_metrics",
                                                     "receiver_metrics", "engine_metrics")}
        p = self.ports
        self.dashboard = procs("dashboard", [program("dashboard_server"), "--port", str(p["dashboard"])])
        wait_listening(p["dashboard"], proc=self.dashboard)
        self.receiver = procs("receiver", [
            program("socket_receiver"), "--listen", f"127.0.0.1:{p['receiver']}", "--dashboard",
            f"http://127.0.0.1:{p['dashboard']}/updateDashboard", "--metrics", f"127.0.0.1:{p['receiver_metrics']}"])
        wait_listening(p["receiver"], proc=self.receiver)
        self.engine = procs("engine", [
            program("engine"), "--in", f"127.0.0.1:{p['engine']}", "--out", f"127.0.0.1:{p['receiver']}",
            "--metrics", f"127.0.0.1:{p['engine_metrics']}", "--state-dir", str(tmp_path / "state"), *engine_args])
        wait_listening(p["engine"], proc=self.engine)
        read_fd, write_fd = os.pipe()
        with os.fdopen(read_fd, "rb") as stdin:
            self.client = procs("client", [
                program("twitter_client"), "--source", "stdin", "--engine", f"127.0.0.1:{p['engine']}",
                "--metrics", f"127.0.0.1:{p['client_metrics']}"], stdin=stdin)
        self.feed = os.fdopen(write_fd, "wb", buffering=0)
        for name in ("engine_metrics", "receiver_metrics", "client_metrics"):
            wait_port(p[name])

    def scrapes(self):
        """The four programs' scrapes, by program."""
        p = self.ports
        return {"engine": scrape(p["engine_metrics"]), "twitter_client": scrape(p["client_metrics"]),
                "socket_receiver": scrape(p["receiver_metrics"]), "dashboard_server": scrape(p["dashboard"])}


def documented():
    """{metric name: (type, labels cell)} of docs/observability.md, but the engine --kafka section."""
    return scrape_docs(DOC)


def family_of(name, kind):
    """The family name the text parser gives a documented metric (counters lose _total)."""
    return name[:-len("_total")] if kind == "counter" else name


def test_the_programs_counters_agree_with_each_other(procs, tmp_path):
    p = Pipeline(procs, tmp_path)
    texts = [f"tweet {i} #t{i % 7} #all" for i in range(300)] + ["no hashtag here"] * 20
    p.feed.write("".join(t + "\n" for t in texts).encode())
    hashtags = sum(t.count("#") for t in texts)

    def quiet():
        s = p.scrapes()
        e, c, r, d = s["engine"], s["twitter_client"], s["socket_receiver"], s["dashboard_server"]
        received = r.value("trend_socket_receiver_records_received_total")
        done = (c.value("trend_twitter_client_tweets_sent_total") == len(texts)
                and e.value("trend_engine_records_total") == hashtags == received
                and r.value("trend_socket_receiver_records_forwarded_total")
                + r.value("trend_socket_receiver_records_superseded_total") == received
                and d.value("trend_dashboard_server_updates_total") == r.value("trend_socket_receiver_records_forwarded_total"))
        return s if done else None
    s = wait_until(quiet, timeout=60, message="the pipeline to settle with every count in agreement")
    e, c, r, d = s["engine"], s["twitter_client"], s["socket_receiver"], s["dashboard_server"]
    assert c.value("trend_twitter_client_tweets_read_total") == e.value("trend_engine_tweets_total") == len(texts)
    assert e.value("trend_engine_hashtags_total") == hashtags
    assert e.value("trend_engine_distinct_hashtags") == 8
    assert e.value("trend_engine_connections_total") == 1
    assert r.value("trend_socket_receiver_records_malformed_total") == 0
    assert r.value("trend_socket_receiver_connections_total") == 1
    assert r.value("trend_socket_receiver_post_duration_seconds_count", outcome="delivered") == \
        d.value("trend_dashboard_server_requests_total", route="/updateDashboard", status="201") == \
        d.value("trend_dashboard_server_updates_total")
    # The durable state logged every tweet, hashtag or not.
    assert wait_until(lambda: scrape(p.ports["engine_metrics"]).value("trend_engine_state_durable_lsn") == len(texts),
                      timeout=10, message="the log to be durable")
    p.feed.close()
    assert p.client.popen.wait(30) == 0


def test_the_documentation_names_every_metric_served_and_only_those(procs, tmp_path):
    p = Pipeline(procs, tmp_path, "--window", "1m")
    p.feed.write(b"one #a\ntwo #b #a\n")
    wait_until(lambda: scrape(p.ports["engine_metrics"]).value("trend_engine_tweets_total") == 2, message="two tweets")
    docs = documented()
    served = {}  # family name -> (type, label names, {label: values})
    for program_name, s in p.scrapes().items():
        for (name, labels), _ in s.samples.items():
            family = next(f for f in (name, name[:-6] if name.endswith("_total") else None,
                                      re.sub(r"_(bucket|sum|count)$", "", name)) if f in s.types)
            assert family.startswith(f"trend_{program_name}_"), f"{name} served by {program_name}"
            kind, names, values = served.setdefault(family, (s.types[family], set(), {}))
            for k, v in dict(labels).items():
                if k != "le":
                    names.add(k)
                    values.setdefault(k, set()).add(v)
    documented_families = {family_of(name, kind): (name, kind, cell) for name, (kind, cell) in docs.items()}
    assert set(served) == set(documented_families), (
        f"served, not documented: {sorted(set(served) - set(documented_families))}; "
        f"documented, not served: {sorted(set(documented_families) - set(served))}")
    for family, (kind, names, values) in served.items():
        name, doc_kind, cell = documented_families[family]
        assert kind == doc_kind, f"{name} is a {kind}, documented as a {doc_kind}"
        for label in names:
            assert f"`{label}`" in cell, f"label {label} of {name} is not documented"
        for label in ("reason", "outcome", "route"):
            for value in values.get(label, ()):
                assert f"`{value}`" in cell, f"{name}{{{label}=\"{value}\"}} is not documented"
        if not names:
            assert cell.strip() == "", f"{name} has no labels but the documentation lists '{cell}'"


def test_the_grafana_dashboard_parses_and_queries_only_metrics_that_exist(procs, tmp_path):
    dash = json.loads(GRAFANA.read_text())
    panels = [panel for panel in dash["panels"] if panel["type"] != "row"]
    assert dash["uid"] and dash["title"] and len(panels) >= 8
    assert len({panel["id"] for panel in dash["panels"]}) == len(dash["panels"])
    assert [v["name"] for v in dash["templating"]["list"]] == ["datasource"]
    p = Pipeline(procs, tmp_path)
    p.feed.write(b"one #a\n")
    wait_until(lambda: scrape(p.ports["engine_metrics"]).value("trend_engine_tweets_total") == 1, message="a tweet")
    names = set().union(*(s.names() for s in p.scrapes().values()))
    queried = set()
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert 0 <= panel["gridPos"]["x"] and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].count("(") == target["expr"].count(")"), target["expr"]
            found = set(re.findall(r"\btrend_[a-z0-9_]+", target["expr"]))
            assert found, f"{panel['title']}: {target['expr']} names no metric"
            missing = found - names
            assert not missing, f"panel '{panel['title']}' queries {sorted(missing)}, which no program serves"
            queried |= found
    # Every program has a say on the board.
    for program_name in ("engine", "twitter_client", "socket_receiver", "dashboard_server"):
        assert any(q.startswith(f"trend_{program_name}_") for q in queried), program_name


def test_the_scrape_config_is_the_documented_one_for_run_sh_addresses():
    text = DOC.read_text()
    block = re.search(r"<!-- prometheus.yml:begin -->\n```yaml\n(.*?)```\n<!-- prometheus.yml:end -->", text, re.S)
    assert block and block.group(1) == PROMETHEUS_YML.read_text()
    config = yaml.safe_load(PROMETHEUS_YML.read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets == {"engine": ["127.0.0.1:5001"], "twitter_client": ["127.0.0.1:5002"],
                       "dashboard_server": ["127.0.0.1:5003"], "socket_receiver": ["127.0.0.1:5004"]}
    run_sh = (SOURCE / "scripts" / "run.sh").read_text()
    for default in ("ENGINE_METRICS_PORT:-5001", "CLIENT_METRICS_PORT:-5002", "RECEIVER_METRICS_PORT:-5004",
                    "DASHBOARD_PORT:-5003"):
        assert default in run_sh


def test_run_sh_serves_the_four_programs_metrics(tmp_path):
    ports = {name: free_port() for name in ("DASHBOARD_PORT", "RECEIVER_PORT", "ENGINE_PORT", "ENGINE_METRICS_PORT",
                                            "CLIENT_METRICS_PORT", "RECEIVER_METRICS_PORT")}
    env = dict(os.environ, LOG_DIR=str(tmp_path / "logs"), BUILD_DIR=str(program("engine")).rsplit("/bin/", 1)[0],
               **{k: str(v) for k, v in ports.items()})
    run = subprocess.Popen([str(SOURCE / "scripts" / "run.sh"), "--no-build", "--", "--rate", "500"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _serving(ports["CLIENT_METRICS_PORT"]), timeout=30, message="the client's metrics")
        scrapes = {name: scrape(ports[name]) for name in ("ENGINE_METRICS_PORT", "CLIENT_METRICS_PORT",
                                                            "RECEIVER_METRICS_PORT", "DASHBOARD_PORT")}
        wait_until(lambda: scrape(ports["DASHBOARD_PORT"]).value("trend_dashboard_server_updates_total") > 0,
                   timeout=30, message="updates reaching the dashboard")
        assert scrapes["ENGINE_METRICS_PORT"].labels("trend_engine_settings_info")[0]["window"] == "0"
        assert scrapes["CLIENT_METRICS_PORT"].labels("trend_twitter_client_source_info") == [
            {"source": "synthetic", "delivery": "plain"}]
        assert "trend_socket_receiver_records_received_total" in scrapes["RECEIVER_METRICS_PORT"].names()
    finally:
        run.send_signal(signal.SIGINT)
        out = run.communicate(timeout=60)[0].decode()
    assert run.returncode == 0, out
    assert f"http://127.0.0.1:{{{ports['ENGINE_METRICS_PORT']},{ports['CLIENT_METRICS_PORT']}," in out, out
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", ports["ENGINE_METRICS_PORT"]), timeout=1)


def _serving(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
