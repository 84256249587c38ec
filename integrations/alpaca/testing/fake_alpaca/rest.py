"""The HTTP side of the fake: one port for trading REST, market-data REST, both websocket streams and `/_fake/`.

Every REST answer carries X-Ratelimit-Limit / -Remaining / -Reset and X-Request-ID. A request meets, in order:
injected 429/5xx faults, the rolling-minute rate limit (429 `rate limit exceeded`), then the key check (401
`request is not authorized`). `/_fake/...` (the control API) needs no key and is never limited or faulted.
At most `max_connections` TCP connections are served at once (websockets included); more are answered 503.
"""
import base64
import datetime as dt
import binascii
import json
import threading
import time
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from . import queries
from .clock import DAY, US, parse_date, parse_time
from .faults import FaultSpecError
from .market import timeframe_seconds
from .orders import ApiError, OrderRequest, decimal_field, invalid
from .websocket import accept_key

MAX_BODY = 1 << 20
BARS_LIMIT_DEFAULT, BARS_LIMIT_MAX = 1000, 10000
DATA_STREAMS = {"/v2/iex": "iex", "/v2/sip": "sip", "/v2/delayed_sip": "delayed_sip", "/v2/test": "test",
                "/v1beta3/crypto/us": "crypto"}
GATEWAY_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
               b"</h1></center>\r\n</body>\r\n</html>\r\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, app, max_connections=64, verbose=False):
        super().__init__(address, Handler)
        self.app = app
        self.max_connections = max_connections
        self.verbose = verbose
        self.active = 0
        self.active_lock = threading.Lock()
        self.aborted = set()

    def process_request(self, request, client_address):
        with self.active_lock:
            full = self.active >= self.max_connections
            if not full:
                self.active += 1
        if full:
            body = b'{"code":50310000,"message":"too many connections to the fake broker"}'
            try:
                request.settimeout(1)
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.active_lock:
                self.active -= 1

    def shutdown_request(self, request):
        if request in self.aborted:          # a stream drop fault: close with a reset, no FIN first
            self.aborted.discard(request)
            try:
                request.close()
            except OSError:
                pass
            return
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        pass                                   # a client that went away mid-request is not the fake's problem


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes: with Nagle's algorithm on, the body waits for the client's delayed
    # ACK of the headers (40 ms a request on Linux loopback). Real servers send at once; so does the fake.
    disable_nagle_algorithm = True
    server_version = "fake-alpaca/1.0"
    timeout = 120                              # an idle keep-alive connection is closed after this

    def log_message(self, fmt, *args):
        if self.server.verbose:
            self.server.app.log("http " + (fmt % args))

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):
        self.dispatch("PUT")

    # --- plumbing ----------------------------------------------------------------------------------------------
    def send_body(self, status, body, headers=None, content_type="application/json; charset=UTF-8"):
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("X-Request-ID", uuid.uuid4().hex)
        if status != 204:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 204:
            self.wfile.write(data)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline(64).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline(64)
                    return data
                if len(data) + size > MAX_BODY:
                    raise ApiError(413, 41300000, "request body too large")
                data += self.rfile.read(size)
                self.rfile.readline(64)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(400, 40010000, "invalid Content-Length") from None
        if length > MAX_BODY or length < 0:
            self.close_connection = True
            raise ApiError(413, 41300000, "request body too large")
        return self.rfile.read(length) if length else b""

    def read_json(self, required=True):
        data = self.body
        if not data:
            if required:
                raise ApiError(400, 40010000, "request body format is invalid")
            return None
        try:
            return json.loads(data, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, 40010000, "request body format is invalid") from None

    def dispatch(self, method):
        app = self.server.app
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            if method == "GET" and "websocket" in self.headers.get("Upgrade", "").lower():
                return self.upgrade(path)
            self.body = self.read_body()        # always, so a keep-alive connection stays in step
            if path.startswith("/_fake/"):
                return self.control(method, path, query)
            self.rest(method, path, query)
        except ApiError as error:
            self.send_body(error.status, error.body(), self.rate_headers)
        except BrokenPipeError:
            self.close_connection = True
        except Exception as error:            # a bug in the fake: say so, keep serving
            app.log(f"internal error on {method} {path}: {error!r}")
            self.send_body(500, {"code": 50010000, "message": f"fake broker internal error: {error}"})

    # --- REST ------------------------------------------------------------------------------------------------
    def rest(self, method, path, query):
        app = self.server.app
        with app.book.lock:
            app.counters["requests"] += 1
        fault = app.faults.rest(method, path)
        if fault is not None:
            return self.answer_fault(fault)
        allowed, remaining, reset = app.limiter.take()
        self.rate_headers = {"X-Ratelimit-Limit": str(app.limiter.limit), "X-Ratelimit-Remaining": str(remaining),
                             "X-Ratelimit-Reset": str(reset)}
        if not allowed:
            with app.book.lock:
                app.counters["rate_limited"] += 1
            return self.send_body(429, {"code": 42910000, "message": "rate limit exceeded"}, self.rate_headers)
        if not (self.headers.get("APCA-API-KEY-ID") == app.key
                and self.headers.get("APCA-API-SECRET-KEY") == app.secret):
            with app.book.lock:
                app.counters["unauthorized"] += 1
            return self.send_body(401, {"code": 40110000, "message": "request is not authorized"}, self.rate_headers)
        route = self.route(method, path)
        if route is None:
            return self.send_body(404, {"code": 40410000, "message": f"endpoint not found: {path[:80]}"},
                                  self.rate_headers)
        handler, args = route
        if handler is None:
            return self.send_body(405, {"code": 40510000, "message": f"method {method} not allowed on {path[:80]}"},
                                  self.rate_headers)
        result = handler(query, *args)
        if result is not None:
            status, body = result
            self.send_body(status, body, self.rate_headers)

    rate_headers = {}

    def answer_fault(self, fault):
        kind = fault["kind"]
        with self.server.app.book.lock:
            self.server.app.counters["faulted_requests"] += 1
        if kind == "429":
            headers = {"X-Ratelimit-Limit": str(self.server.app.limiter.limit), "X-Ratelimit-Remaining": "0",
                       "X-Ratelimit-Reset": str(int(time.time() + fault["reset_in"]))}
            return self.send_body(429, {"code": 42910000, "message": "rate limit exceeded"}, headers)
        if kind == "502":
            return self.send_body(502, GATEWAY_502, content_type="text/html")
        message = {"500": "internal server error", "503": "service unavailable"}[kind]
        return self.send_body(int(kind), {"code": int(kind) * 100000 + 10000, "message": message})

    def route(self, method, path):
        """-> (handler or None when the method is wrong, extra args) or None when no such endpoint."""
        fixed = {
            "/v2/account": {"GET": self.get_account},
            "/v2/orders": {"GET": self.list_orders, "POST": self.post_order, "DELETE": self.cancel_all},
            "/v2/orders:by_client_order_id": {"GET": self.order_by_client_id},
            "/v2/positions": {"GET": self.list_positions, "DELETE": self.close_all},
            "/v2/clock": {"GET": self.get_clock},
            "/v2/calendar": {"GET": self.get_calendar},
            "/v2/assets": {"GET": self.list_assets},
            "/v2/account/activities": {"GET": self.activities},
            "/v2/stocks/bars": {"GET": self.bars},
            "/v1beta3/crypto/us/bars": {"GET": self.bars},
        }
        if path in fixed:
            return fixed[path].get(method), ()
        prefixed = [
            ("/v2/orders/", {"GET": self.get_order, "PATCH": self.replace_order, "DELETE": self.cancel_order}),
            ("/v2/positions/", {"GET": self.get_position, "DELETE": self.close_position}),
            ("/v2/assets/", {"GET": self.get_asset}),
            ("/v2/account/activities/", {"GET": self.activities_of_type}),
        ]
        for prefix, methods in prefixed:
            if path.startswith(prefix) and len(path) > len(prefix):
                return methods.get(method), (path[len(prefix):],)
        if path.startswith("/v2/stocks/") and path.endswith("/bars") and path.count("/") == 4:
            return ({"GET": self.single_symbol_bars}.get(method), (path.split("/")[3],))
        return None

    def get_account(self, query):
        return 200, queries.account(self.server.app.book)

    def list_orders(self, query):
        return 200, queries.list_orders(self.server.app.book, query)

    def get_order(self, query, order_id):
        return 200, queries.get_order(self.server.app.book, order_id, query)

    def order_by_client_id(self, query):
        return 200, queries.order_by_client_id(self.server.app.book, query.get("client_order_id"))

    def post_order(self, query):
        app = self.server.app
        body = self.read_json()
        book = app.book
        req = OrderRequest.parse(body, lambda s: book.market.symbols.get(queries.find_asset(book, s) or ""))
        order = book.submit(req, reject=app.faults.reject, parts=app.faults.partial_parts)
        timeout = app.faults.order_timeout()
        if timeout is not None:
            if timeout.get("close"):
                self.close_connection = True      # booked, but the client never hears of it
                return None
            time.sleep(timeout["seconds"])
        return 200, order

    def replace_order(self, query, order_id):
        return 200, self.server.app.book.replace(order_id, self.read_json())

    def cancel_order(self, query, order_id):
        self.server.app.book.cancel(order_id)
        return 204, b""

    def cancel_all(self, query):
        return 207, self.server.app.book.cancel_all()

    def list_positions(self, query):
        return 200, queries.positions(self.server.app.book)

    def _position_symbol(self, symbol):
        found = queries.find_asset(self.server.app.book, symbol)
        if found is None:
            raise ApiError(404, 40410000, "position does not exist")
        return found

    def get_position(self, query, symbol):
        return 200, queries.one_position(self.server.app.book, self._position_symbol(symbol))

    def close_position(self, query, symbol):
        qty = decimal_field(query, "qty")
        percentage = decimal_field(query, "percentage")
        if qty is not None and percentage is not None:
            raise invalid("only one of qty or percentage may be given")
        return 200, self.server.app.book.close_position(self._position_symbol(symbol), qty, percentage)

    def close_all(self, query):
        book = self.server.app.book
        cancel = query.get("cancel_orders", "false").lower() == "true"
        with book.lock:
            if cancel:
                book.cancel_all()
            out = []
            for symbol in sorted(book.positions):
                try:
                    out.append({"symbol": symbol, "status": 200, "body": book.close_position(symbol)})
                except ApiError as error:
                    out.append({"symbol": symbol, "status": error.status, "body": error.body()})
        return 207, out

    def get_clock(self, query):
        return 200, self.server.app.clock()

    def get_calendar(self, query):
        app = self.server.app
        today = app.session.trading_date(app.market.now)
        try:
            first = parse_date(query["start"][:10]) if query.get("start") else today
            last = parse_date(query["end"][:10]) if query.get("end") else first + dt.timedelta(days=30)
        except ValueError as error:
            raise invalid(str(error)) from None
        if last < first:
            raise invalid("end must not be before start")
        if (last - first).days > 5000:
            raise invalid("the calendar range is limited to 5000 days")
        return 200, app.session.calendar(first, last)

    def list_assets(self, query):
        book = self.server.app.book
        wanted = query.get("asset_class")
        status = query.get("status", "active")
        rows = [queries.asset(book, s) for s in sorted(book.market.symbols)]
        return 200, [r for r in rows if (not wanted or r["class"] == wanted) and status in ("active", "")]

    def get_asset(self, query, symbol):
        book = self.server.app.book
        found = queries.find_asset(book, symbol)
        if found is None:
            raise ApiError(404, 40410000, f"asset not found for {symbol[:64]}")
        return 200, queries.asset(book, found)

    def activities(self, query):
        types = {t for t in query.get("activity_types", query.get("activity_type", "FILL")).split(",") if t}
        if "FILL" not in types:
            return 200, []
        return 200, queries.fill_activities(self.server.app.book, query)

    def activities_of_type(self, query, kind):
        if kind != "FILL":
            return 200, []                      # the fake books fills only (no fees, dividends or transfers)
        return 200, queries.fill_activities(self.server.app.book, query)

    # --- market-data REST --------------------------------------------------------------------------------------
    def _bar_query(self, query, symbols):
        app = self.server.app
        try:
            seconds = timeframe_seconds(query.get("timeframe", ""))
        except ValueError as error:
            raise ApiError(422, 42210000, str(error)) from None
        if query.get("adjustment", "raw") not in ("raw", "split", "dividend", "all"):
            raise ApiError(422, 42210000, "invalid adjustment")
        if query.get("sort", "asc") not in ("asc", "desc"):
            raise ApiError(422, 42210000, "invalid sort")
        try:
            limit = int(query.get("limit", BARS_LIMIT_DEFAULT))
        except ValueError:
            raise ApiError(422, 42210000, "invalid limit") from None
        if not 1 <= limit <= BARS_LIMIT_MAX:
            raise ApiError(422, 42210000, f"limit must be between 1 and {BARS_LIMIT_MAX}")
        with app.book.lock:
            now = app.market.now
            try:
                start = parse_time(query["start"]) // US if query.get("start") else now - now % DAY
                end = parse_time(query["end"]) // US if query.get("end") else now
            except ValueError as error:
                raise ApiError(422, 42210000, str(error)) from None
            if end < start:
                raise ApiError(422, 42210000, "end should not be before start")
            rows = []
            for symbol in sorted(set(symbols)):
                found = queries.find_asset(app.book, symbol)
                if found is None:
                    continue                    # Alpaca leaves symbols without data out
                try:
                    bars = app.market.bars(found, seconds, start, end)
                except ValueError as error:
                    raise ApiError(422, 42210000, str(error)) from None
                if query.get("sort") == "desc":
                    bars.reverse()
                rows.extend((symbol, b) for b in bars)
        token = query.get("page_token")
        offset = 0
        if token:
            try:
                offset = int(base64.b64decode(token, validate=True).decode())
            except (binascii.Error, ValueError, UnicodeDecodeError):
                raise ApiError(422, 42210000, "invalid page_token") from None
        page = rows[offset:offset + limit]
        more = offset + limit < len(rows)
        return page, (base64.b64encode(str(offset + limit).encode()).decode() if more else None)

    def bars(self, query):
        symbols = [s for s in query.get("symbols", "").split(",") if s]
        if not symbols:
            raise ApiError(422, 42210000, "symbols is required")
        page, token = self._bar_query(query, symbols)
        grouped = {}
        for symbol, bar in page:
            grouped.setdefault(symbol, []).append(bar)
        body = {"bars": grouped, "next_page_token": token}
        if self.path.startswith("/v1beta3/"):
            body["currency"] = None
        return 200, body

    def single_symbol_bars(self, query, symbol):
        page, token = self._bar_query(query, [symbol])
        return 200, {"bars": [b for _, b in page], "symbol": symbol, "next_page_token": token}

    # --- websockets ----------------------------------------------------------------------------------------
    def upgrade(self, path):
        app = self.server.app
        stream = "trade" if path == "/stream" else ("data" if path in DATA_STREAMS else None)
        if stream is None:
            return self.send_body(404, {"code": 40410000, "message": f"no stream at {path[:80]}"})
        key = self.headers.get("Sec-WebSocket-Key", "")
        try:
            valid_key = len(base64.b64decode(key, validate=True)) == 16
        except (binascii.Error, ValueError):
            valid_key = False
        if ("upgrade" not in self.headers.get("Connection", "").lower() or not valid_key
                or self.headers.get("Sec-WebSocket-Version") != "13"):
            self.close_connection = True
            return self.send_body(400, {"code": 40010000, "message": "bad websocket handshake"},
                                  {"Sec-WebSocket-Version": "13"})
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept_key(key))
        self.end_headers()
        self.wfile.flush()
        self.connection.settimeout(None)
        self.close_connection = True
        aborted = app.hub.serve(self, stream, DATA_STREAMS.get(path, "trade"),
                                self.headers.get("APCA-API-KEY-ID"), self.headers.get("APCA-API-SECRET-KEY"))
        if aborted:
            self.server.aborted.add(self.connection)

    # --- control API -------------------------------------------------------------------------------------------
    def control(self, method, path, query):
        app = self.server.app
        if (method, path) == ("GET", "/_fake/state"):
            return self.send_body(200, app.state())
        if (method, path) == ("GET", "/_fake/faults"):
            return self.send_body(200, {"pending": app.faults.pending(), "injected": app.faults.counts()})
        if method != "POST" or path not in ("/_fake/advance", "/_fake/faults", "/_fake/price"):
            return self.send_body(404, {"message": f"no control endpoint {method} {path[:80]}"})
        body = self.read_json(required=False)
        if path == "/_fake/advance":
            bars = 1 if body is None else body.get("bars", 1) if isinstance(body, dict) else None
            if isinstance(bars, bool) or not isinstance(bars, int) or not 1 <= bars <= 1_000_000:
                return self.send_body(400, {"message": "advance takes {\"bars\": n} with 1 <= n <= 1000000"})
            published = app.advance(bars)
            state = app.clock()
            return self.send_body(200, {"published": published, "now": state["timestamp"],
                                        "now_unix": app.market.now, "finished": app.market.finished,
                                        "published_bars": app.market.published_steps})
        if path == "/_fake/faults":
            specs = body if isinstance(body, list) else [body] if isinstance(body, dict) else None
            if specs is None:
                return self.send_body(400, {"message": "faults takes a JSON list of fault objects"})
            try:
                queued = app.faults.add(specs)
            except FaultSpecError as error:
                return self.send_body(400, {"message": str(error)})
            return self.send_body(200, {"queued": queued, "pending": app.faults.pending()})
        symbol = body.get("symbol") if isinstance(body, dict) else None
        found = queries.find_asset(app.book, symbol) if isinstance(symbol, str) else None
        if found is None:
            return self.send_body(400, {"message": f"price takes {{\"symbol\", \"price\"}} for a served symbol"})
        try:
            price = decimal_field(body, "price", required=True)
        except ApiError as error:
            return self.send_body(400, {"message": error.message})
        if price <= 0:
            return self.send_body(400, {"message": "price must be > 0"})
        app.set_price(found, price)
        return self.send_body(200, {"symbol": found, "price": str(price), "state_now": app.clock()["timestamp"]})
