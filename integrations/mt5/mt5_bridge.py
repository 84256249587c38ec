#!/usr/bin/env python3
"""AITrader MetaTrader 5 bridge: serves a running MT5 terminal's data over TCP to `aitrader` (the Swift MT5Source).

MetaTrader's official Python package (`pip install MetaTrader5`) only works beside the terminal, on Windows or
Windows Python under Wine, so this small server runs there and AITrader connects to it. Standard library only,
besides MetaTrader5. The protocol (newline-delimited JSON, a shared-token handshake) is documented in PROTOCOL.md.

    set AITRADER_MT5_TOKEN=some-long-random-secret
    python mt5_bridge.py --host 127.0.0.1 --port 18812 [--terminal "C:/Program Files/MetaTrader 5/terminal64.exe"]
                         [--login 123 --password ... --server Broker-Demo]

Bind to 127.0.0.1 and tunnel (ssh -L) when AITrader runs on another machine: the token authenticates the client but
the stream is not encrypted. The terminal is not thread safe: calls into MetaTrader5 are serialised by one lock.
"""
import argparse
import hmac
import json
import logging
import os
import signal
import socketserver
import sys
import threading
import time
from datetime import datetime, timezone

PROTOCOL = 1
VERSION = "1.0"
MAX_LINE = 1 << 20          # requests are small; a longer line is refused
MAX_BARS = 200_000          # per rates request; the client splits longer ranges
log = logging.getLogger("mt5_bridge")

try:
    import MetaTrader5 as mt5
except ImportError:  # pragma: no cover - reported at start-up
    mt5 = None

TIMEFRAMES = {}


def _timeframes():
    names = ["M1", "M5", "M15", "M30", "H1", "H4", "D1", "W1", "MN1"]
    return {n: getattr(mt5, "TIMEFRAME_" + n) for n in names}


class BridgeError(Exception):
    def __init__(self, code, message, mt5_code=None):
        super().__init__(message)
        self.code, self.message, self.mt5_code = code, message, mt5_code


class Terminal:
    """The MetaTrader5 package behind a lock, re-initialised once when the terminal connection is lost."""

    def __init__(self, init_kwargs):
        self.lock = threading.Lock()
        self.init_kwargs = init_kwargs
        self.ready = False

    def initialize(self):
        if not mt5.initialize(**self.init_kwargs):
            code, message = mt5.last_error()
            raise BridgeError("not_initialized", f"MetaTrader5.initialize failed: {message}", code)
        self.ready = True

    def call(self, name, *args, **kwargs):
        with self.lock:
            for attempt in (1, 2):
                if not self.ready:
                    self.initialize()
                result = getattr(mt5, name)(*args, **kwargs)
                if result is not None:
                    return result
                code, message = mt5.last_error()
                # -10004 no IPC connection, -10005 IPC timeout: the terminal went away; reconnect once.
                if code in (-10004, -10005) and attempt == 1:
                    log.warning("terminal connection lost (%s %s); re-initialising", code, message)
                    mt5.shutdown()
                    self.ready = False
                    continue
                raise BridgeError("mt5_error", f"{name} failed: {message}", code)

    def info(self):
        with self.lock:
            if not self.ready:
                self.initialize()
            info = mt5.terminal_info()
            version = mt5.version()
        return {"connected": bool(getattr(info, "connected", True)), "company": getattr(info, "company", ""),
                "name": getattr(info, "name", ""), "build": version[1] if version else None}


def _ms(seconds):
    return int(seconds) * 1000


def _utc(ms):
    if not isinstance(ms, (int, float)) or isinstance(ms, bool):
        raise BridgeError("bad_request", f"expected epoch milliseconds, got {ms!r}")
    return datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc)


def _rates(raw):
    out = []
    for r in raw:
        out.append([_ms(r["time"]), float(r["open"]), float(r["high"]), float(r["low"]), float(r["close"]),
                    float(r["tick_volume"]), int(r["spread"]), float(r["real_volume"])])
    return out


def _param(params, name, kind):
    value = params.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BridgeError("bad_request", f"parameter '{name}' is missing or not a {kind.__name__}")
    return value


def _timeframe(params):
    name = _param(params, "timeframe", str)
    if name not in TIMEFRAMES:
        raise BridgeError("bad_request", f"unknown timeframe '{name}' (one of {', '.join(TIMEFRAMES)})")
    return TIMEFRAMES[name]


def handle(terminal, method, params):
    if method == "ping":
        return {"time_ms": int(time.time() * 1000)}
    if method == "terminal":
        return terminal.info()
    if method == "symbols":
        group = params.get("group")
        raw = terminal.call("symbols_get", group=group) if group else terminal.call("symbols_get")
        return {"symbols": [{"name": s.name, "description": getattr(s, "description", ""),
                             "path": getattr(s, "path", ""), "digits": getattr(s, "digits", None),
                             "visible": bool(getattr(s, "visible", True))} for s in raw]}
    if method == "rates_range":
        symbol = _param(params, "symbol", str)
        tf = _timeframe(params)
        start, end = _utc(_param(params, "from", (int, float))), _utc(_param(params, "to", (int, float)))
        if end < start:
            raise BridgeError("bad_request", "'to' is before 'from'")
        raw = terminal.call("copy_rates_range", symbol, tf, start, end)
        if len(raw) > MAX_BARS:
            raise BridgeError("too_large", f"{len(raw)} bars in one request (max {MAX_BARS}); split the range")
        return {"symbol": symbol, "timeframe": params["timeframe"], "rates": _rates(raw)}
    if method == "rates_from_pos":
        symbol = _param(params, "symbol", str)
        tf = _timeframe(params)
        start, count = int(params.get("start_pos", 0)), _param(params, "count", int)
        if not 0 < count <= MAX_BARS or start < 0:
            raise BridgeError("bad_request", f"count must be 1...{MAX_BARS} and start_pos >= 0")
        raw = terminal.call("copy_rates_from_pos", symbol, tf, start, count)
        return {"symbol": symbol, "timeframe": params["timeframe"], "rates": _rates(raw)}
    if method == "tick":
        symbol = _param(params, "symbol", str)
        t = terminal.call("symbol_info_tick", symbol)
        return {"symbol": symbol, "bid": float(t.bid), "ask": float(t.ask), "last": float(t.last),
                "volume": float(t.volume), "time_ms": int(getattr(t, "time_msc", 0) or _ms(t.time))}
    raise BridgeError("unknown_method", f"unknown method '{method}'")


class Handler(socketserver.StreamRequestHandler):
    def setup(self):
        super().setup()
        self.request.settimeout(self.server.idle_timeout)

    def reply(self, obj):
        self.wfile.write((json.dumps(obj, separators=(",", ":")) + "\n").encode())
        self.wfile.flush()

    def read(self):
        line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            return None
        if len(line) > MAX_LINE:
            raise BridgeError("bad_request", "request line too long")
        try:
            msg = json.loads(line)
        except ValueError as e:
            raise BridgeError("bad_request", f"not JSON: {e}")
        if not isinstance(msg, dict) or not isinstance(msg.get("method"), str):
            raise BridgeError("bad_request", "expected an object with 'id', 'method' and 'params'")
        return msg

    def handle(self):
        peer = "%s:%s" % self.client_address[:2]
        try:
            hello = self.read()
            if hello is None:
                return
            token = (hello.get("params") or {}).get("token", "")
            if hello["method"] != "hello" or not isinstance(token, str) or \
                    not hmac.compare_digest(token.encode(), self.server.token.encode()):
                log.warning("rejected client %s: bad handshake", peer)
                self.reply({"id": hello.get("id"), "error": {"code": "unauthorized",
                                                             "message": "handshake failed: bad or missing token"}})
                return
            client_protocol = (hello.get("params") or {}).get("protocol", PROTOCOL)
            if client_protocol != PROTOCOL:
                self.reply({"id": hello.get("id"), "error": {"code": "protocol",
                                                             "message": f"bridge speaks protocol {PROTOCOL}"}})
                return
            self.reply({"id": hello.get("id"), "result": {"server": "aitrader-mt5-bridge", "version": VERSION,
                                                          "protocol": PROTOCOL}})
            log.info("client %s connected", peer)
            while True:
                try:
                    msg = self.read()
                except BridgeError as e:
                    self.reply({"id": None, "error": {"code": e.code, "message": e.message}})
                    continue
                if msg is None:
                    break
                rid = msg.get("id")
                try:
                    params = msg.get("params") or {}
                    if not isinstance(params, dict):
                        raise BridgeError("bad_request", "'params' must be an object")
                    self.reply({"id": rid, "result": handle(self.server.terminal, msg["method"], params)})
                except BridgeError as e:
                    err = {"code": e.code, "message": e.message}
                    if e.mt5_code is not None:
                        err["mt5_code"] = e.mt5_code
                    self.reply({"id": rid, "error": err})
                except Exception as e:  # keep serving; report what broke
                    log.exception("request %s failed", rid)
                    self.reply({"id": rid, "error": {"code": "internal", "message": f"{type(e).__name__}: {e}"}})
        except (ConnectionError, TimeoutError, OSError) as e:
            log.info("client %s gone: %s", peer, e)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=18812, help="0 picks a free port (printed as 'PORT n')")
    ap.add_argument("--token", default=os.environ.get("AITRADER_MT5_TOKEN"),
                    help="shared secret (default: $AITRADER_MT5_TOKEN)")
    ap.add_argument("--terminal", help="path of terminal64.exe (default: the installed terminal)")
    ap.add_argument("--login", type=int)
    ap.add_argument("--password")
    ap.add_argument("--server")
    ap.add_argument("--idle-timeout", type=float, default=300, help="seconds before an idle client is dropped")
    ap.add_argument("--max-lifetime", type=float, default=0,
                    help="stop after this many seconds (0 = run until stopped; tests use it as a safety net)")
    ap.add_argument("--log-level", default="INFO")
    args = ap.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if mt5 is None:
        log.error("the MetaTrader5 package is not installed (pip install MetaTrader5, on Windows or Wine)")
        return 2
    if not args.token or len(args.token) < 8:
        log.error("a shared token of at least 8 characters is required (--token or AITRADER_MT5_TOKEN)")
        return 2
    global TIMEFRAMES
    TIMEFRAMES = _timeframes()
    init = {}
    if args.terminal:
        init["path"] = args.terminal
    if args.login:
        init.update(login=args.login, password=args.password or "", server=args.server or "")
    terminal = Terminal(init)
    try:
        terminal.initialize()
    except BridgeError as e:
        log.warning("%s (will retry on the first request)", e.message)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Server((args.host, args.port), Handler) as server:
        server.token, server.terminal, server.idle_timeout = args.token, terminal, args.idle_timeout
        host, port = server.server_address[:2]
        log.info("aitrader-mt5-bridge %s listening on %s:%s", VERSION, host, port)
        print(f"PORT {port}", flush=True)
        if args.max_lifetime > 0:
            timer = threading.Timer(args.max_lifetime, server.shutdown)
            timer.daemon = True
            timer.start()
        try:
            server.serve_forever()
        finally:
            mt5.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
