"""twitter_client frames every real tweet exactly as the Python 3 port of the original client.

Replay of every file in ../shared/data/tweets (and the raw stream captures with torn lines)
into a local socket playing the engine, compared byte for byte with
tests/compat/twitter_client_framing.py run on the same file.
"""
import json
import re
import subprocess
import sys

import pytest

from fake_twitter import EngineSink, parse_frames
from harness import ARTIFACTS, COMPAT, SHARED_DATA, program, python_compat

sys.path.insert(0, str(COMPAT))
import twitter_client_framing as port  # noqa: E402

TWEET_FILES = sorted(p.name for p in (SHARED_DATA / "tweets").glob("*.jsonl")) if (SHARED_DATA / "tweets").exists() else []
RAW_FILES = sorted("raw/" + p.name for p in (SHARED_DATA / "tweets" / "raw").glob("*")) if (SHARED_DATA / "tweets" / "raw").exists() else []


def replay(path, *extra, stdin=None):
    sink = EngineSink()
    argv = [program("twitter_client"), "--source", "replay" if stdin is None else "stdin", "--engine",
            f"127.0.0.1:{sink.port}", "--stats-interval", "0"]
    if stdin is None:
        argv += ["--file", str(path)]
    r = subprocess.run(argv + list(extra), input=stdin, capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    # The client closes only after every frame reached the kernel; wait for the reader to see EOF.
    sink.wait_all_ended()
    sink.close()
    return sink.data(), r.stderr.decode(errors="replace")


def port_frames(path, original=False):
    argv = python_compat("twitter_client_framing.py") + (["--original"] if original else []) + [str(path)]
    return subprocess.run(argv, capture_output=True, check=True, timeout=300).stdout


@pytest.mark.parametrize("name", TWEET_FILES + RAW_FILES or ["(no data)"])
def test_replay_framing_is_byte_identical_to_the_python_port(name):
    path = SHARED_DATA / "tweets" / name
    if not path.exists():
        pytest.skip(f"shared test data not found at {SHARED_DATA / 'tweets'}")
    want = port_frames(path)
    got, log = replay(path)
    assert len(want) > 0
    frames, left = parse_frames(got)
    assert left == b""
    assert got == want, f"{name}: {len(frames)} frames received, port made {len(parse_frames(want)[0])}"
    assert re.search(r"done: stats: .* lost=0$", log, re.M), log


@pytest.mark.parametrize("name", ["python-twitter.jsonl", "tweet_parser.jsonl", "raw/rtweet_stream-20210221173118.json"])
def test_original_text_mode_matches_the_original_choice_of_text(name):
    path = SHARED_DATA / "tweets" / name
    if not path.exists():
        pytest.skip(f"shared test data not found at {path}")
    want = port_frames(path, original=True)
    got, _ = replay(path, "--text", "original")
    assert got == want
    # The whole text differs from the truncated one for some of these tweets.
    assert got != port_frames(path) or name == "raw/rtweet_stream-20210221173118.json"


def test_torn_lines_are_skipped_and_counted():
    path = SHARED_DATA / "tweets" / "raw" / "rtweet_stream-20210221173118.json"
    if not path.exists():
        pytest.skip(f"shared test data not found at {path}")
    got, log = replay(path)
    frames, _ = parse_frames(got)
    assert len(frames) == 206  # the README's count of parsable tweets
    assert "85 torn or invalid lines skipped" in log
    assert "skipped=85 " in log


def test_stdin_lines_are_framed_as_the_original_frames_them():
    lines = ["Hello everyone!", "#cpp #world café", "", "  ", "it's #a\u200db", "x" * 99998, "y" * 99999, "last"]
    data = ("\r\n".join(lines[:3]) + "\n" + "\n".join(lines[3:])).encode()
    got, log = replay(None, stdin=data)
    assert got.startswith(b"00016Hello everyone!\n")
    want = b"".join(port.frame(t.encode()) for t in lines if t.strip() and len(t.encode()) < 99999)
    assert got == want
    assert "skipped a tweet of 99999 bytes" in log


def test_a_text_too_long_for_five_digits_is_skipped_with_a_log_line():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "client-long-tweet.jsonl"
    tweets = [{"text": "before #a"}, {"text": "é" * 50000}, {"full_text": "after #b"}]
    path.write_text("\n".join(json.dumps(t, ensure_ascii=False) for t in tweets) + "\n", encoding="utf-8")
    got, log = replay(path)
    assert got == port.frame(b"before #a") + port.frame(b"after #b")
    assert "skipped a tweet of 100000 bytes" in log
    assert "skipped=1 " in log
