"""The bench scripts write their own Summary rows: the rows read off the figures, and the docs file
rewritten so that each script replaces only what it owns (scripts/benchdoc.py)."""
import importlib.machinery
import importlib.util
import math
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import benchdoc  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
NAMES = ("bench-engine", "bench-client", "bench-e2e")


def load_script(name):
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(ROOT / "scripts" / name))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def committed_rows(name):
    return [line for line in DOC.read_text(encoding="utf-8").split("\n") if benchdoc.row_marker(name) in line]


def test_the_docs_hold_each_scripts_summary_rows_and_section():
    text = DOC.read_text(encoding="utf-8")
    for name in NAMES:
        assert text.count(f"<!-- {name}:begin -->") == 1 and text.count(f"<!-- {name}:end -->") == 1, name
        rows = committed_rows(name)
        assert rows, f"docs/benchmarks.md holds no Summary row of {name}"
        for row in rows:  # | goal | measured | verdict | day, `scripts/NAME` <marker> |
            cells = row.strip("|").split(" | ")
            assert len(cells) == 4 and cells[2].split(",")[0] in ("met", "not met"), row
            assert f"`scripts/{name}`" in cells[3], row


def test_the_engine_row_is_read_off_its_figures():
    # The figures of the run that docs/benchmarks.md shows (its bench-engine section).
    figures = [
        {"input": "real tweets x10", "engine_eps": 2_777_044, "distinct": 4_085, "port_eps": 1_865, "ratio": 1_489},
        {"input": "Zipf 3 tags/tweet, vocab 150k", "engine_eps": 3_790_281, "distinct": 119_127, "port_eps": 1_091,
         "ratio": 3_475},
    ]
    rows = load_script("bench-engine").summary_rows(figures, "2026-11-25")
    assert rows == ["| engine: 1,000,000 hashtag events/s on one core, per-event output, 100,000+ distinct hashtags | "
                    "3.8 M events/s with 119,127 distinct (2.8 M on real tweets); the pandas original: ~1,100-1,900 | "
                    "met, ~1,500-3,500x | 2026-11-25, `scripts/bench-engine` " + benchdoc.row_marker("bench-engine") + " |"]
    slow = [dict(f, engine_eps=900_000) for f in figures]
    assert "| not met, " in load_script("bench-engine").summary_rows(slow, "2026-11-25")[0]


def test_the_client_row_is_read_off_its_figures():
    rows = [("synthetic --rate 0", {"tps": 5_258_268}), ("replay --loop rtweet.jsonl", {"tps": 57_617})]
    bench = load_script("bench-client")
    assert bench.summary_rows(rows, "2026-11-25") == [
        "| client: 1,000,000 tweets/s synthetic on one core | 5.3 M tweets/s | met | 2026-11-25, `scripts/bench-client` "
        + benchdoc.row_marker("bench-client") + " |"]
    assert "| not met |" in bench.summary_rows([("synthetic --rate 0", {"tps": 999_999})], "2026-11-25")[0]


def e2e_load(rate, freshness, read_tweets_per_s=0.0, cpu=None):
    return {"rate": rate, "freshness": freshness, "read_tweets_per_s": read_tweets_per_s, "cpu": cpu or {}}


def test_the_pipeline_row_is_read_off_its_figures():
    results = [
        ("ours", e2e_load(1_000, [0.003] * 49)),
        ("ours", e2e_load(100_000, [0.004] * 25 + [0.005] * 24)),
        ("ours", e2e_load(None, [0.111] * 49, 1_036_852,
                          {"engine": 99, "socket_receiver": 31, "dashboard_server": 9, "poller": 3, "load generator": 2})),
        ("all-Python", e2e_load(100, [0.036] * 49)),
        ("all-Python", e2e_load(300, [4.254] * 49)),
        ("all-Python", e2e_load(1_000, [0.5] * 5 + [math.inf] * 44)),
    ]
    bench = load_script("bench-e2e")
    rows = bench.summary_rows(results, 10.0, "2026-11-25")
    assert len(rows) == 1 and "| met |" in rows[0] and "p50 4 ms, p99 5 ms at 100,000 tweets/s" in rows[0], rows
    late = [(k, dict(r, freshness=[0.2] * 49) if r["rate"] == 100_000 else r) for k, r in results]
    assert "| not met |" in bench.summary_rows(late, 10.0, "2026-11-25")[0]


def without(name, text):
    """`text` less NAME's section and Summary row."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = text[:text.index(begin)] + text[text.index(end) + len(end):]
    return "\n".join(line for line in text.split("\n") if benchdoc.row_marker(name) not in line)


def test_a_script_rewrites_its_own_row_and_section_and_nothing_else(tmp_path):
    doc = tmp_path / "benchmarks.md"
    original = DOC.read_text(encoding="utf-8")
    doc.write_text(original, encoding="utf-8")
    row = benchdoc.summary_row("bench-client", "client: goal", "9.9 M tweets/s", "met", "2030-01-01")
    benchdoc.write(str(doc), "bench-client", "## twitter_client\n\nnew figures", [row])
    text = doc.read_text(encoding="utf-8")
    assert without("bench-client", text) == without("bench-client", original)
    assert text.split("\n").count(row) == 1
    assert "<!-- bench-client:begin -->\n## twitter_client\n\nnew figures\n<!-- bench-client:end -->" in text
    # The row stays where it was: engine, client, pipeline.
    assert text.index("bench-engine:summary") < text.index("bench-client:summary") < text.index("bench-e2e:summary")


def test_rows_and_sections_are_added_when_missing():
    text = benchdoc.replace_summary_rows("# Benchmarks\n\nintro\n\n## engine\n", "bench-e2e", ["| e2e |"])
    assert text.index(benchdoc.SUMMARY_BEGIN) < text.index("## engine")
    assert "\n".join([benchdoc.SUMMARY_BEGIN, *benchdoc.SUMMARY_HEADER, "| e2e |", benchdoc.SUMMARY_END]) in text
    row = benchdoc.summary_row("bench-engine", "g", "m", "v", "d")
    text = benchdoc.replace_summary_rows(text, "bench-engine", [row])
    assert text.index("| e2e |") < text.index(row) < text.index(benchdoc.SUMMARY_END)
    text = benchdoc.replace_section(text, "bench-engine", "table", "## engine (scripts/bench-engine)")
    assert text.endswith("## engine (scripts/bench-engine)\n\n<!-- bench-engine:begin -->\ntable\n<!-- bench-engine:end -->\n")
    assert benchdoc.replace_section(text, "bench-engine", "other", None).count("<!-- bench-engine:begin -->") == 1


