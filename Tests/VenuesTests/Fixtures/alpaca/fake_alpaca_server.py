#!/usr/bin/env python3
"""A local stand-in for Alpaca's Market Data v2 and asset endpoints, speaking their documented JSON.

Serves deterministic bars for AAPL (weekdays 14:00-20:00 UTC hourly; 1Day at 05:00Z) and BTC/USD (every hour),
paginated with opaque next_page_token values, checking the APCA-API-KEY-ID / APCA-API-SECRET-KEY headers.
Faults can be scripted with --script, a comma list consumed one per /bars request: 429 (with X-Ratelimit-Reset 1-2 seconds
ahead), 500, 503, ok, retry-after=<text> (a 429 whose Retry-After header is <text>, hex-escaped as %XX: untrusted
header values), reset=<text> (a 429 whose X-Ratelimit-Reset is <text>), evil (a 403 whose message carries terminal
escape codes and 5000 characters). GET /_requests returns what was asked (paths, query strings, whether each key was
sent). GET /_redirect?to=<url> answers 302 with Location <url> (redirect tests).

    python3 fake_alpaca_server.py --key test-key --secret test-secret --script 429,500
    # prints "PORT <n>" once listening on 127.0.0.1:<n>; stops after --lifetime seconds (default 120)
"""
import argparse
import base64
import datetime as dt
import json
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

STEP = {"1Min": 60, "5Min": 300, "15Min": 900, "30Min": 1800, "1Hour": 3600, "4Hour": 14400, "1Day": 86400}


def rfc3339(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s):
    if len(s) == 10:
        s += "T00:00:00Z"
    return int(dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


def bars_for(symbol, timeframe, start, end):
    step = STEP[timeframe]
    t = (start + step - 1) // step * step
    out = []
    while t <= end:
        day = dt.datetime.fromtimestamp(t, dt.timezone.utc)
        stamp = t
        keep = True
        if "/" not in symbol:  # a stock: weekdays only, regular-session hours for intraday
            keep = day.weekday() < 5 and (timeframe == "1Day" or 14 <= day.hour <= 20)
            if timeframe == "1Day":
                stamp = t + 5 * 3600  # Alpaca's daily stock bars start at 00:00 New York
        if keep:
            k = t // step
            base = 100.0 + (k % 97) * 0.25
            out.append({"t": rfc3339(stamp), "o": base, "h": base + 1.5, "l": base - 1.25, "c": base + 0.5,
                        "v": float(1000 + k % 13), "n": 10 + k % 7, "vw": base + 0.1})
        t += step
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send_json(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        srv = self.server
        if url.path == "/_requests":
            return self.send_json(200, srv.requests)
        keys_ok = (self.headers.get("APCA-API-KEY-ID") == srv.key
                   and self.headers.get("APCA-API-SECRET-KEY") == srv.secret)
        srv.requests.append({"path": url.path, "query": q,
                             "has_key": self.headers.get("APCA-API-KEY-ID") is not None,
                             "has_secret": self.headers.get("APCA-API-SECRET-KEY") is not None})
        if url.path == "/_redirect":
            self.send_response(302)
            self.send_header("Location", q["to"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if url.path == "/v2/assets":
            if not keys_ok:
                return self.send_json(401, {"message": "unauthorized."})
            return self.send_json(200, [
                {"id": "1", "class": "us_equity", "symbol": "AAPL", "status": "active", "tradable": True},
                {"id": "2", "class": "us_equity", "symbol": "MSFT", "status": "active", "tradable": True},
                {"id": "3", "class": "us_equity", "symbol": "DELISTED", "status": "active", "tradable": False},
                {"id": "4", "class": "crypto", "symbol": "BTC/USD", "status": "active", "tradable": True},
            ])
        stocks = url.path == "/v2/stocks/bars"
        crypto = url.path.startswith("/v1beta3/crypto/") and url.path.endswith("/bars")
        if not (stocks or crypto):
            return self.send_json(404, {"message": "not found"})
        if stocks and not keys_ok:
            return self.send_json(401, {"message": "forbidden"})
        with srv.lock:
            fault = srv.script.pop(0) if srv.script else "ok"
        if fault == "429":
            return self.send_json(429, {"message": "too many requests."},
                                  {"X-Ratelimit-Limit": "200", "X-Ratelimit-Remaining": "0",
                                   "X-Ratelimit-Reset": str(int(time.time()) + 2)})
        if fault.startswith("retry-after=") or fault.startswith("reset="):
            name = "Retry-After" if fault.startswith("retry-after=") else "X-Ratelimit-Reset"
            return self.send_json(429, {"message": "slow down"}, {name: unquote(fault.split("=", 1)[1])})
        if fault == "evil":
            return self.send_json(403, {"message": "bad key\x1b[2J\x1b]0;pwned\x07\r" + "x" * 5000})
        if fault in ("500", "503"):
            return self.send_json(int(fault), {"message": "internal server error"})
        timeframe = q.get("timeframe", "")
        if timeframe not in STEP:
            return self.send_json(422, {"code": 42210000, "message": f"invalid timeframe: {timeframe}"})
        if stocks and q.get("adjustment", "raw") not in ("raw", "split", "dividend", "all"):
            return self.send_json(422, {"code": 42210000, "message": "invalid adjustment"})
        symbols = q.get("symbols", "").split(",")
        start = parse_time(q["start"])
        end = parse_time(q.get("end", rfc3339(int(time.time()))))
        limit = min(int(q.get("limit", "1000")), 10000)
        symbol = symbols[0]
        rows = bars_for(symbol, timeframe, start, end)
        if q.get("sort") == "desc":
            rows.reverse()
        offset = int(base64.b64decode(q["page_token"]).decode()) if "page_token" in q else 0
        page = rows[offset:offset + limit]
        nxt = offset + limit
        token = base64.b64encode(str(nxt).encode()).decode() if nxt < len(rows) else None
        body = {"bars": {symbol: page} if page else {}, "next_page_token": token}
        if crypto:
            body["currency"] = None
        return self.send_json(200, body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", default="test-key")
    ap.add_argument("--secret", default="test-secret")
    ap.add_argument("--script", default="")
    ap.add_argument("--lifetime", type=float, default=120)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the test runner may start us with SIGTERM ignored
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.key, server.secret = args.key, args.secret
    server.script = [s for s in args.script.split(",") if s]
    server.requests = []
    server.lock = threading.Lock()
    timer = threading.Timer(args.lifetime, server.shutdown)
    timer.daemon = True
    timer.start()
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
