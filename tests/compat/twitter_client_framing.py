#!/usr/bin/python3
"""Python 3 port of the framing of the original twitter_client.py (Wallaroo tutorial, 2017).

The original did, for each line of the stream:

    full_tweet = json.loads(line)
    if 'text' in full_tweet:
        tweet_text = full_tweet['text'].encode('utf-8')
        tcp_connection.sendall(str(len(tweet_text)+1).zfill(5) + tweet_text + '\\n')

with a bare `except:` that skipped any line that failed. `--original` keeps that choice of
text (top-level `text` only); the default reads the whole text the way the C++ client does
(v1.1 extended_tweet.full_text, full_text, text; v2 data.note_tweet.text, data.text).
Texts whose frame would not fit 5 digits are skipped (the original sent a 6-digit header).

Usage: twitter_client_framing.py [--original] FILE [FILE...]   (frames on stdout; FILE '-' = stdin)
Lines end at '\\n' ('\\r\\n' too); blank lines are stream keep-alives. Also importable:
frame_lines(lines, original=False) -> bytes.
"""
import json
import sys

MAX_PAYLOAD = 99999


def tweet_text(full_tweet, original=False):
    """The text the client forwards, or None when the message is not a tweet."""
    if not isinstance(full_tweet, dict):
        return None

    def string_at(obj, *path):
        for key in path:
            if not isinstance(obj, dict) or key not in obj:
                return None
            obj = obj[key]
        return obj if isinstance(obj, str) else None

    if original:
        return string_at(full_tweet, "text")
    for path in (("extended_tweet", "full_text"), ("full_text",), ("text",),
                 ("data", "note_tweet", "text"), ("data", "text")):
        text = string_at(full_tweet, *path)
        if text is not None:
            return text
    return None


def frame(text_bytes):
    """The original frame: 5-digit length counting the newline, the text, a newline."""
    return str(len(text_bytes) + 1).zfill(5).encode("ascii") + text_bytes + b"\n"


def split_lines(data):
    """Lines of a byte stream: '\\n' ends a line, a '\\r' before it is dropped."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def frame_lines(lines, original=False):
    out = []
    for line in lines:
        if not line.strip(b" \t\r"):
            continue  # keep-alive
        try:
            text = tweet_text(json.loads(line), original)
            if text is None:
                continue
            text_bytes = text.encode("utf-8")
        except Exception:  # the original's bare except: the line is skipped
            continue
        if len(text_bytes) + 1 > MAX_PAYLOAD:
            continue
        out.append(frame(text_bytes))
    return b"".join(out)


def main(argv):
    original = "--original" in argv
    files = [a for a in argv if a != "--original"]
    if not files:
        sys.exit(__doc__)
    for name in files:
        data = sys.stdin.buffer.read() if name == "-" else open(name, "rb").read()
        sys.stdout.buffer.write(frame_lines(split_lines(data), original))


if __name__ == "__main__":
    main(sys.argv[1:])
