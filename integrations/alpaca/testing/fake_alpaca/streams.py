"""The two websocket streams, in Alpaca's message formats, and the hub that feeds them.

Trading stream (`/stream`), JSON in BINARY frames as Alpaca's paper stream sends them:
    -> {"action":"authenticate","data":{"key_id":K,"secret_key":S}}
    <- {"stream":"authorization","data":{"status":"authorized","action":"authenticate"}}   (else "unauthorized",
       then the close handshake)
    -> {"action":"listen","data":{"streams":["trade_updates"]}}
    <- {"stream":"listening","data":{"streams":["trade_updates"]}}
    <- {"stream":"trade_updates","data":{"event":"fill","execution_id":..,"order":{..},"timestamp":..,
        "position_qty":"..","price":"..","qty":".."}}
Updates sent while a client is not connected (or silenced by a fault) are not replayed, as on Alpaca.

Market-data stream (`/v2/iex`, `/v2/sip`, `/v2/delayed_sip`, `/v1beta3/crypto/us`), JSON arrays in TEXT frames:
    <- [{"T":"success","msg":"connected"}]
    -> {"action":"auth","key":K,"secret":S}    <- [{"T":"success","msg":"authenticated"}]
                                               or [{"T":"error","code":402,"msg":"auth failed"}] and close
    -> {"action":"subscribe","bars":["EURUSD"],"quotes":[..],"trades":[..]}    ("*" = every symbol)
    <- [{"T":"subscription","trades":[..],"quotes":[..],"bars":[..],"updatedBars":[],"dailyBars":[],...}]
    <- [{"T":"b","S":"EURUSD","o":1.07,"h":..,"l":..,"c":..,"v":..,"t":"2017-12-01T10:00:00Z","n":..,"vw":..}]
Errors as Alpaca's: 400 invalid syntax, 401 not authenticated, 402 auth failed, 403 already authenticated,
404 auth timeout (10 s), 406 connection limit exceeded (one data connection per key and feed class), 407 slow
client. Keys may also come in the handshake headers (APCA-API-KEY-ID / APCA-API-SECRET-KEY).

The hub pings every connection every 10 s and cuts one that has not been heard from for 35 s (a dead peer frees
its data-connection slot that way, as on Alpaca).
"""
import hmac
import itertools
import json
import threading
import time

from .websocket import Closed, ServerWebSocket

PING_EVERY_S = 10
DEAD_AFTER_S = 35
AUTH_TIMEOUT_S = 10
CLOSE_GRACE_S = 3
MAX_SYMBOLS = 1000
DATA_CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds", "corrections",
                 "cancelErrors")
CRYPTO_CHANNELS = ("trades", "quotes", "orderbooks", "bars", "updatedBars", "dailyBars")


def _same(a, b):
    return isinstance(a, str) and isinstance(b, str) and hmac.compare_digest(a.encode(), b.encode())


class Connection:
    """One stream client: its websocket, its state, and the faults that apply to it."""

    def __init__(self, hub, ws, stream, feed):
        self.hub, self.ws, self.stream, self.feed = hub, ws, stream, feed
        self.id = next(hub.ids)
        self.opened = time.monotonic()
        self.last_ping = self.opened
        self.authenticated = False
        self.key = None
        self.listening = False                        # trade stream
        self.subs = {c: set() for c in (CRYPTO_CHANNELS if feed == "crypto" else DATA_CHANNELS)}
        self.silent_until = 0.0
        self.drop_after = None                        # messages left before a drop fault cuts the connection
        self.drop_reset = False
        self.lost = 0

    # --- delivery (called with the hub's lock; never blocks) -----------------------------------------------------
    def deliver(self, payload):
        if self.ws.closed.is_set():
            return
        fault = self.hub.faults.random_stream(self.stream)
        if fault is not None:
            self.apply_fault(fault)
        if self.ws.closed.is_set():
            self.lost += 1
            return
        if time.monotonic() < self.silent_until:
            self.lost += 1
            self.hub.counters["messages_lost_to_silence"] += 1
            return
        self._send(payload)
        if self.drop_after is not None:
            self.drop_after -= 1
            if self.drop_after <= 0:
                self.cut(self.drop_reset)

    def _send(self, payload):
        if self.stream == "trade":
            self.ws.send_binary(payload.encode())
        else:
            self.ws.send_text(payload)

    def send_json(self, obj):
        self._send(json.dumps(obj, separators=(",", ":")))

    def apply_fault(self, fault):
        kind = fault["kind"]
        if kind.startswith("silent"):
            self.silent_until = time.monotonic() + fault["seconds"]
            self.hub.faults.record(kind, f"connection={self.id} seconds={fault['seconds']:.2f}")
        elif fault["after"] <= 0:
            self.hub.faults.record(kind, f"connection={self.id} now reset={fault['reset']}")
            self.cut(fault["reset"])
        else:
            self.drop_after, self.drop_reset = fault["after"], fault["reset"]
            self.hub.faults.record(kind, f"connection={self.id} after={fault['after']} reset={fault['reset']}")

    def cut(self, reset):
        self.hub.counters[f"{self.stream}_stream_drops"] += 1
        if reset:
            self.ws.abort()
        else:
            self.ws.drop()


class StreamHub:
    def __init__(self, key, secret, faults, book_lock, log):
        self.key, self.secret = key, secret
        self.faults = faults
        self.lock = book_lock            # the book's lock: deliveries keep the book's order
        self.log = log
        self.ids = itertools.count(1)
        self.connections = {}            # id -> Connection
        self.counters = {"trade_stream_connections": 0, "data_stream_connections": 0, "trade_stream_drops": 0,
                         "data_stream_drops": 0, "messages_lost_to_silence": 0, "stream_auth_failures": 0,
                         "data_connection_limit_refusals": 0}
        self.subscribed = threading.Event()       # a data client subscribed to bars (--wait-for-subscriber)
        self.stopping = threading.Event()
        faults.on_stream_fault = self.apply_queued_faults
        self.pinger = threading.Thread(target=self._ping_loop, name="ws-pinger", daemon=True)
        self.pinger.start()

    # --- the book's and the market's events -------------------------------------------------------------------
    def trade_update(self, data):
        payload = json.dumps({"stream": "trade_updates", "data": data}, separators=(",", ":"))
        with self.lock:
            for c in self._ready("trade"):
                if c.listening:
                    c.deliver(payload)

    def market_data(self, symbol, messages):
        """messages: {"bars": {...}, "quotes": {...}, "trades": {...}} for one symbol, sent as one array to each
        data client subscribed to any of them."""
        with self.lock:
            for c in self._ready("data"):
                picked = [m for channel, m in messages.items()
                          if channel in c.subs and ("*" in c.subs[channel] or symbol in c.subs[channel])]
                if picked and (c.feed == "crypto") == ("/" in symbol):
                    c.deliver(json.dumps(picked, separators=(",", ":")))

    def _ready(self, stream):
        return [c for _, c in sorted(self.connections.items())
                if c.stream == stream and c.authenticated and not c.ws.closed.is_set()]

    def apply_queued_faults(self):
        with self.lock:
            for stream in ("trade", "data"):
                ready = self._ready(stream)
                if not ready:
                    continue       # stays queued for the next client that logs in
                for fault in self.faults.take_stream(stream):
                    for c in ready:
                        c.apply_fault(fault)

    # --- connections ---------------------------------------------------------------------------------------
    def serve(self, handler, stream, feed, header_key, header_secret):
        """Runs one upgraded connection on the handler's thread until it ends."""
        ws = ServerWebSocket(handler.connection, handler.rfile, name=f"{stream}")
        with self.lock:
            c = Connection(self, ws, stream, feed)
            self.connections[c.id] = c
            self.counters[f"{stream}_stream_connections"] += 1
        self.log(f"{stream} stream connection {c.id} opened ({handler.path})")
        try:
            if stream == "data":
                c.send_json([{"T": "success", "msg": "connected"}])
                if header_key is not None:
                    self._data_auth(c, header_key, header_secret)
            while True:
                opcode, data = ws.receive()
                self._on_message(c, opcode, data)
        except Closed as why:
            self.log(f"{stream} stream connection {c.id} ended: {why}")
        except Exception as error:             # a bug in the fake: say so and cut this client only
            self.log(f"{stream} stream connection {c.id}: internal error {error!r}")
            ws.abort()
        finally:
            with self.lock:
                self.connections.pop(c.id, None)
            ws.finish()
        return ws.aborted

    def _on_message(self, c, opcode, data):
        try:
            msg = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            msg = None
        if c.stream == "trade":
            self._on_trade_message(c, msg)
        else:
            self._on_data_message(c, msg)

    # --- trading stream -------------------------------------------------------------------------------------
    def _on_trade_message(self, c, msg):
        if not isinstance(msg, dict) or not isinstance(msg.get("data", {}), dict):
            c.send_json({"stream": "error", "data": {"error_message": "invalid data"}})
            return
        action, data = msg.get("action"), msg.get("data") or {}
        if action in ("authenticate", "auth"):
            ok = _same(data.get("key_id"), self.key) and _same(data.get("secret_key"), self.secret)
            if ok and self.faults.auth_fails("trade"):
                ok = False
            if not ok:
                self.counters["stream_auth_failures"] += 1
                c.send_json({"stream": "authorization", "data": {"status": "unauthorized", "action": "authenticate"}})
                c.ws.close(1008, "unauthorized")
                return
            with self.lock:
                c.authenticated = True
                c.send_json({"stream": "authorization", "data": {"status": "authorized", "action": "authenticate"}})
            self.apply_queued_faults()
        elif action == "listen":
            if not c.authenticated:
                c.send_json({"stream": "authorization", "data": {"status": "unauthorized", "action": "listen"}})
                return
            streams = data.get("streams")
            if not isinstance(streams, list):
                c.send_json({"stream": "error", "data": {"error_message": "invalid data"}})
                return
            with self.lock:
                c.listening = "trade_updates" in streams
                c.send_json({"stream": "listening",
                             "data": {"streams": ["trade_updates"] if c.listening else []}})
        else:
            c.send_json({"stream": "error", "data": {"error_message": f"invalid action: {str(action)[:40]}"}})

    # --- market-data stream ----------------------------------------------------------------------------------
    def _error(self, c, code, text):
        c.send_json([{"T": "error", "code": code, "msg": text}])

    def _data_auth(self, c, key, secret):
        if c.authenticated:
            return self._error(c, 403, "already authenticated")
        ok = _same(key, self.key) and _same(secret, self.secret)
        if ok and self.faults.auth_fails("data"):
            ok = False
        if not ok:
            self.counters["stream_auth_failures"] += 1
            self._error(c, 402, "auth failed")
            c.ws.close(1008, "auth failed")
            return
        with self.lock:
            feed_class = "crypto" if c.feed == "crypto" else "stocks"
            busy = any(o is not c and o.stream == "data" and o.authenticated and o.key == key
                       and ("crypto" if o.feed == "crypto" else "stocks") == feed_class and not o.ws.closed.is_set()
                       for o in self.connections.values())
            if busy:
                self.counters["data_connection_limit_refusals"] += 1
                self._error(c, 406, "connection limit exceeded")
                c.ws.close(1008, "connection limit exceeded")
                return
            c.authenticated, c.key = True, key
            c.send_json([{"T": "success", "msg": "authenticated"}])
        self.apply_queued_faults()

    def _on_data_message(self, c, msg):
        if not isinstance(msg, dict):
            return self._error(c, 400, "invalid syntax")
        action = msg.get("action")
        if action == "auth":
            return self._data_auth(c, msg.get("key"), msg.get("secret"))
        if action not in ("subscribe", "unsubscribe"):
            return self._error(c, 400, "invalid syntax")
        if not c.authenticated:
            return self._error(c, 401, "not authenticated")
        with self.lock:
            for channel in c.subs:
                symbols = msg.get(channel)
                if symbols is None:
                    continue
                if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
                    return self._error(c, 400, "invalid syntax")
                if action == "subscribe":
                    c.subs[channel].update(symbols)
                else:
                    c.subs[channel].difference_update(symbols)
            if sum(len(v) for v in c.subs.values()) > MAX_SYMBOLS:
                for v in c.subs.values():
                    v.clear()
                return self._error(c, 405, "symbol limit exceeded")
            reply = {"T": "subscription"}
            reply.update({channel: sorted(v) for channel, v in c.subs.items()})
            c.send_json([reply])
            if c.subs.get("bars"):
                self.subscribed.set()

    # --- keep-alive ----------------------------------------------------------------------------------------
    def _ping_loop(self):
        while not self.stopping.wait(1.0):
            now = time.monotonic()
            with self.lock:
                conns = list(self.connections.values())
            for c in conns:
                if c.ws.closed.is_set():
                    continue
                if c.ws.closing_since is not None and now - c.ws.closing_since > CLOSE_GRACE_S:
                    c.ws.abort()
                elif c.stream == "data" and not c.authenticated and now - c.opened > AUTH_TIMEOUT_S:
                    self._error(c, 404, "auth timeout")
                    c.ws.close(1008, "auth timeout")
                elif now - c.ws.last_heard > DEAD_AFTER_S:
                    self.log(f"{c.stream} stream connection {c.id}: no answer for {DEAD_AFTER_S} s, cut")
                    c.ws.abort()
                elif now - c.last_ping >= PING_EVERY_S:
                    c.last_ping = now
                    c.ws.ping(b"fake-alpaca")

    def close_all(self):
        self.stopping.set()
        with self.lock:
            conns = list(self.connections.values())
        for c in conns:
            c.ws.close(1001, "server going away")
