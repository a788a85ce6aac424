"""twitter_client --delivery acked against a scripted engine: the hello, numbering, resending what
was not acknowledged, a welcome that comes late, and an engine that stops answering."""
import socket
import threading
import time

from harness import free_port, program, wait_until

PREFIX = b"\x1etrend-delivery/1 "


def frames_of(data):
    """Payloads of 5-digit frames, and the bytes left after the last whole one."""
    out, at = [], 0
    while len(data) - at >= 5:
        n = int(data[at:at + 5])
        if len(data) - at - 5 < n:
            break
        out.append(data[at + 5:at + 5 + n])
        at += 5 + n
    return out, data[at:]


def frame(payload):
    return str(len(payload)).zfill(5).encode() + payload


class ScriptedEngine:
    """Accepts connections one at a time; `script(conn_index, hello, frames_so_far, conn)` decides."""

    def __init__(self, port, on_connection):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.connections = []  # per connection: {"hello": (session, next), "tweets": [payload...]}
        self.on_connection = on_connection
        self.closed = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            record = {"hello": None, "tweets": []}
            self.connections.append(record)
            try:
                self.on_connection(len(self.connections) - 1, conn, record, self)
            except OSError:
                pass
            conn.close()

    @staticmethod
    def read_frames(conn, record, until, timeout=10.0):
        """Reads frames into record until `until(record)` holds or the peer closes."""
        held = b""
        conn.settimeout(0.1)
        deadline = time.monotonic() + timeout
        while not until(record) and time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return False
            held += chunk
            payloads, held = frames_of(held)
            for p in payloads:
                if p.startswith(PREFIX + b"hello "):
                    words = dict(w.split(b"=") for w in p[len(PREFIX) + 6:].split())
                    record["hello"] = (int(words[b"session"], 16), int(words[b"next"]))
                else:
                    record["tweets"].append(p)
        return until(record)

    def close(self):
        self.closed = True
        self.sock.close()


def start_client(procs, port, lines):
    c = procs("client", [program("twitter_client"), "--engine", f"127.0.0.1:{port}", "--delivery", "acked",
                         "--source", "stdin", "--rate", "0", "--stats-interval", "0", "--drain-timeout", "30"],
              stdin=__import__("subprocess").PIPE)
    c.popen.stdin.write("".join(line + "\n" for line in lines).encode())
    c.popen.stdin.flush()
    return c


def test_a_late_welcome_upgrades_the_connection_and_numbering_follows_the_plain_frames(procs):
    port = free_port()
    lines = [f"tweet #{k}" for k in range(40)]

    def script(index, conn, record, engine):
        if index == 0:
            engine.read_frames(conn, record, lambda r: r["hello"] is not None)
            engine.read_frames(conn, record, lambda r: len(r["tweets"]) >= 10, timeout=1.6)  # plain frames meanwhile
            conn.sendall(frame(PREFIX + b"welcome applied=0\n"))  # late: the client gave up waiting at 1 s
            time.sleep(0.5)
            engine.read_frames(conn, record, lambda r: False, timeout=0.5)
            return  # closes without acknowledging anything
        engine.read_frames(conn, record, lambda r: r["hello"] is not None)
        conn.sendall(frame(PREFIX + b"welcome applied=0\n"))
        engine.read_frames(conn, record, lambda r: False, timeout=1.0)
        conn.sendall(frame(PREFIX + b"ack 1000\n"))
        engine.read_frames(conn, record, lambda r: False, timeout=1.0)

    engine = ScriptedEngine(port, script)
    c = start_client(procs, port, lines[:20])
    wait_until(lambda: len(engine.connections) >= 1 and len(engine.connections[0]["tweets"]) >= 10, timeout=15,
               message="plain frames before the late welcome")
    time.sleep(0.8)
    c.popen.stdin.write("".join(line + "\n" for line in lines[20:]).encode())
    c.popen.stdin.close()
    wait_until(lambda: len(engine.connections) >= 2 and engine.connections[1]["hello"] is not None, timeout=20,
               message="a second connection")
    first, second = engine.connections[0], engine.connections[1]
    session, start = first["hello"]
    assert second["hello"][0] == session
    plain = 20  # lines[:20] were all sent before the welcome came; lines[20:] only after it
    assert len(first["tweets"]) >= plain
    # Frames sent before the welcome were numbered start.. by the engine and not kept; the second
    # connection starts at the first kept frame, and resends exactly the frames from there.
    assert "answered late" in c.log_text()
    resent_from = second["hello"][1]
    assert resent_from == start + plain, (resent_from, start, plain, len(first["tweets"]))
    numbered = {start + k: t for k, t in enumerate(first["tweets"])}
    assert second["tweets"][:len(first["tweets"]) - plain] == [numbered[n] for n in range(resent_from, start + len(first["tweets"]))]
    assert c.popen.wait(timeout=30) == 0, c.log_text()
    engine.close()


def test_kept_frames_are_never_sent_plainly_to_an_engine_that_stops_answering(procs):
    port = free_port()

    def script(index, conn, record, engine):
        engine.read_frames(conn, record, lambda r: r["hello"] is not None)
        if index == 0:
            conn.sendall(frame(PREFIX + b"welcome applied=0\n"))
            engine.read_frames(conn, record, lambda r: len(r["tweets"]) >= 5)
            return  # no ack: the frames stay kept
        engine.read_frames(conn, record, lambda r: False, timeout=1.5)  # no welcome

    engine = ScriptedEngine(port, script)
    c = start_client(procs, port, [f"kept #{k}" for k in range(5)])
    wait_until(lambda: len(engine.connections) >= 3, timeout=30, message="the client to try again")
    assert len(engine.connections[0]["tweets"]) == 5
    for later in engine.connections[1:3]:
        assert later["hello"] is not None and later["tweets"] == [], "kept frames went to an engine that did not answer"
    assert "did not acknowledge the hello in time" in c.log_text()
    c.stop()
    engine.close()
