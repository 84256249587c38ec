"""The fake broker as one object: market replay, book, faults, streams, rate limiter, and the publishing clock.

Publishing one step (`advance`): the next bar of every symbol at the next timeline time becomes visible to bars
REST, working orders are matched against it (their fills go out on trade_updates), day orders past their session
close expire, and the bar plus a quote and a trade at its close go to the data-stream subscribers. Fills come
before the bar's message because they happened during the bar.
"""
import collections
import threading
import time

from . import queries
from .book import Book
from .clock import US, new_york_rfc3339, new_york_rfc3339_us, rfc3339, rfc3339_us
from .faults import Faults
from .streams import StreamHub


class RateLimiter:
    """Alpaca's per-account budget: `limit` requests in a rolling minute; over it, 429."""

    def __init__(self, limit):
        self.limit = limit
        self.times = collections.deque()
        self.lock = threading.Lock()

    def take(self):
        """-> (allowed, remaining, reset_unix_seconds)."""
        now = time.time()
        with self.lock:
            while self.times and self.times[0] <= now - 60:
                self.times.popleft()
            allowed = len(self.times) < self.limit
            if allowed:
                self.times.append(now)
            reset = int(self.times[0] + 60) + 1 if self.times else int(now) + 60
            return allowed, max(0, self.limit - len(self.times)), reset


class App:
    def __init__(self, market, session, key, secret, cash, multiplier, seed, fault_rate, fault_kinds, rate_limit,
                 bars_per_second, wait_for_subscriber, log):
        self.market, self.session = market, session
        self.key, self.secret = key, secret
        self.log = log
        self.faults = Faults(rate=fault_rate, seed=seed, kinds=fault_kinds)
        self.hub = None
        self.book = Book(market, session, cash, multiplier, seed, sink=self._trade_update)
        self.hub = StreamHub(key, secret, self.faults, self.book.lock, log)
        self.limiter = RateLimiter(rate_limit)
        self.bars_per_second = bars_per_second
        self.wait_for_subscriber = wait_for_subscriber
        self.counters = collections.Counter()
        self.stopping = threading.Event()
        self.publisher = None

    def _trade_update(self, data):
        if self.hub is not None:
            self.hub.trade_update(data)

    # --- the market clock --------------------------------------------------------------------------------------
    def advance(self, steps):
        """Publishes up to `steps` timeline steps; returns how many were published."""
        done = 0
        for _ in range(steps):
            if not self._publish_one():
                break
            done += 1
        return done

    def _publish_one(self):
        book, market = self.book, self.market
        with book.lock:
            if market.finished:
                return False
            before = market.now
            published = market.publish_next()
            book.seq = 0
            for symbol, i in published:
                o, h, l, c, _ = market.symbols[symbol].rows[i]
                book.on_bar(symbol, (o, h, l, c))
            book.expire_day_orders()
            if self.session.trading_date(before) != self.session.trading_date(market.now):
                book.new_trading_date()
            for symbol, i in published:
                self.hub.market_data(symbol, self._bar_messages(symbol, i))
            if market.finished:
                self.log(f"last bar published (now {new_york_rfc3339(market.now)}); the data stream stays quiet")
            return True

    def _bar_messages(self, symbol, i):
        s = self.market.symbols[symbol]
        bar = {"T": "b", "S": symbol}
        bar.update(s.wire_bar(i))
        messages = {"bars": bar}
        messages.update(self._quote_and_trade(s, s.rows[i][3], rfc3339(s.times[i] + self.market.step), i))
        return messages

    @staticmethod
    def _quote_and_trade(s, price, at, trade_id):
        """A quote one price increment either side of `price` and a one-unit trade at it, time `at` (text)."""
        p, tick = float(price), float(s.tick)
        bid, ask = round(p - tick, s.decimals), round(p + tick, s.decimals)
        if s.asset_class == "crypto":
            return {"quotes": {"T": "q", "S": s.symbol, "bp": bid, "bs": 1.0, "ap": ask, "as": 1.0, "t": at},
                    "trades": {"T": "t", "S": s.symbol, "p": p, "s": 1.0, "t": at, "i": trade_id, "tks": "B"}}
        return {"quotes": {"T": "q", "S": s.symbol, "bx": "V", "bp": bid, "bs": 1, "ax": "V", "ap": ask, "as": 1,
                           "t": at, "c": ["R"], "z": "C"},
                "trades": {"T": "t", "S": s.symbol, "i": trade_id, "x": "V", "p": p, "s": 1, "t": at, "c": ["@"],
                           "z": "C"}}

    def start_publisher(self):
        if not self.bars_per_second:
            return
        self.publisher = threading.Thread(target=self._publish_loop, name="publisher", daemon=True)
        self.publisher.start()

    def _publish_loop(self):
        if self.wait_for_subscriber:
            self.log("waiting for a data-stream client to subscribe to bars")
            while not self.hub.subscribed.wait(0.2):
                if self.stopping.is_set():
                    return
        period = 1.0 / self.bars_per_second
        due = time.monotonic() + period
        while not self.stopping.is_set():
            delay = due - time.monotonic()
            if delay > 0 and self.stopping.wait(delay):
                return
            if not self._publish_one():
                return
            due += period

    def set_price(self, symbol, price):
        """POST /_fake/price: the last price moves (until the next bar), working orders see it as a bar with
        open = high = low = close = price, and data subscribers get a quote and a trade at it."""
        with self.book.lock:
            self.market.price_override[symbol] = price
            self.book.on_bar(symbol, (price, price, price, price), tick=True)
            s = self.market.symbols[symbol]
            self.hub.market_data(symbol, self._quote_and_trade(s, price, rfc3339_us(self.book.stamp()), 0))

    # --- views ---------------------------------------------------------------------------------------------
    def clock(self):
        with self.book.lock:
            now = self.market.now
            stamp = now * US + self.book.seq
            return {"timestamp": new_york_rfc3339_us(stamp), "is_open": self.session.is_open(now),
                    "next_open": new_york_rfc3339(self.session.next_open(now)),
                    "next_close": new_york_rfc3339(self.session.next_close(now))}

    def state(self):
        book = self.book
        with book.lock:
            ids = collections.Counter(o.client_order_id for o in book.sequence)
            orders = []
            for o in book.sequence:
                row = book.order_json(o, nested=False)
                row["parent_id"] = o.parent.id if o.parent else None
                row["leg_ids"] = [leg.id for leg in o.legs]
                orders.append(row)
            counters = dict(self.counters)
            counters.update(book.counters)
            counters.update(self.hub.counters)
            counters["faults_injected"] = self.faults.counts()
            counters["orders_by_client_id_duplicates"] = sum(1 for n in ids.values() if n > 1)
            return {
                "now": new_york_rfc3339(self.market.now), "now_unix": self.market.now,
                "finished": self.market.finished, "published_bars": self.market.published_steps,
                "remaining_bars": len(self.market.timeline) - self.market.cursor,
                "clock": self.clock(), "orders": orders,
                "fills": [{k: v for k, v in a.items() if k != "_at"} for a in book.activities],
                "positions": queries.positions(book), "account": queries.account(book),
                "last_prices": {s: str(self.market.last_price(s)) for s in self.market.symbols},
                "pending_faults": self.faults.pending(), "counters": counters,
                "stream_clients": [{"id": c.id, "stream": c.stream, "feed": c.feed, "authenticated": c.authenticated,
                                    "listening": c.listening, "subscriptions": {k: sorted(v) for k, v in c.subs.items()
                                                                                if v}}
                                   for c in self.hub.connections.values()],
            }

    def stop(self):
        self.stopping.set()
        self.hub.close_all()
