#!/usr/bin/env python3
"""AITrader MetaTrader 5 bridge: serves a running MT5 terminal's data over TCP to `aitrader` (the Swift MT5Source).

MetaTrader's official Python package (`pip install MetaTrader5`) only works beside the terminal, on Windows or
Windows Python under Wine, so this small server runs there and AITrader connects to it. Standard library only,
besides MetaTrader5. The protocol (newline-delimited JSON, a shared-token handshake) is documented in PROTOCOL.md.

    set AITRADER_MT5_TOKEN=some-long-random-secret        (or --token-file PATH, a file only its owner can read)
    python mt5_bridge.py --host 127.0.0.1 --port 18812 [--terminal "C:/Program Files/MetaTrader 5/terminal64.exe"]
                         [--login 123 --server Broker-Demo]  (password: AITRADER_MT5_PASSWORD or --password-file)

Secrets never travel on the command line (every local user can read it in `ps`): `--token` and `--password` are
refused. Bind to 127.0.0.1 and tunnel (ssh -L) when AITrader runs on another machine: the token authenticates the
client but the stream is not encrypted. The terminal is not thread safe: calls into MetaTrader5 are serialised by
one lock.

Untrusted clients cannot exhaust the bridge: at most `--max-connections` clients at once (more are answered `busy`
and closed), the handshake must arrive within `--handshake-timeout` seconds and fit in 4 KiB, a request line fits in
1 MiB (a longer one is answered `too_large` and the connection closed), so buffered input is bounded by
max-connections x (1 MiB + 64 KiB); malformed input of any kind is answered with an error, never a traceback.
"""
import argparse
import hmac
import json
import logging
import os
import signal
import socket
import socketserver
import stat
import sys
import threading
import time
from datetime import datetime, timezone

PROTOCOL = 1
VERSION = "1.0"
MAX_LINE = 1 << 20          # requests are small; a longer line is refused
MAX_HELLO = 4096            # the handshake line, before the client is authenticated
RECV_CHUNK = 1 << 16        # bytes read at a time: a connection buffers at most its line limit + this
LINGER_S = 1.0              # after an error that closes a connection: how long unread input is drained (discarded)
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

    def call(self, name, *args, empty_ok=False, **kwargs):
        """`name(*args, **kwargs)` of the package. `empty_ok`: the call answers a list, and None with last_error
        still 1 (success) means an empty one (some builds answer a query that matches nothing that way)."""
        with self.lock:
            for attempt in (1, 2):
                if not self.ready:
                    self.initialize()
                result = getattr(mt5, name)(*args, **kwargs)
                if result is not None:
                    return result
                code, message = mt5.last_error()
                if empty_ok and code == 1:
                    return ()
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
    if method in TRADING:
        return TRADING[method](terminal, params)
    raise BridgeError("unknown_method", f"unknown method '{method}'")


# ---- Trading: the MetaTrader5 calls for orders, positions, deals and the account, records passed through as objects
# with MetaTrader's own field names and numeric constants (TRADE_ACTION_*, ORDER_TYPE_*, ORDER_STATE_*, ...).

ORDER_FIELDS = {"action": int, "magic": int, "order": int, "symbol": str, "volume": (int, float),
                "price": (int, float), "stoplimit": (int, float), "sl": (int, float), "tp": (int, float),
                "deviation": int, "type": int, "type_filling": int, "type_time": int, "expiration": int,
                "comment": str, "position": int, "position_by": int}
MAX_COMMENT = 31            # MetaTrader's limit on an order comment


def _record(obj):
    return obj._asdict() if hasattr(obj, "_asdict") else {k: getattr(obj, k) for k in dir(obj) if not k.startswith("_")}


def _records(raw):
    return [_record(r) for r in raw]


def _order_request(params):
    request = params.get("request")
    if not isinstance(request, dict):
        raise BridgeError("bad_request", "parameter 'request' is missing or not an object")
    for key, value in request.items():
        kind = ORDER_FIELDS.get(key)
        if kind is None:
            raise BridgeError("bad_request", f"unknown order field '{key}'")
        if not isinstance(value, kind) or isinstance(value, bool):
            raise BridgeError("bad_request", f"order field '{key}' has the wrong type")
    if "action" not in request:
        raise BridgeError("bad_request", "order field 'action' is required")
    if len(request.get("comment", "")) > MAX_COMMENT:
        raise BridgeError("bad_request", f"order comment longer than {MAX_COMMENT} characters")
    return request


def _order_send(terminal, params):
    result = terminal.call("order_send", _order_request(params))
    out = _record(result)
    out.pop("request", None)
    return out


def _range(params):
    start, end = _utc(_param(params, "from", (int, float))), _utc(_param(params, "to", (int, float)))
    if end < start:
        raise BridgeError("bad_request", "'to' is before 'from'")
    return start, end


def _ticket(params):
    """The optional `ticket` parameter: None, or a positive integer."""
    ticket = params.get("ticket")
    if ticket is None:
        return None
    if not isinstance(ticket, int) or isinstance(ticket, bool) or ticket <= 0:
        raise BridgeError("bad_request", "parameter 'ticket' is not a positive integer")
    return ticket


def _filtered(terminal, name, params):
    """`orders_get` / `positions_get`: all, one symbol's, or one ticket's."""
    symbol, ticket = params.get("symbol"), _ticket(params)
    if symbol is not None and not isinstance(symbol, str):
        raise BridgeError("bad_request", "parameter 'symbol' is not a str")
    if ticket is not None:
        return _records(terminal.call(name, ticket=ticket, empty_ok=True))
    return _records(terminal.call(name, symbol=symbol, empty_ok=True) if symbol else terminal.call(name, empty_ok=True))


def _history(terminal, name, params):
    """`history_orders_get` / `history_deals_get`: one order's records by `ticket` (for deals: the order's deals),
    else those in the range `from`...`to`."""
    ticket = _ticket(params)
    if ticket is not None:
        return _records(terminal.call(name, ticket=ticket, empty_ok=True))
    return _records(terminal.call(name, *_range(params), empty_ok=True))


def _clock(terminal, params):
    """A symbol's market clock as the terminal sees it: its last tick's time (server time, ms), its trade mode
    (SYMBOL_TRADE_MODE_*), whether the terminal is connected to the trade server and allows algorithmic trading,
    and the bridge machine's own clock (UTC ms). The package exposes no trading sessions (those are MQL5-only)."""
    symbol = _param(params, "symbol", str)
    tick = terminal.call("symbol_info_tick", symbol)
    info = terminal.call("symbol_info", symbol)
    term = terminal.call("terminal_info")
    return {"symbol": symbol, "time_ms": int(getattr(tick, "time_msc", 0) or _ms(tick.time)),
            "trade_mode": int(getattr(info, "trade_mode", 0)), "connected": bool(getattr(term, "connected", False)),
            "trade_allowed": bool(getattr(term, "trade_allowed", False)), "bridge_time_ms": int(time.time() * 1000)}


TRADING = {
    "order_send": _order_send,
    "account_info": lambda terminal, params: _record(terminal.call("account_info")),
    "symbol_info": lambda terminal, params: _record(terminal.call("symbol_info", _param(params, "symbol", str))),
    "positions_get": lambda terminal, params: {"positions": _filtered(terminal, "positions_get", params)},
    "orders_get": lambda terminal, params: {"orders": _filtered(terminal, "orders_get", params)},
    "history_orders_get": lambda terminal, params: {"orders": _history(terminal, "history_orders_get", params)},
    "history_deals_get": lambda terminal, params: {"deals": _history(terminal, "history_deals_get", params)},
    "clock": _clock,
}


class LineReader:
    """Newline-delimited input from a socket with a hard bound on buffered bytes (`limit` + one recv chunk)."""

    def __init__(self, sock):
        self.sock, self.buffer = sock, bytearray()

    def readline(self, limit, deadline=None):
        """The next line without its newline; None at end of input. Raises `BridgeError('too_large')` once more than
        `limit` bytes arrive without a newline, `TimeoutError` past `deadline` (time.monotonic)."""
        while True:
            nl = self.buffer.find(b"\n")
            if 0 <= nl <= limit:
                line = bytes(self.buffer[:nl])
                del self.buffer[:nl + 1]
                return line
            if nl > limit or len(self.buffer) > limit:
                self.buffer.clear()
                raise BridgeError("too_large", f"request line longer than {limit} bytes")
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("handshake timed out")
                self.sock.settimeout(remaining)
            chunk = self.sock.recv(RECV_CHUNK)
            if not chunk:
                return None
            self.buffer += chunk


def _decode(line):
    """A request object from one line, or `BridgeError('bad_request')` for anything else (never another exception)."""
    try:
        msg = json.loads(line)
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError; deep nesting a RecursionError
        raise BridgeError("bad_request", f"not JSON: {type(e).__name__}")
    if not isinstance(msg, dict) or not isinstance(msg.get("method"), str):
        raise BridgeError("bad_request", "expected an object with 'id', 'method' and 'params'")
    if not isinstance(msg.get("params", {}), (dict, type(None))):
        raise BridgeError("bad_request", "'params' must be an object")
    rid = msg.get("id")
    if rid is not None and (not isinstance(rid, (int, str)) or isinstance(rid, bool)):
        raise BridgeError("bad_request", "'id' must be an integer or a string")
    return msg


class Handler(socketserver.BaseRequestHandler):
    def reply(self, obj):
        self.request.sendall((json.dumps(obj, separators=(",", ":")) + "\n").encode())

    def fail(self, rid, error):
        err = {"code": error.code, "message": error.message}
        if error.mt5_code is not None:
            err["mt5_code"] = error.mt5_code
        self.reply({"id": rid, "error": err})

    def handle(self):
        peer = "%s:%s" % self.client_address[:2]
        reader = LineReader(self.request)
        try:
            if not self.handshake(reader, peer):
                return
            log.info("client %s connected", peer)
            self.request.settimeout(self.server.idle_timeout)
            while True:
                try:
                    line = reader.readline(MAX_LINE)
                    if line is None:
                        break
                    msg = _decode(line)
                except BridgeError as e:
                    self.fail(None, e)
                    if e.code == "too_large":  # the rest of that line cannot be told from the next request
                        return
                    continue
                rid = msg.get("id")
                try:
                    result = handle(self.server.terminal, msg["method"], msg.get("params") or {})
                except BridgeError as e:
                    self.fail(rid, e)
                    continue
                except Exception as e:  # the terminal call broke (even with an OSError): keep serving, report it
                    log.exception("request %s failed", rid)
                    self.reply({"id": rid, "error": {"code": "internal", "message": f"{type(e).__name__}: {e}"}})
                    continue
                self.reply({"id": rid, "result": result})  # an OSError here: the client went away
        except (TimeoutError, socket.timeout) as e:  # socket.timeout is TimeoutError from Python 3.10
            log.info("client %s dropped: %s", peer, e)
        except OSError as e:
            log.info("client %s gone: %s", peer, e)
        except Exception:  # a bug, never a crash of the bridge: log it, drop this client
            log.exception("client %s: unexpected error", peer)

    def handshake(self, reader, peer):
        """Reads and checks `hello` within the handshake deadline; answers every failure with an error."""
        rid = None
        try:
            line = reader.readline(MAX_HELLO, deadline=time.monotonic() + self.server.handshake_timeout)
            if line is None:
                return False
            hello = _decode(line)
            rid = hello.get("id")
            params = hello.get("params") or {}
            token = params.get("token", "")
            if hello["method"] != "hello" or not isinstance(token, str) or \
                    not hmac.compare_digest(token.encode(), self.server.token.encode()):
                raise BridgeError("unauthorized", "handshake failed: bad or missing token")
            if params.get("protocol", PROTOCOL) != PROTOCOL:
                raise BridgeError("protocol", f"bridge speaks protocol {PROTOCOL}")
        except (TimeoutError, socket.timeout):
            log.warning("dropped client %s: no handshake within %s s", peer, self.server.handshake_timeout)
            self.fail(None, BridgeError("timeout", f"no handshake within {self.server.handshake_timeout} s"))
            return False
        except BridgeError as e:
            log.warning("rejected client %s: %s", peer, e.message)
            self.fail(rid, e)
            return False
        self.reply({"id": rid, "result": {"server": "aitrader-mt5-bridge", "version": VERSION, "protocol": PROTOCOL}})
        return True

    def finish(self):
        _linger(self.request)


def _linger(sock):
    """Closes gracefully: stop sending, then read and discard what the client still sends (bounded in time), so the
    last error reply is not lost to a TCP reset caused by unread input."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER_S
        while (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            if not sock.recv(RECV_CHUNK):
                break
    except OSError:
        pass


class Server(socketserver.ThreadingTCPServer):
    """One thread per client, at most `max_connections` of them: a client beyond the cap is answered `busy`."""
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, handler, max_connections):
        super().__init__(address, handler)
        self.max_connections = max_connections
        self.active = 0
        self.slots = threading.Lock()

    def verify_request(self, request, client_address):
        with self.slots:
            admitted = self.active < self.max_connections
            if admitted:
                self.active += 1
        if not admitted:
            log.warning("refused client %s:%s: %d connections open (--max-connections)", *client_address[:2],
                        self.max_connections)
            try:
                request.settimeout(1)
                request.sendall(b'{"id":null,"error":{"code":"busy","message":"too many connections; retry later"}}\n')
            except OSError:
                pass
        return admitted

    def _release(self):
        with self.slots:
            self.active -= 1

    def process_request(self, request, client_address):
        try:
            super().process_request(request, client_address)
        except BaseException:  # the thread did not start: its slot is free again
            self._release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release()


def read_secret(path, what):
    """The first line of a file only its owner can read (on POSIX; Windows files are protected by ACLs instead)."""
    try:
        info = os.stat(path)
        if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SystemExit(f"{what} file {path} is readable by other users: chmod 600 it")
        with open(path, encoding="utf-8") as f:
            value = f.readline().strip()
    except OSError as e:
        raise SystemExit(f"cannot read the {what} file {path}: {e.strerror}")
    if not value:
        raise SystemExit(f"the {what} file {path} is empty")
    return value


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=18812, help="0 picks a free port (printed as 'PORT n')")
    ap.add_argument("--token-file", help="file holding the shared secret (default: $AITRADER_MT5_TOKEN)")
    ap.add_argument("--token", help=argparse.SUPPRESS)
    ap.add_argument("--terminal", help="path of terminal64.exe (default: the installed terminal)")
    ap.add_argument("--login", type=int)
    ap.add_argument("--password-file", help="file holding the account password (default: $AITRADER_MT5_PASSWORD)")
    ap.add_argument("--password", help=argparse.SUPPRESS)
    ap.add_argument("--server")
    ap.add_argument("--idle-timeout", type=float, default=300, help="seconds before an idle client is dropped")
    ap.add_argument("--handshake-timeout", type=float, default=10,
                    help="seconds a new client has to complete the handshake")
    ap.add_argument("--max-connections", type=int, default=16, help="clients served at once; more are refused")
    ap.add_argument("--max-lifetime", type=float, default=0,
                    help="stop after this many seconds (0 = run until stopped; tests use it as a safety net)")
    ap.add_argument("--log-level", default="INFO")
    args = ap.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if mt5 is None:
        log.error("the MetaTrader5 package is not installed (pip install MetaTrader5, on Windows or Wine)")
        return 2
    for flag in ("token", "password"):
        if getattr(args, flag) is not None:
            log.error("--%s on the command line is visible to every user of this machine (ps); use "
                      "AITRADER_MT5_%s or --%s-file instead", flag, flag.upper(), flag)
            return 2
    if not (args.handshake_timeout > 0 and args.idle_timeout > 0 and args.max_connections > 0):
        log.error("--handshake-timeout, --idle-timeout and --max-connections must be positive")
        return 2
    try:
        token = read_secret(args.token_file, "token") if args.token_file else os.environ.get("AITRADER_MT5_TOKEN")
        password = read_secret(args.password_file, "password") if args.password_file \
            else os.environ.get("AITRADER_MT5_PASSWORD")
    except SystemExit as e:
        log.error("%s", e)
        return 2
    if not token or len(token) < 8:
        log.error("a shared token of at least 8 characters is required (AITRADER_MT5_TOKEN or --token-file)")
        return 2
    global TIMEFRAMES
    TIMEFRAMES = _timeframes()
    init = {}
    if args.terminal:
        init["path"] = args.terminal
    if args.login:
        init.update(login=args.login, password=password or "", server=args.server or "")
    terminal = Terminal(init)
    try:
        terminal.initialize()
    except BridgeError as e:
        log.warning("%s (will retry on the first request)", e.message)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Server((args.host, args.port), Handler, args.max_connections) as server:
        server.token, server.terminal = token, terminal
        server.idle_timeout, server.handshake_timeout = args.idle_timeout, args.handshake_timeout
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
