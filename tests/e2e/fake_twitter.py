#!/usr/bin/python3
"""A local fake of Twitter's streaming API for the twitter_client tests (and a fake engine).

Run as a program: fake_twitter.py --port P --script STEPS [--raw-dir DIR] [--rules-reply KIND]
                                 [--tls CERT KEY]   (HTTPS with a certificate of tls.py's test CA)
It prints one JSON event per line on stdout ({"event": "listening", "port": P} first), serves:
  GET  /1.1/statuses/filter.json      OAuth 1.0a checked (signature recomputed with hmac/hashlib)
  GET  /2/tweets/search/stream        bearer token checked
  GET|POST /2/tweets/search/stream/rules   bearer token checked; rules kept in memory
Credentials come from the environment: FAKE_CONSUMER_KEY, FAKE_CONSUMER_SECRET, FAKE_TOKEN,
FAKE_TOKEN_SECRET, FAKE_BEARER. A bad credential gets a 401.

Each stream connection takes the next step of --script (';'-separated); after the last, "idle",
unless the last step ends in '*': then it is served to every later connection too.
  ok:FILE         the whole file in chunks cut anywhere, keep-alive "\\r\\n" between lines, then idle
  cut:FILE:N      N lines, half of line N+1, then the connection is dropped (no last chunk)
  end:FILE:N      N lines, then the response ends properly and the connection closes
  stall:FILE:N    N lines, then silence until the client goes away
  status:CODE[:S] that HTTP status with a JSON error body (and "Retry-After: S" when S is given)
  evil:CODE       that HTTP status with a hostile body: terminal escapes and a forged log line
  idle            200 and keep-alives only
FILE is relative to --raw-dir. Responses use chunked transfer (HTTP/1.1).
--rules-reply changes GET /2/tweets/search/stream/rules:
  huge:BYTES      200 and a JSON body of BYTES bytes (a reply no rules list ever needs)
  evil:CODE       that HTTP status with the hostile body

Imported by the tests: EngineSink (a listening socket that plays the engine), lines_of(),
oauth_signature().
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import pathlib
import socket
import sys
import threading
import time
import urllib.parse

CHUNK_SIZES = [1, 7, 100, 1000, 4096, 333, 16384, 2]
# A body a hostile server could send: colour escapes, a bell, a line break and a forged log line.
EVIL_BODY = (b'{"title": "\x1b[31mred\x1b[0m\x07 alert", "detail": "x\n'
             b'2026-01-01T00:00:00.000Z twitter_client error: FORGED LINE\r\n\x1b]0;title\x07"}')


def enc(s):
    return urllib.parse.quote(s, safe="-._~")


def oauth_signature(method, base_url, params, consumer_secret, token_secret):
    """RFC 5849 HMAC-SHA1 signature over decoded (name, value) pairs."""
    pairs = sorted((enc(k), enc(v)) for k, v in params)
    norm = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join([method.upper(), enc(base_url), enc(norm)])
    key = f"{enc(consumer_secret)}&{enc(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha1).digest()).decode()


def lines_of(data):
    """The raw lines of a capture, each with its terminator (what 'N lines' counts)."""
    parts = data.split(b"\n")
    out = [p + b"\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


class State:
    def __init__(self, script, raw_dir, rules_reply="", tls=False):
        self.tls = tls
        self.steps = [s for s in script.split(";") if s]
        self.repeat = None
        if self.steps and self.steps[-1].endswith("*"):
            self.repeat = self.steps.pop()[:-1]
        self.rules_reply = rules_reply
        self.raw_dir = pathlib.Path(raw_dir) if raw_dir else None
        self.lock = threading.Lock()
        self.rules = []
        self.next_rule_id = 1
        self.nonces = set()
        self.creds = {k: os.environ.get(k, "") for k in
                      ("FAKE_CONSUMER_KEY", "FAKE_CONSUMER_SECRET", "FAKE_TOKEN", "FAKE_TOKEN_SECRET", "FAKE_BEARER")}

    def next_step(self):
        with self.lock:
            return self.steps.pop(0) if self.steps else self.repeat or "idle"


def emit(**event):
    event["t"] = time.monotonic()
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, *args):
        pass

    # ---- helpers
    def reply_json(self, code, obj, retry_after=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reply_raw(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reply_huge(self, size):
        """200 with a JSON body of `size` bytes, written in pieces: never held whole here."""
        head, tail = b'{"data": [', b'{"id": "1", "value": "#end"}]}'
        item = b'{"id": "1", "value": "' + b"x" * 1000 + b'"}, '
        count = max(0, (size - len(head) - len(tail)) // len(item))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(head) + count * len(item) + len(tail)))
        self.end_headers()
        sent = 0
        try:
            self.wfile.write(head)
            block = item * 1000
            while count > 0:
                n = min(count, 1000)
                self.wfile.write(block if n == 1000 else item * n)
                count -= n
                sent += n * len(item)
            self.wfile.write(tail)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        emit(event="rules_huge", sent=sent)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def check_bearer(self):
        want = self.state.creds["FAKE_BEARER"]
        if not want or self.headers.get("Authorization") != f"Bearer {want}":
            emit(event="auth_fail", kind="bearer", path=self.path)
            self.reply_json(401, {"title": "Unauthorized", "detail": "Unauthorized", "status": 401})
            return False
        return True

    def check_oauth(self):
        auth = self.headers.get("Authorization", "")
        c = self.state.creds
        problem = None
        if not auth.startswith("OAuth "):
            problem = "no OAuth header"
        else:
            fields = {}
            for part in auth[6:].split(","):
                k, _, v = part.strip().partition("=")
                fields[urllib.parse.unquote(k)] = urllib.parse.unquote(v.strip('"'))
            url = urllib.parse.urlsplit(self.path)
            params = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
            params += [(k, v) for k, v in fields.items() if k != "oauth_signature"]
            scheme = "https" if self.state.tls else "http"
            base_url = f"{scheme}://{self.headers['Host']}{url.path}"
            want = oauth_signature("GET", base_url, params, c["FAKE_CONSUMER_SECRET"], c["FAKE_TOKEN_SECRET"])
            if fields.get("oauth_consumer_key") != c["FAKE_CONSUMER_KEY"] or fields.get("oauth_token") != c["FAKE_TOKEN"]:
                problem = "wrong consumer key or token"
            elif fields.get("oauth_signature_method") != "HMAC-SHA1" or fields.get("oauth_version") != "1.0":
                problem = "wrong method or version"
            elif abs(int(fields.get("oauth_timestamp", "0")) - time.time()) > 300:
                problem = "stale timestamp"
            elif fields.get("oauth_nonce") in self.state.nonces:
                problem = "nonce reused"
            elif not hmac.compare_digest(fields.get("oauth_signature", ""), want):
                problem = "bad signature"
            elif dict(urllib.parse.parse_qsl(url.query)) != {"locations": "-130,-20,100,50", "track": "#"}:
                problem = "unexpected query " + url.query
            self.state.nonces.add(fields.get("oauth_nonce"))
        if problem:
            emit(event="auth_fail", kind="oauth", problem=problem)
            self.reply_json(401, {"errors": [{"code": 32, "message": "Could not authenticate you."}]})
            return False
        emit(event="auth_ok", kind="oauth")
        return True

    # ---- endpoints
    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/1.1/statuses/filter.json":
            if self.check_oauth():
                self.stream()
        elif path == "/2/tweets/search/stream":
            if self.check_bearer():
                self.stream()
        elif path == "/2/tweets/search/stream/rules":
            if self.check_bearer():
                kind, _, arg = self.state.rules_reply.partition(":")
                if kind == "huge":
                    self.reply_huge(int(arg))
                    return
                if kind == "evil":
                    emit(event="rules_evil", code=int(arg))
                    self.reply_raw(int(arg), EVIL_BODY)
                    return
                with self.state.lock:
                    data = list(self.state.rules)
                emit(event="rules_list", count=len(data))
                self.reply_json(200, {"data": data, "meta": {"result_count": len(data)}} if data else
                                {"meta": {"result_count": 0}})
        else:
            self.reply_json(404, {"error": "not found"})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        if path != "/2/tweets/search/stream/rules":
            self.reply_json(404, {"error": "not found"})
            return
        if not self.check_bearer():
            return
        with self.state.lock:
            if "delete" in body:
                ids = set(body["delete"]["ids"])
                self.state.rules = [r for r in self.state.rules if r["id"] not in ids]
                emit(event="rules_delete", ids=sorted(ids))
                self.reply_json(200, {"meta": {"summary": {"deleted": len(ids)}}})
            elif "add" in body:
                added = []
                for r in body["add"]:
                    rule = {"id": str(self.state.next_rule_id), "value": r["value"]}
                    self.state.next_rule_id += 1
                    self.state.rules.append(rule)
                    added.append(rule)
                emit(event="rules_add", values=[r["value"] for r in added])
                self.reply_json(201, {"data": added, "meta": {"summary": {"created": len(added)}}})
            else:
                self.reply_json(400, {"errors": [{"message": "bad body"}]})

    def stream(self):
        step = self.state.next_step()
        kind, _, rest = step.partition(":")
        emit(event="connect", path=urllib.parse.urlsplit(self.path).path, step=step)
        if kind == "status":
            code, _, retry_after = rest.partition(":")
            self.reply_json(int(code), {"title": "fake error", "status": int(code)}, retry_after or None)
            return
        if kind == "evil":
            self.reply_raw(int(rest), EVIL_BODY)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if kind == "idle":
                self.idle()
                return
            name, _, count = rest.partition(":")
            data = (self.state.raw_dir / name).read_bytes()
            lines = lines_of(data)
            n = len(lines) if kind == "ok" else int(count)
            if kind == "end":
                for line in lines[:n]:
                    self.chunk(line)
                self.wfile.write(b"0\r\n\r\n")  # the last chunk: a proper end of the response
                self.wfile.flush()
                emit(event="served", step=step, lines=n)
                self.close_connection = True
                return
            payload = bytearray()
            for i, line in enumerate(lines[:n]):
                payload += line
                if i % 5 == 4:
                    payload += b"\r\n"  # keep-alive between lines
            if kind == "cut" and n < len(lines):
                payload += lines[n][: max(1, len(lines[n]) // 2)]
            at, k = 0, 0
            while at < len(payload):
                size = CHUNK_SIZES[k % len(CHUNK_SIZES)]
                self.chunk(bytes(payload[at:at + size]))
                at += size
                k += 1
            emit(event="served", step=step, lines=n)
            if kind == "cut":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            elif kind == "stall":
                self.rfile.read(1)  # until the client hangs up
                emit(event="client_left", step=step)
                self.close_connection = True
            else:
                self.idle()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def idle(self):
        while True:
            self.chunk(b"\r\n")
            time.sleep(0.3)


class EngineSink:
    """Plays the engine: listens on 127.0.0.1:port, keeps the bytes of each connection."""

    def __init__(self, port=0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = []  # bytearrays, in accept order
        self.lock = threading.Lock()
        self.ended = 0  # connections whose client closed (EOF seen)
        self.clients = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            buf = bytearray()
            with self.lock:
                self.connections.append(buf)
                self.clients.append(conn)
            threading.Thread(target=self._read, args=(conn, buf), daemon=True).start()

    def _read(self, conn, buf):
        while True:
            try:
                data = conn.recv(1 << 16)
            except OSError:
                return
            if not data:
                with self.lock:
                    self.ended += 1
                return
            with self.lock:
                buf += data

    def wait_all_ended(self, timeout=30.0):
        """Waits until at least one connection came and every one was closed by the client."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.connections and self.ended == len(self.connections):
                    return
            time.sleep(0.01)
        raise AssertionError("the client did not close its engine connection")

    def data(self):
        with self.lock:
            return b"".join(bytes(b) for b in self.connections)

    def per_connection(self):
        with self.lock:
            return [bytes(b) for b in self.connections]

    def drop_clients(self):
        """Closes every accepted connection but keeps listening (the engine hangs up, then accepts again)."""
        with self.lock:
            clients, self.clients = self.clients, []
        for c in clients:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def close(self):
        """Closes the listener and every connection (the engine goes away)."""
        with self.lock:
            clients, self.clients = self.clients, []
        try:
            # shutdown() stops the listening: close() alone leaves it alive under a blocked accept().
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in clients:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()


def parse_frames(data):
    """(payloads, leftover bytes) of a stream of 5-digit frames; raises on a bad header."""
    out, at = [], 0
    while len(data) - at >= 5:
        header = data[at:at + 5]
        if not header.isdigit():
            raise AssertionError(f"bad frame header {header!r} at byte {at}")
        n = int(header)
        if len(data) - at - 5 < n:
            break
        out.append(data[at + 5:at + 5 + n])
        at += 5 + n
    return out, data[at:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--script", default="")
    ap.add_argument("--raw-dir", default="")
    ap.add_argument("--rules-reply", default="")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    Handler.state = State(args.script, args.raw_dir, args.rules_reply, tls=bool(args.tls))
    import tls  # next to this script
    tls.serve_http(Handler, args.port, args.tls, lambda port: emit(event="listening", port=port))


if __name__ == "__main__":
    main()
