#!/usr/bin/python3
"""A local fake of a Mastodon instance's streaming API for the twitter_client tests.

Run as a program: fake_mastodon.py --port P --script STEPS [--tls CERT KEY] [--token T]
It prints one JSON event per line on stdout ({"event": "listening", "port": P} first) and serves
  GET /api/v1/streaming/public, /api/v1/streaming/public/local, /api/v1/streaming/hashtag?tag=T
as Server-Sent Events with chunked transfer. With --token, a request without
"Authorization: Bearer T" gets a 401 with Mastodon's error body.

The statuses (STATUSES, also imported by the tests, each with the text a reader sees) carry HTML
with hashtags, mentions, links and entities; the stream mixes them with boosts, deletes, edits
(status.update), notifications and ":thump" heartbeats, in chunks cut anywhere, also inside a
field name and between a CR and its LF.

Each connection takes the next step of --script (';'-separated); after the last, "idle".
  all          every event, then heartbeats only
  cut:N        the first N events from where the last connection stopped, then a dropped connection
  stall        heartbeat-free silence until the client leaves
  status:CODE  that HTTP status with a JSON error body
  hostile      invalid JSON in an update, a 100 MB event (streamed, never held), a status whose HTML
               is nested 100,000 deep around "#deep", then every event
  idle         heartbeats only
"""
import argparse
import http.server
import json
import pathlib
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import tls  # noqa: E402

TAG = '<a href="https://fake.social/tags/{0}" class="mention hashtag" rel="tag">#<span>{0}</span></a>'
MENTION = ('<span class="h-card" translate="no"><a href="https://fake.social/@{0}" class="u-url mention">'
           '@<span>{0}</span></a></span>')
LINK = ('<a href="https://{0}" target="_blank" rel="nofollow noopener noreferrer"><span class="invisible">https://'
        '</span><span class="ellipsis">{1}</span><span class="invisible">{2}</span></a>')

# (content HTML, language, the text a reader sees)
STATUSES = [
    (f"<p>Hello {TAG.format('Mastodon')} and {TAG.format('fediverse')}!</p>", "en",
     "Hello #Mastodon and #fediverse!"),
    (f"<p>Ping {MENTION.format('alice')}: see {LINK.format('example.com/a/long/path', 'example.com/a/lo', 'ng/path')}"
     f"</p>", "en", "Ping @alice: see https://example.com/a/long/path"),
    (f"<p>Caf&eacute; &amp; cr&egrave;me &lt;3 &#x1F600; {TAG.format('caf&eacute;')}</p>", "fr",
     "Café & crème <3 😀 #café"),
    (f"<p>first line<br />second {TAG.format('TwoLines')}</p><p>second paragraph</p>", "en",
     "first line\nsecond #TwoLines\nsecond paragraph"),
    (f"<p>日本語の投稿 {TAG.format('日本')}</p>", "ja", "日本語の投稿 #日本"),
    ("<p>quotes &quot;double&quot; &#39;single&#39; and a tab\there</p>", None,
     "quotes \"double\" 'single' and a tab\there"),
]


def status_json(i, content, language, reblog=None):
    return {"id": str(1000 + i), "created_at": "2024-09-09T19:46:02.000Z", "in_reply_to_id": None,
            "sensitive": False, "spoiler_text": "", "visibility": "public", "language": language,
            "uri": f"https://fake.social/users/u/statuses/{1000 + i}", "content": content, "reblog": reblog,
            "account": {"id": "1", "username": "u", "acct": "u", "display_name": "U \u2603", "note": "<p>bio</p>"},
            "media_attachments": [], "mentions": [], "tags": [{"name": "x", "url": "https://fake.social/tags/x"}],
            "emojis": [], "card": None, "poll": None}


def events():
    """The stream's events in order: (SSE bytes, forwarded text or None)."""
    out = []
    for i, (content, lang, text) in enumerate(STATUSES):
        data = json.dumps(status_json(i, content, lang), ensure_ascii=False)
        out.append((f"event: update\ndata: {data}\n\n".encode(), text))
        if i == 1:  # a boost of status 0: skipped
            boost = status_json(50, "", None, reblog=status_json(0, STATUSES[0][0], "en"))
            out.append((f"event: update\ndata: {json.dumps(boost)}\n\n".encode(), None))
        if i == 2:
            out.append((b"event: delete\ndata: 1001\n\n", None))
            edited = json.dumps(status_json(0, "<p>edited #NotCounted</p>", "en"))
            out.append((f"event: status.update\ndata: {edited}\n\n".encode(), None))
        if i == 3:
            out.append((b":thump\n", None))
            out.append((b'event: notification\ndata: {"id": "5", "type": "mention"}\n\n', None))
    return out


def texts(langs=None):
    """What the client forwards, in order (only statuses in `langs` when given)."""
    return [t for c, lang, t in STATUSES if langs is None or (lang is not None and lang.split("-")[0] in langs)]


def emit(**event):
    event["t"] = time.monotonic()
    sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    sys.stdout.flush()


CHUNK_SIZES = [1, 5, 60, 7, 300, 2, 4096, 13]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    steps = []
    token = None
    lock = threading.Lock()
    position = 0  # the next event for a "cut" step

    def log_message(self, *args):
        pass

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def send_cut(self, payload):
        at, k = 0, 0
        while at < len(payload):
            size = CHUNK_SIZES[k % len(CHUNK_SIZES)]
            self.chunk(payload[at:at + size])
            at += size
            k += 1

    def reply_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        known = {"/api/v1/streaming/public", "/api/v1/streaming/public/local", "/api/v1/streaming/hashtag"}
        with Handler.lock:
            step = Handler.steps.pop(0) if Handler.steps else "idle"
        auth = self.headers.get("Authorization", "")
        emit(event="connect", path=url.path, tag=query.get("tag", [None])[0], step=step,
             authorized=auth == f"Bearer {Handler.token}", accept=self.headers.get("Accept", ""))
        if url.path not in known:
            self.reply_json(404, {"error": "Not Found"})
            return
        if Handler.token and auth != f"Bearer {Handler.token}":
            self.reply_json(401, {"error": "This method requires an authenticated user"})
            return
        kind, _, arg = step.partition(":")
        if kind == "status":
            self.reply_json(int(arg), {"error": "fake error"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if kind == "all":
                self.send_cut(b":)\n" + b"".join(e for e, _ in events()))
                emit(event="served", step=step)
                self.idle()
            elif kind == "cut":
                evs = events()
                with Handler.lock:
                    first, Handler.position = Handler.position, min(len(evs), Handler.position + int(arg))
                payload = b"".join(e for e, _ in evs[first:Handler.position])
                self.send_cut(payload + b"event: update\ndata: {\"id\": \"torn")  # an event cut by the drop
                emit(event="served", step=step, first=first, last=Handler.position)
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
            elif kind == "stall":
                self.rfile.read(1)
                emit(event="client_left", step=step)
                self.close_connection = True
            elif kind == "hostile":
                self.send_cut(b"event: update\ndata: {not json at all\n\n")
                self.chunk(b"event: update\ndata: ")
                block, sent = b"x" * (1 << 20), 0
                while sent < 100_000_000:
                    self.chunk(block)
                    sent += len(block)
                self.chunk(b"\n\n")
                deep = "<b>" * 100_000 + "#deep" + "</b>" * 100_000  # 700 kB: under the 1 MiB event limit
                self.chunk(f"event: update\ndata: {json.dumps(status_json(99, deep, 'en'))}\n\n".encode())
                emit(event="hostile_sent", bytes=sent)
                self.send_cut(b"".join(e for e, _ in events()))
                emit(event="served", step=step)
                self.idle()
            else:
                self.idle()
        except (BrokenPipeError, ConnectionResetError, OSError) as e:
            emit(event="closed", step=step, why=type(e).__name__)
            self.close_connection = True

    def idle(self):
        while True:
            self.chunk(b":thump\n")
            time.sleep(0.3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--script", default="")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--token")
    args = ap.parse_args()
    Handler.steps = [s for s in args.script.split(";") if s]
    Handler.token = args.token
    tls.serve_http(Handler, args.port, args.tls, lambda port: emit(event="listening", port=port))


if __name__ == "__main__":
    main()
