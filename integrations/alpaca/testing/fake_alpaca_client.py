"""A client for the fake Alpaca broker, for tests and scripts (standard library only): start the process on a
synthetic bars file, call its REST and control API, and speak its websockets through a minimal RFC 6455 client.

    broker = Broker(test_case, future=[FLAT] * 10)          # started in step mode; stopped at the test's cleanup
    ws = trading_stream(broker)                             # authenticated and listening to trade_updates
    broker.order(qty="1000", side="buy")
    new, fill = updates(ws, 2)
"""
import base64
import datetime as dt
import hashlib
import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "fake_alpaca_broker.py")
KEY, SECRET = "test-key-id", "test-secret-key"
AUTH = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
FLAT = ("1.10000", "1.10020", "1.09980", "1.10000")
T0 = dt.datetime(2024, 1, 8, tzinfo=dt.timezone.utc)       # a Monday, winter: the FX day ends 22:00 UTC
HISTORY = 48


def fx_closed(t):
    """The FX weekend in winter (Friday 22:00 UTC to Sunday 22:00 UTC)."""
    wd = t.weekday()
    return (wd == 4 and t.hour >= 22) or wd == 5 or (wd == 6 and t.hour < 22)


def write_bars(directory, future, name="EURUSD.csv", flat=FLAT):
    """HISTORY `flat` bars from T0, then `future` (o, h, l, c) bars, hourly, skipping the FX weekend.
    Returns (path, the first future bar's open time as RFC 3339)."""
    rows = [flat] * HISTORY + list(future)
    t, start = T0, None
    lines = [",Open,High,Low,Close,Volume"]
    for i, (o, h, l, c) in enumerate(rows):
        while fx_closed(t):
            t += dt.timedelta(hours=1)
        if i == HISTORY:
            start = t.strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f"{t:%Y-%m-%d %H:%M:%S},{o},{h},{l},{c},{1000 + i}")
        t += dt.timedelta(hours=1)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path, start


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.raw = status, headers, body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None


class Broker:
    """One fake broker process for one test."""

    def __init__(self, test, future=(FLAT,) * 30, args=(), env=None):
        tmp = tempfile.TemporaryDirectory()
        test.addCleanup(tmp.cleanup)
        path, start = write_bars(tmp.name, future)
        self.stderr = open(os.path.join(tmp.name, "stderr.txt"), "w+")
        test.addCleanup(self.stderr.close)
        self.proc = subprocess.Popen(
            [sys.executable, SCRIPT, "--key", KEY, "--secret", SECRET, "--bars", path, "--symbol", "EURUSD",
             "--start", start, "--lifetime", "120", *args],
            stdout=subprocess.PIPE, stderr=self.stderr, text=True, env=env)
        test.addCleanup(self.stop)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.stderr.seek(0)
            raise AssertionError(f"the fake did not start: {line!r} {self.stderr.read()}")
        self.port = int(line.split()[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()

    def call(self, method, path, body=None, auth=True, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = dict(AUTH) if auth else {}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def ok(self, method, path, body=None, status=200):
        r = self.call(method, path, body)
        if r.status != status:
            raise AssertionError(f"{method} {path} -> {r.status} {r.raw[:300]!r}")
        return r.json

    def order(self, **fields):
        body = {"symbol": "EURUSD", "time_in_force": "gtc", "type": "market", **fields}
        return self.ok("POST", "/v2/orders", body)

    def advance(self, bars=1):
        return self.ok("POST", "/_fake/advance", {"bars": bars})

    def state(self):
        return self.ok("GET", "/_fake/state")

    def faults(self, *specs):
        return self.ok("POST", "/_fake/faults", list(specs))

    def stderr_text(self):
        self.stderr.flush()
        with open(self.stderr.name) as f:
            return f.read()


class WS:
    """A minimal websocket client: masked frames, optional fragmentation, pings answered."""

    def __init__(self, port, path, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                          .encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            data += chunk
        head, _, self.buf = data.partition(b"\r\n\r\n")
        expected = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                    .digest()).decode()
        assert head.startswith(b"HTTP/1.1 101"), head
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
        assert {k.lower(): v for k, v in headers.items()}["sec-websocket-accept"] == expected, head
        self.pongs = 0

    def send_frame(self, opcode, payload, fin=True):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send_json(self, obj, fragments=1, binary=False):
        data = json.dumps(obj).encode()
        if fragments == 1:
            return self.send_frame(2 if binary else 1, data)
        size = len(data) // fragments + 1
        pieces = [data[i:i + size] for i in range(0, len(data), size)]
        for i, piece in enumerate(pieces):
            self.send_frame((2 if binary else 1) if i == 0 else 0, piece, fin=i == len(pieces) - 1)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed without a close frame")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self):
        b1, b2 = self._read(2)
        n = b2 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        return b1 & 0x0F, self._read(n)

    def recv(self, timeout=5):
        """The next text/binary message (opcode, bytes); ("close", code) for a close frame."""
        self.sock.settimeout(timeout)
        while True:
            op, payload = self.frame()
            if op == 9:
                self.send_frame(10, payload)
            elif op == 10:
                self.pongs += 1
            elif op == 8:
                return "close", struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            else:
                return op, payload

    def recv_json(self, timeout=5):
        op, payload = self.recv(timeout)
        if op == "close":
            raise AssertionError(f"closed with code {payload}")
        return op, json.loads(payload)

    def quiet(self, seconds):
        """True when no message arrives within `seconds`."""
        try:
            self.recv(seconds)
            return False
        except socket.timeout:
            return True

    def close(self):
        try:
            self.send_frame(8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


def trading_stream(broker):
    ws = WS(broker.port, "/stream")
    ws.send_json({"action": "authenticate", "data": {"key_id": KEY, "secret_key": SECRET}})
    op, msg = ws.recv_json()
    assert op == 2 and msg == {"stream": "authorization", "data": {"status": "authorized", "action": "authenticate"}}, msg
    ws.send_json({"action": "listen", "data": {"streams": ["trade_updates"]}}, binary=True)
    op, msg = ws.recv_json()
    assert msg == {"stream": "listening", "data": {"streams": ["trade_updates"]}}, msg
    return ws


def data_stream(broker, path="/v2/iex", **subscribe):
    ws = WS(broker.port, path)
    assert ws.recv_json() == (1, [{"T": "success", "msg": "connected"}])
    ws.send_json({"action": "auth", "key": KEY, "secret": SECRET})
    assert ws.recv_json() == (1, [{"T": "success", "msg": "authenticated"}])
    if subscribe:
        ws.send_json({"action": "subscribe", **subscribe})
        op, msg = ws.recv_json()
        assert msg[0]["T"] == "subscription", msg
    return ws


def updates(ws, n, timeout=5):
    out = []
    for _ in range(n):
        op, msg = ws.recv_json(timeout)
        assert op == 2, "trade_updates come in binary frames"
        assert msg["stream"] == "trade_updates", msg
        out.append(msg["data"])
    return out
