#!/usr/bin/python3
"""A local fake of Bluesky's Jetstream for the twitter_client tests (Debian's python3-websockets).

Run as a program: fake_jetstream.py --port P --events N --script STEPS [--tls CERT KEY]
It prints one JSON event per line on stdout ({"event": "listening", "port": P} first) and serves
WebSocket connections on any path (the client asks for /subscribe?wantedCollections=...&cursor=...).

The timeline (timeline(N), also imported by the tests) holds N events 0.1 s apart: posts mixed
with deletes, updates, likes (another collection), identity and account events. A connection
starts at the first event whose time_us is at or after its cursor (at the start without one), so
a client that resumes a few seconds back is sent events again, as Jetstream does.

Each connection takes the next step of --script (';'-separated); after the last, "rest".
  cut:N       N events, then the TCP connection is dropped (no close frame)
  close:N     N events, then a close frame (code 1001)
  stall:N     N events, then silence (no message, pings still answered) until the client leaves
  rest        every remaining event, then pings only: each must be answered (emits "pong")
  invalid:N   N events, each after a message that is no JSON or no Jetstream event, then dropped
  huge:BYTES  one text message of BYTES bytes (streamed, never held), then the rest
  frame63     a frame header claiming 2**63 - 1 bytes, then some bytes and silence
  frame64     a frame header claiming 2**63 bytes (the reserved top bit set), then silence
"""
import argparse
import asyncio
import json
import logging
import pathlib
import struct
import sys
import time
import urllib.parse

import websockets

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import tls  # noqa: E402

T0 = 1_725_911_162_000_000  # time_us of the first event
STEP_US = 100_000


def timeline(n):
    """The fake's events, in order: dicts as Jetstream sends them."""
    out = []
    for i in range(n):
        t = T0 + i * STEP_US
        did = f"did:plc:user{i % 13:02d}"
        kind = i % 10
        if kind in (0, 1, 2, 4, 5, 7, 8):
            langs = [["en"], ["ja"], ["en", "pt-BR"], []][i % 4]
            text = f"post {i} #tag{i % 7} #bluesky \u00e9t\u00e9 \U0001F600"
            record = {"$type": "app.bsky.feed.post", "createdAt": "2024-09-09T19:46:02.102Z", "langs": langs,
                      "text": text}
            if i % 3 == 0:
                record["facets"] = [{"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": f"tag{i % 7}"}],
                                     "index": {"byteEnd": 12, "byteStart": 7}}]
            commit = {"rev": f"rev{i}", "operation": "create", "collection": "app.bsky.feed.post",
                      "rkey": f"rkey{i:05d}", "record": record, "cid": f"bafy{i}"}
            out.append({"did": did, "time_us": t, "kind": "commit", "commit": commit})
        elif kind == 3:
            out.append({"did": did, "time_us": t, "kind": "commit",
                        "commit": {"rev": f"rev{i}", "operation": "delete", "collection": "app.bsky.feed.post",
                                   "rkey": f"rkey{i - 3:05d}"}})
        elif kind == 6:
            out.append({"did": did, "time_us": t, "kind": "commit",
                        "commit": {"rev": f"rev{i}", "operation": "create", "collection": "app.bsky.feed.like",
                                   "rkey": f"like{i}", "record": {"$type": "app.bsky.feed.like",
                                                                 "subject": {"uri": "at://x", "cid": "y"}}}})
        elif i % 20 == 9:
            out.append({"did": did, "time_us": t, "kind": "identity",
                        "identity": {"did": did, "handle": f"user{i}.bsky.social", "seq": i, "time": "2024-09-09"}})
        else:
            out.append({"did": did, "time_us": t, "kind": "account",
                        "account": {"active": True, "did": did, "seq": i, "time": "2024-09-09"}})
    return out


def posts(events, langs=None):
    """The texts a client forwards from `events`, in order (only posts in `langs` when given)."""
    out = []
    for e in events:
        c = e.get("commit", {})
        if e["kind"] == "commit" and c.get("operation") == "create" and c.get("collection") == "app.bsky.feed.post":
            tags = c["record"]["langs"]
            if langs is None or any(t == l or t.startswith(l + "-") for t in tags for l in langs):
                out.append(c["record"]["text"])
    return out


def emit(**event):
    event["t"] = time.monotonic()
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Fake:
    def __init__(self, events, script):
        self.events = timeline(events)
        self.messages = [json.dumps(e, ensure_ascii=False) for e in self.events]
        self.steps = [s for s in script.split(";") if s]

    def start_index(self, cursor):
        if cursor is None:
            return 0
        for i, e in enumerate(self.events):
            if e["time_us"] >= cursor:
                return i
        return len(self.events)

    async def handler(self, ws, path=None):
        path = path or ws.path
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        cursor = int(query["cursor"][0]) if "cursor" in query else None
        step = self.steps.pop(0) if self.steps else "rest"
        kind, _, arg = step.partition(":")
        at = self.start_index(cursor)
        emit(event="connect", path=urllib.parse.urlsplit(path).path, cursor=cursor, start=at, step=step,
             wanted=query.get("wantedCollections", []), user_agent=ws.request_headers.get("User-Agent", ""))
        try:
            if kind in ("cut", "close", "stall", "invalid"):
                n = int(arg)
                for i in range(at, min(at + n, len(self.messages))):
                    if kind == "invalid":
                        await ws.send(["{not json", '{"kind": 5}', "[1, 2", '{"did": "x", "time_us": "soon"}'][i % 4])
                    await ws.send(self.messages[i])
                emit(event="served", step=step, first=at, count=min(n, len(self.messages) - at))
                if kind == "cut" or kind == "invalid":
                    ws.transport.abort()
                elif kind == "close":
                    await ws.close(1001, "going away")
                else:
                    await ws.wait_closed()
                    emit(event="client_left", step=step)
            elif kind == "rest":
                for i in range(at, len(self.messages)):
                    await ws.send(self.messages[i])
                emit(event="served", step=step, first=at, count=len(self.messages) - at)
                while True:  # pings only: a client that does not answer them is dropped
                    await asyncio.sleep(0.3)
                    pong = await ws.ping()
                    await asyncio.wait_for(pong, 2)
                    emit(event="pong")
            elif kind == "huge":
                size = int(arg)
                transport = ws.transport
                transport.write(b"\x81\x7f" + struct.pack("!Q", size))
                sent, block = 0, b"x" * (1 << 20)
                while sent < size and not transport.is_closing():
                    n = min(len(block), size - sent)
                    transport.write(block[:n])
                    sent += n
                    while transport.get_write_buffer_size() > (4 << 20) and not transport.is_closing():
                        await asyncio.sleep(0.01)
                emit(event="huge_sent", sent=sent, size=size)
                await ws.wait_closed()
            elif kind in ("frame63", "frame64"):
                length = 2**63 - 1 if kind == "frame63" else 2**63
                ws.transport.write(b"\x81\x7f" + struct.pack("!Q", length) + b"x" * 4096)
                emit(event="frame_sent", length=length)
                await ws.wait_closed()
            else:
                raise SystemExit(f"unknown step {step}")
        except (websockets.ConnectionClosed, asyncio.TimeoutError, ConnectionError, OSError) as e:
            emit(event="closed", step=step, why=type(e).__name__)


async def serve(args):
    fake = Fake(args.events, args.script)
    ssl_ctx = tls.server_context(args.tls[0], args.tls[1]) if args.tls else None
    # Pings are sent by the "rest" step itself; the library's own keep-alive is off.
    async with websockets.serve(fake.handler, "127.0.0.1", args.port, ssl=ssl_ctx, ping_interval=None,
                                max_size=1 << 20) as server:
        port = server.sockets[0].getsockname()[1]
        emit(event="listening", port=port)
        await asyncio.Future()


def main():
    logging.getLogger("websockets").setLevel(logging.CRITICAL)  # dropped connections are the point here
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--script", default="")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
