"""Tests of the fake Alpaca broker, run against the real process (standard library only):

    python3 -m unittest discover -s integrations/alpaca/testing -p 'test_*.py'      (or: make test-fakes)

Each test starts `fake_alpaca_broker.py` on a synthetic EURUSD file whose future bars it chooses, in step mode, and
talks to it over HTTP and websockets (fake_alpaca_client.py). Prices are exact decimals, so expected fills, cash and
positions are exact too.
"""
import http.client
import os
import subprocess
import sys
import tempfile
import time
import unittest
from decimal import Decimal

from fake_alpaca_client import (FLAT, HISTORY, KEY, SCRIPT, SECRET, WS, Broker, data_stream, trading_stream, updates,
                                write_bars)


class RestBasics(unittest.TestCase):
    def test_auth_account_and_rate_limit_headers(self):
        b = Broker(self)
        r = b.call("GET", "/v2/account", auth=False)
        self.assertEqual((r.status, r.json), (401, {"code": 40110000, "message": "request is not authorized"}))
        r = b.call("GET", "/v2/account")
        self.assertEqual(r.status, 200)
        for h in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
            self.assertIn(h, r.headers)
        a = r.json
        self.assertEqual((a["status"], a["currency"], a["cash"], a["equity"], a["buying_power"], a["multiplier"]),
                         ("ACTIVE", "USD", "100000", "100000", "200000", "2"))
        self.assertFalse(a["trading_blocked"])
        clock = b.ok("GET", "/v2/clock")
        self.assertEqual(clock["timestamp"][:19], "2024-01-09T19:00:00")      # Wed 00:00 UTC in New York
        self.assertTrue(clock["timestamp"].endswith("-05:00"))
        self.assertTrue(clock["is_open"])
        self.assertEqual(clock["next_close"], "2024-01-10T17:00:00-05:00")
        asset = b.ok("GET", "/v2/assets/EURUSD")
        self.assertEqual((asset["symbol"], asset["tradable"], asset["price_increment"]), ("EURUSD", True, "0.00001"))
        r = b.call("GET", "/v2/assets/NOPE")
        self.assertEqual(r.status, 404)

    def test_rate_limit_and_http_faults(self):
        b = Broker(self, args=("--rate-limit", "6"))
        b.faults({"kind": "429", "count": 2, "reset_in": 30}, {"kind": "500"}, {"kind": "502"}, {"kind": "503"})
        before = int(time.time())
        for _ in range(2):
            r = b.call("GET", "/v2/clock")
            self.assertEqual((r.status, r.json["code"], r.headers["x-ratelimit-remaining"]), (429, 42910000, "0"))
            self.assertTrue(before + 29 <= int(r.headers["x-ratelimit-reset"]) <= before + 32)
        self.assertEqual(b.call("GET", "/v2/clock").status, 500)
        r = b.call("GET", "/v2/clock")
        self.assertEqual((r.status, r.headers["content-type"]), (502, "text/html"))
        self.assertEqual(b.call("GET", "/v2/clock").status, 503)
        remaining = [int(b.call("GET", "/v2/clock").headers["x-ratelimit-remaining"]) for _ in range(6)]
        self.assertEqual(remaining, [5, 4, 3, 2, 1, 0])
        r = b.call("GET", "/v2/clock")
        self.assertEqual((r.status, r.json), (429, {"code": 42910000, "message": "rate limit exceeded"}))
        self.assertGreaterEqual(int(r.headers["x-ratelimit-reset"]), int(time.time()))
        s = b.state()["counters"]
        self.assertEqual(s["faults_injected"], {"429": 2, "500": 1, "502": 1, "503": 1})
        self.assertEqual(s["rate_limited"], 1)
        self.assertIn("FAULT 429", b.stderr_text())

    def test_fault_targets_one_endpoint_and_books_nothing(self):
        b = Broker(self)
        b.faults({"kind": "503", "method": "POST", "path": "/v2/orders"})
        self.assertEqual(b.call("GET", "/v2/orders").status, 200)
        r = b.call("POST", "/v2/orders", {"symbol": "EURUSD", "qty": "1", "side": "buy", "type": "market",
                                          "time_in_force": "gtc", "client_order_id": "c1"})
        self.assertEqual(r.status, 503)
        self.assertEqual(b.call("GET", "/v2/orders:by_client_order_id?client_order_id=c1").status, 404)

    def test_validation_messages(self):
        b = Broker(self)
        base = {"symbol": "EURUSD", "qty": "1", "side": "buy", "type": "market", "time_in_force": "gtc"}
        cases = [({"qty": "0"}, "qty must be > 0"), ({"symbol": "XYZ"}, 'asset "XYZ" not found'),
                 ({"type": "limit"}, "limit_price is required for limit orders"),
                 ({"type": "limit", "limit_price": "1.100001"}, "sub-penny increment"),
                 ({"side": "hold"}, "invalid side"), ({"client_order_id": "x" * 129}, "no more than 128"),
                 ({"order_class": "bracket", "take_profit": {"limit_price": "1.09900"},
                   "stop_loss": {"stop_price": "1.09000"}}, "take_profit.limit_price must be >= base_price + 0.00001"),
                 ({"order_class": "bracket", "take_profit": {"limit_price": "1.11000"},
                   "stop_loss": {"stop_price": "1.10500"}}, "stop_loss.stop_price must be <= base_price - 0.00001")]
        for change, message in cases:
            r = b.call("POST", "/v2/orders", {**base, **change})
            self.assertEqual(r.status, 422, (change, r.raw))
            self.assertIn(message, r.json["message"])
            self.assertEqual(r.json["code"], 40010001)
        r = b.call("POST", "/v2/orders", {**base, "qty": "1000000"})
        self.assertEqual((r.status, r.json["code"], r.json["message"]), (403, 40310000, "insufficient buying power"))
        r = b.call("POST", "/v2/orders", None)
        self.assertEqual(r.status, 400)
        self.assertEqual(b.state()["orders"], [])

    def test_bars_rest_paging_and_aggregation(self):
        b = Broker(self)
        r = b.call("GET", "/v2/stocks/bars?symbols=EURUSD&timeframe=1Hour&start=2024-01-01T00:00:00Z", auth=False)
        self.assertEqual(r.status, 401)
        rows, token, pages = [], None, 0
        while True:
            q = "/v2/stocks/bars?symbols=EURUSD&timeframe=1Hour&start=2024-01-01T00:00:00Z&limit=10"
            page = b.ok("GET", q + (f"&page_token={token}" if token else ""))
            rows += page["bars"].get("EURUSD", [])
            token, pages = page["next_page_token"], pages + 1
            if token is None:
                break
        self.assertEqual((len(rows), pages), (HISTORY, 5))
        self.assertEqual(rows[0], {"t": "2024-01-08T00:00:00Z", "o": 1.1, "h": 1.1002, "l": 1.0998, "c": 1.1,
                                   "v": 1000.0, "n": 100, "vw": 1.1})
        b.advance(2)
        page = b.ok("GET", "/v2/stocks/bars?symbols=EURUSD&timeframe=1Hour&start=2024-01-10T00:00:00Z")
        self.assertEqual([x["t"] for x in page["bars"]["EURUSD"]], ["2024-01-10T00:00:00Z", "2024-01-10T01:00:00Z"])
        four = b.ok("GET", "/v2/stocks/bars?symbols=EURUSD&timeframe=4Hour&start=2024-01-09T16:00:00Z")
        self.assertEqual([(x["t"], x["v"]) for x in four["bars"]["EURUSD"]],
                         [("2024-01-09T16:00:00Z", 1040.0 + 1041 + 1042 + 1043), ("2024-01-09T20:00:00Z", 4182.0),
                          ("2024-01-10T00:00:00Z", 1048.0 + 1049)])
        crypto_path = b.ok("GET", "/v1beta3/crypto/us/bars?symbols=EURUSD&timeframe=1Hour&start=2024-01-10")
        self.assertEqual(len(crypto_path["bars"]["EURUSD"]), 2)
        self.assertEqual(b.call("GET", "/v2/stocks/bars?symbols=EURUSD&timeframe=1Min").status, 422)

    def test_calendar_and_weekend_clock(self):
        future = [FLAT] * 70 + [("1.10500", "1.10600", "1.10400", "1.10500")] + [FLAT] * 5
        b = Broker(self, future=future)
        cal = b.ok("GET", "/v2/calendar?start=2024-01-12&end=2024-01-16")
        self.assertEqual([c["date"] for c in cal], ["2024-01-12", "2024-01-15", "2024-01-16"])
        self.assertEqual((cal[0]["open"], cal[0]["close"], cal[0]["open_at"]),
                         ("17:00", "17:00", "2024-01-11T17:00:00-05:00"))
        day = b.order(qty="100", side="buy", type="limit", limit_price="1.09000", time_in_force="day")
        b.advance(22)                         # Wednesday's FX day closes at 22:00 UTC
        self.assertEqual(b.ok("GET", f"/v2/orders/{day['id']}")["status"], "expired")
        b.advance(48)                         # to Friday 22:00 UTC: the weekend
        clock = b.ok("GET", "/v2/clock")
        self.assertEqual((clock["is_open"], clock["next_open"]), (False, "2024-01-14T17:00:00-05:00"))
        queued = b.order(qty="100", side="buy")
        self.assertEqual(b.ok("GET", f"/v2/orders/{queued['id']}")["status"], "accepted")
        b.advance(1)                          # Sunday 22:00 UTC: filled at that bar's open
        o = b.ok("GET", f"/v2/orders/{queued['id']}")
        self.assertEqual((o["status"], o["filled_avg_price"]), ("filled", "1.105"))


class OrderLifecycle(unittest.TestCase):
    def test_market_order_over_the_trade_stream(self):
        b = Broker(self)
        ws = trading_stream(b)
        o = b.order(qty="10000", side="buy", client_order_id="m-1")
        self.assertEqual((o["status"], o["filled_qty"], o["qty"], o["order_class"]), ("accepted", "0", "10000", ""))
        new, fill = updates(ws, 2)
        self.assertEqual((new["event"], new["order"]["status"]), ("new", "new"))
        self.assertEqual((fill["event"], fill["price"], fill["qty"], fill["position_qty"]),
                         ("fill", "1.1", "10000", "10000"))
        self.assertEqual((fill["order"]["status"], fill["order"]["filled_avg_price"]), ("filled", "1.1"))
        pos = b.ok("GET", "/v2/positions/EURUSD")
        self.assertEqual((pos["qty"], pos["side"], pos["avg_entry_price"], pos["market_value"]),
                         ("10000", "long", "1.1", "11000"))
        acct = b.ok("GET", "/v2/account")
        self.assertEqual((acct["cash"], acct["equity"], acct["long_market_value"]), ("89000", "100000", "11000"))
        closed = b.ok("DELETE", "/v2/positions/EURUSD")
        self.assertEqual((closed["side"], closed["qty"]), ("sell", "10000"))
        self.assertEqual(b.call("GET", "/v2/positions/EURUSD").json,
                         {"code": 40410000, "message": "position does not exist"})
        ws.close()

    def test_bracket_take_profit_then_conservative_stop(self):
        future = [("1.10000", "1.10150", "1.09990", "1.10100"), FLAT, ("1.10000", "1.10200", "1.09800", "1.10000")]
        b = Broker(self, future=future + [FLAT] * 5)
        ws = trading_stream(b)
        o = b.order(qty="1000", side="buy", order_class="bracket", take_profit={"limit_price": "1.10100"},
                    stop_loss={"stop_price": "1.09900"})
        self.assertEqual([leg["status"] for leg in o["legs"]], ["held", "held"])
        self.assertEqual(o["order_class"], "bracket")
        events = [(u["event"], u["order"]["id"]) for u in updates(ws, 3)]
        tp_id, sl_id = o["legs"][0]["id"], o["legs"][1]["id"]
        self.assertEqual(events, [("new", o["id"]), ("fill", o["id"]), ("new", tp_id)])
        now = b.ok("GET", f"/v2/orders/{o['id']}?nested=true")
        self.assertEqual([(leg["type"], leg["side"], leg["status"]) for leg in now["legs"]],
                         [("limit", "sell", "new"), ("stop", "sell", "held")])
        b.advance(1)
        tp, sl = (b.ok("GET", f"/v2/orders/{i}") for i in (tp_id, sl_id))
        self.assertEqual((tp["status"], tp["filled_avg_price"], sl["status"]), ("filled", "1.101", "canceled"))
        self.assertEqual(b.ok("GET", "/v2/positions"), [])
        self.assertEqual(b.ok("GET", "/v2/account")["cash"], "100001")
        b.advance(1)
        o2 = b.order(qty="1000", side="buy", order_class="bracket", take_profit={"limit_price": "1.10100"},
                     stop_loss={"stop_price": "1.09900"})
        b.advance(1)                          # one bar goes through both exits: the stop fills
        tp, sl = (b.ok("GET", f"/v2/orders/{leg['id']}") for leg in o2["legs"])
        self.assertEqual((tp["status"], sl["status"], sl["filled_avg_price"]), ("canceled", "filled", "1.099"))
        self.assertEqual(b.ok("GET", "/v2/account")["cash"], "100000")
        ws.close()

    def test_bracket_legs_held_until_the_entry_fills(self):
        b = Broker(self, future=[FLAT, ("1.10000", "1.10000", "1.09400", "1.09600")] + [FLAT] * 5)
        o = b.order(qty="1000", side="buy", type="limit", limit_price="1.09500", order_class="bracket",
                    take_profit={"limit_price": "1.10000"}, stop_loss={"stop_price": "1.09000",
                                                                        "limit_price": "1.08900"})
        b.advance(1)
        now = b.ok("GET", f"/v2/orders/{o['id']}")
        self.assertEqual((now["status"], [leg["status"] for leg in now["legs"]]), ("new", ["held", "held"]))
        self.assertEqual(now["legs"][1]["type"], "stop_limit")
        listed = b.ok("GET", "/v2/orders?status=open&nested=true")
        self.assertEqual([x["id"] for x in listed], [o["id"]])
        self.assertEqual(len(b.ok("GET", "/v2/orders?status=open")), 3)      # nested=false lists legs too
        b.advance(1)                          # the entry fills at its limit
        now = b.ok("GET", f"/v2/orders/{o['id']}")
        self.assertEqual((now["status"], now["filled_avg_price"]), ("filled", "1.095"))
        self.assertEqual([leg["status"] for leg in now["legs"]], ["new", "held"])
        r = b.call("DELETE", f"/v2/orders/{o['id']}")
        self.assertEqual((r.status, r.json), (422, {"code": 42210000, "message": "order is not cancelable"}))
        r = b.call("DELETE", "/v2/positions/EURUSD")          # the legs hold the whole position
        self.assertEqual(r.status, 403)
        self.assertIn("insufficient qty available", r.json["message"])
        self.assertEqual(b.call("DELETE", f"/v2/orders/{o['legs'][0]['id']}").status, 204)
        self.assertEqual([b.ok("GET", f"/v2/orders/{leg['id']}")["status"] for leg in o["legs"]],
                         ["canceled", "canceled"])
        o3 = b.order(qty="1000", side="buy", type="limit", limit_price="1.09000", order_class="bracket",
                     take_profit={"limit_price": "1.10000"}, stop_loss={"stop_price": "1.08000"})
        self.assertEqual(b.call("DELETE", f"/v2/orders/{o3['id']}").status, 204)
        self.assertEqual([b.ok("GET", f"/v2/orders/{leg['id']}")["status"] for leg in o3["legs"]],
                         ["canceled", "canceled"])

    def test_oco_exit_and_price_moves(self):
        b = Broker(self)
        b.order(qty="1000", side="buy")
        oco = b.order(qty="1000", side="sell", type="limit", limit_price="1.10100", order_class="oco",
                      take_profit={"limit_price": "1.10100"}, stop_loss={"stop_price": "1.09900"})
        self.assertEqual((oco["type"], oco["order_class"], [(x["type"], x["status"]) for x in oco["legs"]]),
                         ("limit", "oco", [("stop", "held")]))
        self.assertEqual(b.ok("GET", "/v2/positions/EURUSD")["qty_available"], "0")
        b.ok("POST", "/_fake/price", {"symbol": "EURUSD", "price": "1.09850"})
        top, stop = b.ok("GET", f"/v2/orders/{oco['id']}"), b.ok("GET", f"/v2/orders/{oco['legs'][0]['id']}")
        self.assertEqual((top["status"], stop["status"], stop["filled_avg_price"]), ("canceled", "filled", "1.0985"))
        self.assertEqual(b.ok("GET", "/v2/positions"), [])

    def test_duplicate_client_order_id(self):
        b = Broker(self)
        b.order(qty="1", side="buy", client_order_id="same")
        r = b.call("POST", "/v2/orders", {"symbol": "EURUSD", "qty": "1", "side": "buy", "type": "market",
                                          "time_in_force": "gtc", "client_order_id": "same"})
        self.assertEqual((r.status, r.json), (422, {"code": 40010001, "message": "client_order_id must be unique"}))
        found = b.ok("GET", "/v2/orders:by_client_order_id?client_order_id=same")
        self.assertEqual(found["status"], "filled")
        counters = b.state()["counters"]
        self.assertEqual((counters["orders_by_client_id_duplicates"],
                          counters["duplicate_client_order_id_rejections"]), (0, 1))

    def test_replace(self):
        b = Broker(self)
        ws = trading_stream(b)
        old = b.order(qty="100", side="buy", type="limit", limit_price="1.09000", client_order_id="r-1")
        updates(ws, 1)
        new = b.ok("PATCH", f"/v2/orders/{old['id']}", {"limit_price": "1.09100", "qty": "200",
                                                         "client_order_id": "r-2"})
        self.assertEqual((new["replaces"], new["limit_price"], new["qty"], new["client_order_id"], new["status"]),
                         (old["id"], "1.091", "200", "r-2", "new"))
        replaced, fresh = updates(ws, 2)
        self.assertEqual((replaced["event"], replaced["order"]["id"], replaced["order"]["replaced_by"]),
                         ("replaced", old["id"], new["id"]))
        self.assertEqual((fresh["event"], fresh["order"]["id"]), ("new", new["id"]))
        again = b.call("PATCH", f"/v2/orders/{old['id']}", {"limit_price": "1.09200"})
        self.assertEqual((again.status, again.json["code"]), (422, 42210000))
        dup = b.call("PATCH", f"/v2/orders/{new['id']}", {"client_order_id": "r-1"})
        self.assertEqual((dup.status, dup.json["message"]), (422, "client_order_id must be unique"))
        ws.close()

    def test_cancel_rules(self):
        b = Broker(self)
        a = b.order(qty="100", side="buy", type="limit", limit_price="1.09000")
        c = b.order(qty="100", side="buy", type="stop", stop_price="1.11000")
        filled = b.order(qty="100", side="buy")
        self.assertEqual(b.call("DELETE", f"/v2/orders/{a['id']}").status, 204)
        r = b.call("DELETE", f"/v2/orders/{a['id']}")
        self.assertEqual((r.status, r.json), (422, {"code": 42210000, "message": "order is not cancelable"}))
        self.assertEqual(b.call("DELETE", f"/v2/orders/{filled['id']}").status, 422)
        r = b.call("DELETE", "/v2/orders/00000000-0000-4000-8000-000000000000")
        self.assertEqual((r.status, r.json["message"]), (404, "order not found"))
        r = b.call("DELETE", "/v2/orders")
        self.assertEqual(r.status, 207)
        self.assertEqual([(x["id"], x["status"], x["body"]["status"]) for x in r.json], [(c["id"], 200, "canceled")])
        self.assertEqual(b.ok("GET", "/v2/orders?status=open"), [])
        closed = b.ok("GET", "/v2/orders?status=closed&direction=asc")
        self.assertEqual([x["id"] for x in closed], [a["id"], c["id"], filled["id"]])

    def test_activities_paging(self):
        b = Broker(self)
        for i in range(5):
            b.order(qty=str(100 + i), side="buy" if i % 2 == 0 else "sell")
        seen, token = [], None
        while True:
            page = b.ok("GET", "/v2/account/activities/FILL?page_size=2" + (f"&page_token={token}" if token else ""))
            if not page:
                break
            seen.append([a["qty"] for a in page])
            token = page[-1]["id"]
        self.assertEqual(seen, [["104", "103"], ["102", "101"], ["100"]])
        asc = b.ok("GET", "/v2/account/activities/FILL?direction=asc")
        self.assertEqual([a["qty"] for a in asc], ["100", "101", "102", "103", "104"])
        first = asc[0]
        self.assertEqual((first["activity_type"], first["type"], first["side"], first["leaves_qty"],
                          first["cum_qty"], first["order_status"], first["price"]),
                         ("FILL", "fill", "buy", "0", "100", "filled", "1.1"))
        self.assertRegex(first["id"], r"^\d{17}::[0-9a-f-]{36}$")
        self.assertEqual(b.call("GET", "/v2/account/activities/FILL?page_size=101").status, 422)


class OrderTypes(unittest.TestCase):
    def test_notional_ioc_fok_stop_limit_and_trailing_stop(self):
        future = [("1.10000", "1.10300", "1.09990", "1.10250"), ("1.10250", "1.10260", "1.10100", "1.10120"),
                  ("1.10120", "1.10130", "1.09700", "1.09800")] + [FLAT] * 3
        b = Broker(self, future=future)
        n = b.order(notional="1100", side="buy")
        got = b.ok("GET", f"/v2/orders/{n['id']}")
        self.assertEqual((got["notional"], got["qty"], got["filled_qty"]), ("1100", None, "1000"))
        ioc = b.order(qty="10", side="buy", type="limit", limit_price="1.09000", time_in_force="ioc")
        fok = b.order(qty="10", side="buy", type="limit", limit_price="1.10010", time_in_force="fok")
        self.assertEqual([b.ok("GET", f"/v2/orders/{o['id']}")["status"] for o in (ioc, fok)], ["canceled", "filled"])
        # A buy stop-limit whose trigger gaps past its limit keeps working as a limit order.
        sl = b.order(qty="10", side="buy", type="stop_limit", stop_price="1.10200", limit_price="1.10150")
        trail = b.order(qty="1000", side="sell", type="trailing_stop", trail_price="0.00100")
        self.assertEqual(trail["stop_price"], "1.099")
        b.advance(1)                          # high 1.10300: the stop-limit triggers at 1.102 > 1.1015, no fill
        self.assertEqual(b.ok("GET", f"/v2/orders/{sl['id']}")["status"], "new")
        self.assertEqual(b.ok("GET", f"/v2/orders/{trail['id']}")["stop_price"], "1.102")   # mark 1.103
        b.advance(1)                          # low 1.10100 <= 1.1015: filled as a limit at the open or better
        self.assertEqual(b.ok("GET", f"/v2/orders/{sl['id']}")["filled_avg_price"], "1.1015")
        self.assertEqual(b.ok("GET", f"/v2/orders/{trail['id']}")["filled_avg_price"], "1.102")
        self.assertEqual(b.ok("GET", "/v2/positions/EURUSD")["qty"], "20")

    def test_replace_a_leg_and_close_everything(self):
        b = Broker(self)
        o = b.order(qty="1000", side="buy", order_class="bracket", take_profit={"limit_price": "1.10500"},
                    stop_loss={"stop_price": "1.09500"})
        sl = o["legs"][1]
        moved = b.ok("PATCH", f"/v2/orders/{sl['id']}", {"stop_price": "1.09700"})
        self.assertEqual((moved["status"], moved["stop_price"], moved["replaces"]), ("held", "1.097", sl["id"]))
        parent = b.ok("GET", f"/v2/orders/{o['id']}")
        self.assertEqual([leg["id"] for leg in parent["legs"]], [o["legs"][0]["id"], moved["id"]])
        b.ok("POST", "/_fake/price", {"symbol": "EURUSD", "price": "1.09650"})
        self.assertEqual(b.ok("GET", f"/v2/orders/{moved['id']}")["filled_avg_price"], "1.0965")
        b.order(qty="500", side="sell")
        b.order(qty="100", side="buy", type="limit", limit_price="1.09000")
        r = b.call("DELETE", "/v2/positions?cancel_orders=true")
        self.assertEqual(r.status, 207)
        self.assertEqual([(x["symbol"], x["status"], x["body"]["side"], x["body"]["qty"]) for x in r.json],
                         [("EURUSD", 200, "buy", "500")])
        self.assertEqual((b.ok("GET", "/v2/positions"), b.ok("GET", "/v2/orders")), ([], []))


class Faults(unittest.TestCase):
    def test_timeout_after_accept_books_the_order(self):
        b = Broker(self)
        b.faults({"kind": "timeout_after_accept"}, {"kind": "timeout_after_accept", "seconds": 1})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            b.call("POST", "/v2/orders", {"symbol": "EURUSD", "qty": "10", "side": "buy", "type": "market",
                                          "time_in_force": "gtc", "client_order_id": "lost-1"})
        found = b.ok("GET", "/v2/orders:by_client_order_id?client_order_id=lost-1")
        self.assertEqual((found["status"], found["filled_qty"]), ("filled", "10"))
        began = time.monotonic()
        late = b.order(qty="10", side="buy", client_order_id="late-1")
        self.assertGreaterEqual(time.monotonic() - began, 0.95)
        self.assertEqual(late["client_order_id"], "late-1")
        self.assertEqual(b.ok("GET", "/v2/positions/EURUSD")["qty"], "20")
        self.assertEqual(b.state()["counters"]["faults_injected"], {"timeout_after_accept": 2})

    def test_reject_next_order(self):
        b = Broker(self)
        ws = trading_stream(b)
        b.faults({"kind": "reject_next_order"}, {"kind": "reject_next_order", "mode": "http", "status": 403})
        o = b.order(qty="10", side="buy")
        self.assertEqual(o["status"], "accepted")
        (u,) = updates(ws, 1)
        self.assertEqual((u["event"], u["order"]["status"]), ("rejected", "rejected"))
        self.assertIsNotNone(b.ok("GET", f"/v2/orders/{o['id']}")["failed_at"])
        r = b.call("POST", "/v2/orders", {"symbol": "EURUSD", "qty": "10", "side": "buy", "type": "market",
                                          "time_in_force": "gtc"})
        self.assertEqual((r.status, r.json["code"]), (403, 40310000))
        self.assertEqual(b.ok("GET", "/v2/positions"), [])
        ws.close()

    def test_partial_fill(self):
        b = Broker(self, future=[("1.10010", "1.10020", "1.09980", "1.10000")] * 4)
        ws = trading_stream(b)
        b.faults({"kind": "partial_fill", "parts": 3})
        o = b.order(qty="300", side="buy")
        new, part = updates(ws, 2)
        self.assertEqual((part["event"], part["qty"], part["order"]["status"]), ("partial_fill", "100", "partially_filled"))
        b.advance(2)
        part2, fill = updates(ws, 2)
        self.assertEqual((part2["event"], fill["event"], fill["position_qty"]), ("partial_fill", "fill", "300"))
        done = b.ok("GET", f"/v2/orders/{o['id']}")
        self.assertEqual((done["filled_qty"], done["filled_avg_price"]), ("300", "1.1000666667"))
        self.assertEqual([a["type"] for a in b.ok("GET", "/v2/account/activities/FILL?direction=asc")],
                         ["partial_fill", "partial_fill", "fill"])
        ws.close()

    def test_trade_stream_drop_and_auth_fault(self):
        b = Broker(self)
        ws = trading_stream(b)
        b.faults({"kind": "drop_trade_stream", "after": 2})
        b.order(qty="10", side="buy")
        self.assertEqual([u["event"] for u in updates(ws, 2)], ["new", "fill"])
        with self.assertRaises((ConnectionError, OSError)):
            ws.recv(3)                         # cut with no close frame
        b.faults({"kind": "ws_auth_fail", "stream": "trade"})
        bad = WS(b.port, "/stream")
        bad.send_json({"action": "authenticate", "data": {"key_id": KEY, "secret_key": SECRET}})
        self.assertEqual(bad.recv_json()[1]["data"]["status"], "unauthorized")
        self.assertEqual(bad.recv(), ("close", 1008))
        bad.close()
        ws = trading_stream(b)                 # the next login works; missed updates are not replayed
        b.order(qty="10", side="sell")
        self.assertEqual([u["event"] for u in updates(ws, 2)], ["new", "fill"])
        counters = b.state()["counters"]
        self.assertEqual((counters["trade_stream_drops"], counters["faults_injected"]["ws_auth_fail"]), (1, 1))
        ws.close()

    def test_random_faults_repeat_with_the_seed(self):
        def run(seed):
            b = Broker(self, args=("--fault-rate", "0.3", "--seed", str(seed), "--fault-kinds",
                                   "429,500,502,503,partial_fill"))
            statuses = [b.call("GET", "/v2/clock").status for _ in range(25)]
            for i in range(6):
                b.call("POST", "/v2/orders", {"symbol": "EURUSD", "qty": "90", "side": "buy", "type": "market",
                                              "time_in_force": "gtc", "client_order_id": f"o{i}"})
            counters = b.state()["counters"]
            return statuses, counters["faults_injected"]

        first, again, other = run(7), run(7), run(8)
        self.assertEqual(first, again)
        self.assertNotEqual(first[0], other[0])
        self.assertTrue(any(s != 200 for s in first[0]))


class Streams(unittest.TestCase):
    def test_data_stream_in_step_mode(self):
        b = Broker(self, future=[("1.10000", "1.10050", "1.09950", "1.10030"), FLAT, FLAT])
        ws = WS(b.port, "/v2/iex")
        self.assertEqual(ws.recv_json(), (1, [{"T": "success", "msg": "connected"}]))
        ws.send_json({"action": "subscribe", "bars": ["EURUSD"]})
        self.assertEqual(ws.recv_json()[1], [{"T": "error", "code": 401, "msg": "not authenticated"}])
        ws.send_json({"action": "auth", "key": KEY, "secret": SECRET}, fragments=3)
        self.assertEqual(ws.recv_json()[1], [{"T": "success", "msg": "authenticated"}])
        ws.send_json({"action": "subscribe", "bars": ["EURUSD"], "quotes": ["EURUSD"]})
        sub = ws.recv_json()[1][0]
        self.assertEqual((sub["T"], sub["bars"], sub["quotes"], sub["trades"]),
                         ("subscription", ["EURUSD"], ["EURUSD"], []))
        second = WS(b.port, "/v2/sip")
        second.recv_json()
        second.send_json({"action": "auth", "key": KEY, "secret": SECRET})
        self.assertEqual(second.recv_json()[1], [{"T": "error", "code": 406, "msg": "connection limit exceeded"}])
        second.close()
        b.advance(1)
        op, msgs = ws.recv_json()
        self.assertEqual(op, 1)
        bar, quote = msgs
        self.assertEqual(bar, {"T": "b", "S": "EURUSD", "t": "2024-01-10T00:00:00Z", "o": 1.1, "h": 1.1005,
                               "l": 1.0995, "c": 1.1003, "v": 1048.0, "n": 104, "vw": 1.1001})
        self.assertEqual((quote["T"], quote["bp"], quote["ap"], quote["t"]),
                         ("q", 1.10029, 1.10031, "2024-01-10T01:00:00Z"))
        ws.send_frame(9, b"hello")
        ws.sock.settimeout(5)
        self.assertEqual(ws.frame(), (10, b"hello"))
        b.advance(5)                          # past the last bar: the stream stays connected and quiet
        self.assertEqual(len(ws.recv_json()[1]), 2)
        self.assertEqual(len(ws.recv_json()[1]), 2)
        self.assertTrue(ws.quiet(0.3))
        state = b.state()
        self.assertEqual((state["finished"], state["published_bars"]), (True, 3))
        ws.close()

    def test_silent_and_dropped_data_stream(self):
        b = Broker(self)
        ws = data_stream(b, bars=["*"])
        b.faults({"kind": "silent_data_stream", "seconds": 1.0})
        b.advance(1)
        self.assertTrue(ws.quiet(0.4))         # lost to this client
        ws.send_frame(9, b"still there?")
        ws.sock.settimeout(2)
        self.assertEqual(ws.frame(), (10, b"still there?"))
        time.sleep(0.7)
        b.advance(1)
        self.assertEqual(ws.recv_json()[1][0]["t"], "2024-01-10T01:00:00Z")
        b.faults({"kind": "drop_data_stream"})
        with self.assertRaises((ConnectionError, OSError)):
            ws.recv(3)
        ws = data_stream(b, bars=["EURUSD"])   # the slot is free again
        b.advance(1)
        self.assertEqual(ws.recv_json()[1][0]["T"], "b")
        counters = b.state()["counters"]
        self.assertEqual((counters["data_stream_drops"], counters["messages_lost_to_silence"]), (1, 1))
        ws.close()

    def test_bad_data_stream_login_closes(self):
        b = Broker(self)
        ws = WS(b.port, "/v2/iex")
        ws.recv_json()
        ws.send_json({"action": "auth", "key": KEY, "secret": "wrong"})
        self.assertEqual(ws.recv_json()[1], [{"T": "error", "code": 402, "msg": "auth failed"}])
        self.assertEqual(ws.recv(), ("close", 1008))
        ws.close()


class Serving(unittest.TestCase):
    def test_timed_mode_waits_for_a_subscriber(self):
        b = Broker(self, future=[FLAT] * 40, args=("--bars-per-second", "40", "--wait-for-subscriber"))
        time.sleep(0.3)
        self.assertEqual(b.state()["published_bars"], 0)
        ws = data_stream(b, bars=["EURUSD"])
        times = [ws.recv_json()[1][0]["t"] for _ in range(3)]
        self.assertEqual(times, ["2024-01-10T00:00:00Z", "2024-01-10T01:00:00Z", "2024-01-10T02:00:00Z"])
        ws.close()
        b.proc.terminate()                     # SIGTERM: a clean exit
        self.assertEqual(b.proc.wait(5), 0)

    def test_two_symbols_and_the_crypto_stream(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        btc, _ = write_bars(tmp.name, [("42000.50", "42100.00", "41900.00", "42050.25")] * 5, name="BTC.csv",
                            flat=("42000.00", "42010.00", "41990.00", "42000.00"))
        b = Broker(self, args=("--bars", btc, "--symbol", "BTC/USD"))
        self.assertEqual([a["symbol"] for a in b.ok("GET", "/v2/assets")], ["BTC/USD", "EURUSD"])
        ws = data_stream(b, "/v1beta3/crypto/us", bars=["*"], quotes=["BTC/USD"])
        b.advance(1)
        bar, quote = ws.recv_json()[1]
        self.assertEqual((bar["S"], bar["c"], quote["bp"], quote["ap"]), ("BTC/USD", 42050.25, 42050.24, 42050.26))
        self.assertTrue(ws.quiet(0.2))        # EURUSD is not on the crypto feed
        o = b.order(symbol="BTC/USD", qty="0.01", side="buy")
        self.assertEqual(b.ok("GET", f"/v2/orders/{o['id']}")["filled_avg_price"], "42050.25")
        self.assertEqual(b.ok("GET", "/v2/positions/BTCUSD")["asset_class"], "crypto")
        bars = b.ok("GET", "/v1beta3/crypto/us/bars?symbols=BTC/USD,EURUSD&timeframe=1Hour&start=2024-01-10")
        self.assertEqual(sorted(bars["bars"]), ["BTC/USD", "EURUSD"])
        ws.close()

    def test_limits_connections_and_message_size(self):
        b = Broker(self, args=("--max-connections", "3"))
        first = data_stream(b)
        big = WS(b.port, "/stream")
        big.send_frame(1, b"x" * (70 * 1024))
        self.assertEqual(big.recv(), ("close", 1009))
        big.close()
        held = [WS(b.port, "/stream"), WS(b.port, "/stream")]
        r = b.call("GET", "/v2/clock")
        self.assertEqual((r.status, r.json["code"]), (503, 50310000))
        for ws in held + [first]:
            ws.close()
        time.sleep(0.3)
        self.assertEqual(b.call("GET", "/v2/clock").status, 200)


class BookConsistency(unittest.TestCase):
    def test_filled_quantities_agree_with_positions_and_cash(self):
        future = [(f"1.{10000 + 7 * (i % 9) - 25:05d}", f"1.{10000 + 7 * (i % 9) + 40:05d}",
                   f"1.{10000 + 7 * (i % 9) - 60:05d}", f"1.{10000 + 7 * (i % 9):05d}") for i in range(40)]
        b = Broker(self, future=future, args=("--fault-rate", "0.4", "--seed", "3", "--fault-kinds", "partial_fill"))
        for i in range(24):
            side = "buy" if i % 3 else "sell"
            kind = i % 4
            if kind == 0:
                b.call("POST", "/v2/orders", {"symbol": "EURUSD", "qty": str(100 + i * 10), "side": side,
                                              "type": "market", "time_in_force": "gtc"})
            elif kind == 1:
                b.call("POST", "/v2/orders", {"symbol": "EURUSD", "qty": "150", "side": side, "type": "limit",
                                              "limit_price": "1.10010" if side == "buy" else "1.09990",
                                              "time_in_force": "gtc"})
            elif kind == 2:
                b.call("POST", "/v2/orders", {"symbol": "EURUSD", "qty": "120", "side": "buy", "type": "market",
                                              "time_in_force": "gtc", "order_class": "bracket",
                                              "take_profit": {"limit_price": "1.10040"},
                                              "stop_loss": {"stop_price": "1.09950"}})
            else:
                b.call("POST", "/v2/orders", {"symbol": "EURUSD", "qty": "0.5", "side": side, "type": "stop",
                                              "stop_price": "1.10050" if side == "buy" else "1.09940",
                                              "time_in_force": "gtc"})
            b.advance(1)
        state = b.state()
        self.assertGreater(state["counters"]["faults_injected"].get("partial_fill", 0), 0)
        signed = sum(Decimal(o["filled_qty"]) * (1 if o["side"] == "buy" else -1) for o in state["orders"])
        from_fills = sum(Decimal(f["qty"]) * (1 if f["side"] == "buy" else -1) for f in state["fills"])
        position = sum(Decimal(p["qty"]) for p in state["positions"])
        self.assertEqual((signed, from_fills), (position, position))
        cash = Decimal(100000) - sum(Decimal(f["qty"]) * Decimal(f["price"]) * (1 if f["side"] == "buy" else -1)
                                     for f in state["fills"])
        account = state["account"]
        self.assertEqual(Decimal(account["cash"]), cash)
        market_value = sum(Decimal(p["market_value"]) for p in state["positions"])
        self.assertEqual(Decimal(account["equity"]), cash + market_value)
        self.assertEqual(state["counters"]["orders_by_client_id_duplicates"], 0)
        for o in state["orders"]:
            self.assertLessEqual(Decimal(o["filled_qty"]), Decimal(o["qty"]))


class Startup(unittest.TestCase):
    def test_bad_bars_file_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.csv")
            with open(path, "w") as f:
                f.write(",Open,High,Low,Close,Volume\n2024-01-08 00:00:00,1.1,1.2,1.0,1.1,5\n"
                        "2024-01-08 01:00:00,1.1,nan?,1.0,1.1,5\n")
            r = subprocess.run([sys.executable, SCRIPT, "--bars", path, "--symbol", "EURUSD"], capture_output=True,
                               text=True, timeout=20, env={**os.environ, "FAKE_ALPACA_KEY": "k",
                                                           "FAKE_ALPACA_SECRET": "s"})
            self.assertEqual(r.returncode, 2)
            self.assertIn("bad.csv:3: High 'nan?' is not a number", r.stderr)
            self.assertNotIn("PORT", r.stdout)

    def test_faults_from_the_command_line(self):
        b = Broker(self, args=("--faults", "429:count=2:reset_in=5,partial_fill:parts=3,drop_data_stream:after=4"))
        pending = b.ok("GET", "/_fake/faults")["pending"]
        self.assertEqual([(f["kind"], f.get("count"), f.get("parts"), f.get("after")) for f in pending],
                         [("429", 2, None, None), ("partial_fill", None, 3, None), ("drop_data_stream", None, None, 4)])
        r = b.call("POST", "/_fake/faults", [{"kind": "501"}])
        self.assertEqual(r.status, 400)
        self.assertIn("unknown fault kind '501'", r.json["message"])
        r = b.call("POST", "/_fake/faults", [{"kind": "429", "cuont": 2}])
        self.assertIn("unknown parameter(s) cuont", r.json["message"])
        bad = subprocess.run([sys.executable, SCRIPT, "--key", KEY, "--secret", SECRET, "--bars", "x.csv", "--symbol",
                              "EURUSD", "--faults", "partial_fill:parts=1"], capture_output=True, text=True, timeout=20)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("partial_fill: parts must be between 2 and 100", bad.stderr)

    def test_keys_from_the_environment_are_not_printed(self):
        env = {**os.environ, "FAKE_ALPACA_KEY": KEY, "FAKE_ALPACA_SECRET": SECRET}
        with tempfile.TemporaryDirectory() as d:
            path, start = write_bars(d, [FLAT] * 3)
            p = subprocess.Popen([sys.executable, SCRIPT, "--bars", path, "--symbol", "EURUSD", "--lifetime", "1"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            out, err = p.communicate(timeout=20)
            self.assertEqual(p.returncode, 0)
            self.assertTrue(out.startswith("PORT "))
            self.assertNotIn(SECRET, out + err)
            self.assertNotIn(KEY, out + err)


if __name__ == "__main__":
    unittest.main()
