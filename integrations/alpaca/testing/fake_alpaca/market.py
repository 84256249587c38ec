"""The fake's market: bars read from CSV files, the replay cursor that publishes them, prices and bar queries.

A bars file is the project's CSV (`data/sample/EURUSD_H1.csv`): header `,Open,High,Low,Close,Volume`, first
column `YYYY-MM-DD HH:MM:SS` (or `YYYY-MM-DD` for daily bars) in UTC, the bar's OPEN time. Several files (one per symbol) share one timeline: the sorted
union of their bar open times. Publishing one step publishes every symbol's bar at the next open time of the
timeline; the market's "now" is then that bar's close (open + timeframe).

Numbers are Decimal inside the fake (exact fills and positions); the market-data wire format carries them as JSON
numbers. `n` (trade count) and `vw` (volume-weighted price) are not in the CSV: n = max(1, volume // 10) and
vw = (high + low + close) / 3, rounded to two digits more than the file's prices.
"""
import bisect
import csv
import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from .clock import DAY, new_york_instant, new_york_local, rfc3339, utc_datetime

_TIMEFRAME = re.compile(r"^([1-9][0-9]*)(Min|T|Hour|H|Day|D|Week|W|Month|M)$")
_UNIT = {"Min": 60, "T": 60, "Hour": 3600, "H": 3600, "Day": DAY, "D": DAY, "Week": 7 * DAY, "W": 7 * DAY}
_LIMITS = {"Min": 59, "T": 59, "Hour": 23, "H": 23, "Day": 1, "D": 1, "Week": 1, "W": 1}


class BarsFileError(ValueError):
    pass


def timeframe_seconds(text):
    """Alpaca's timeframe text -> seconds. Raises ValueError (month bars have no fixed length: not served)."""
    m = _TIMEFRAME.match(text or "")
    if not m:
        raise ValueError(f"invalid timeframe: {text}")
    amount, unit = int(m.group(1)), m.group(2)
    if unit in ("Month", "M"):
        raise ValueError(f"timeframe {text} is not served by the fake (month bars)")
    if amount > _LIMITS[unit]:
        raise ValueError(f"invalid timeframe: {text}")
    return amount * _UNIT[unit]


def _decimal(text, path, line, field):
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise BarsFileError(f"{path}:{line}: {field} {text!r} is not a number") from None
    if not value.is_finite():
        raise BarsFileError(f"{path}:{line}: {field} {text!r} is not a finite number")
    return value


class SymbolBars:
    """One symbol's bars in time order, with the price increment its file is quoted in."""

    def __init__(self, symbol, times, rows, decimals):
        self.symbol = symbol
        self.asset_class = "crypto" if "/" in symbol else "us_equity"
        self.times = times            # bar open times, seconds
        self.rows = rows              # (open, high, low, close, volume) Decimals
        self.decimals = decimals
        self.tick = Decimal(1).scaleb(-decimals)

    @staticmethod
    def load(path, symbol, step):
        times, rows, decimals = [], [], 0
        try:
            handle = open(path, newline="", encoding="utf-8")
        except OSError as error:
            raise BarsFileError(f"{path}: cannot read bars file ({error.strerror})") from None
        with handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise BarsFileError(f"{path}:1: empty file (expected the header ,Open,High,Low,Close,Volume)")
            names = [h.strip().lower() for h in header]
            if names[1:6] != ["open", "high", "low", "close", "volume"]:
                raise BarsFileError(f"{path}:1: header {','.join(header)!r} is not ,Open,High,Low,Close,Volume")
            for line, row in enumerate(reader, start=2):
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) < 6:
                    raise BarsFileError(f"{path}:{line}: {len(row)} fields, expected 6")
                stamp = row[0].strip()
                try:
                    opened = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S" if len(stamp) > 10 else "%Y-%m-%d")
                except ValueError:
                    raise BarsFileError(f"{path}:{line}: time {row[0]!r} is not YYYY-MM-DD HH:MM:SS") from None
                opened = opened.replace(tzinfo=dt.timezone.utc)
                t = int(opened.timestamp())
                o, h, l, c = (_decimal(row[i], path, line, name)
                              for i, name in ((1, "Open"), (2, "High"), (3, "Low"), (4, "Close")))
                v = _decimal(row[5], path, line, "Volume")
                if min(o, h, l, c) <= 0 or v < 0:
                    raise BarsFileError(f"{path}:{line}: prices must be > 0 and volume >= 0")
                if h < max(o, c, l) or l > min(o, c):
                    raise BarsFileError(f"{path}:{line}: High {h} / Low {l} do not contain Open {o} and Close {c}")
                if times and t - times[-1] < step:
                    what = "repeats or goes back in time" if t <= times[-1] else "is closer than the timeframe"
                    raise BarsFileError(f"{path}:{line}: bar time {row[0].strip()} {what} "
                                        f"(previous {rfc3339(times[-1])}, timeframe {step} s)")
                for price in (o, h, l, c):       # as written: "1.10000" is quoted in 0.00001
                    decimals = max(decimals, -price.as_tuple().exponent)
                times.append(t)
                rows.append((o, h, l, c, v))
        if not times:
            raise BarsFileError(f"{path}: no bars")
        return SymbolBars(symbol, times, rows, min(decimals, 10))

    def wire_bar(self, index, t=None):
        """Alpaca's bar fields (numbers as JSON numbers) for bar `index`."""
        o, h, l, c, v = self.rows[index]
        return {"t": rfc3339(self.times[index] if t is None else t), "o": float(o), "h": float(h), "l": float(l),
                "c": float(c), "v": float(v), "n": max(1, int(v) // 10),
                "vw": round(float((h + l + c) / 3), self.decimals + 2)}


class Market:
    """The replay: published bars, now, last prices. Not thread safe on its own (the book's lock guards it)."""

    def __init__(self, symbols, step, start=None):
        self.symbols = {s.symbol: s for s in symbols}
        self.step = step
        self.timeline = sorted({t for s in symbols for t in s.times})
        if start is None:
            self.cursor = int(len(self.timeline) * 0.6)
        else:
            self.cursor = bisect.bisect_left(self.timeline, start)
        if self.cursor <= 0:
            raise ValueError("--start leaves no history: the first bar must come before it")
        self.price_override = {}       # symbol -> Decimal set through /_fake/price, until the next bar
        self.history_bars = self.cursor

    @property
    def now(self):
        """Seconds: the close time of the last published bar."""
        return self.timeline[self.cursor - 1] + self.step

    @property
    def finished(self):
        return self.cursor >= len(self.timeline)

    @property
    def published_steps(self):
        """Timeline steps published since the start (history excluded)."""
        return self.cursor - self.history_bars

    def published_count(self, symbol):
        """How many of the symbol's bars are published (visible)."""
        s = self.symbols[symbol]
        return bisect.bisect_right(s.times, self.timeline[self.cursor - 1])

    def publish_next(self):
        """Publishes the next timeline step; returns [(symbol, index)] of the bars published ([] when finished)."""
        if self.finished:
            return []
        t = self.timeline[self.cursor]
        self.cursor += 1
        out = []
        for s in self.symbols.values():
            i = bisect.bisect_left(s.times, t)
            if i < len(s.times) and s.times[i] == t:
                out.append((s.symbol, i))
                self.price_override.pop(s.symbol, None)
        return out

    def last_price(self, symbol):
        if symbol in self.price_override:
            return self.price_override[symbol]
        n = self.published_count(symbol)
        return self.symbols[symbol].rows[n - 1][3] if n else None

    def bars(self, symbol, seconds, start, end):
        """Published bars of `symbol` with start <= open time <= end (seconds), at `seconds` per bar: the file's
        own bars, or buckets of them when `seconds` is a multiple of the file's timeframe (a bucket still being
        filled is returned as far as it is published, as Alpaca returns the current bar). Raises ValueError for a
        timeframe finer than, or not a multiple of, the file's."""
        s = self.symbols[symbol]
        n = self.published_count(symbol)
        lo = bisect.bisect_left(s.times, start, 0, n)
        if seconds == self.step:
            hi = bisect.bisect_right(s.times, end, 0, n)
            return [s.wire_bar(i) for i in range(lo, hi)]
        if seconds < self.step or seconds % self.step:
            raise ValueError(f"timeframe of {seconds} s is not served: the bars file has {self.step} s bars "
                             f"(ask for that or a multiple of it)")
        buckets = {}
        order = []
        # Start from the bucket containing `start`, so its first bar is not cut off.
        lo = bisect.bisect_left(s.times, self._bucket(s, start, seconds), 0, n)
        for i in range(lo, n):
            b = self._bucket(s, s.times[i], seconds)
            if b > end:
                break
            if b < start:
                continue
            if b not in buckets:
                buckets[b] = []
                order.append(b)
            buckets[b].append(i)
        out = []
        for b in order:
            idx = buckets[b]
            rows = [s.rows[i] for i in idx]
            volume = sum(r[4] for r in rows)
            typical = [(r[1] + r[2] + r[3]) / 3 for r in rows]
            vw = (sum(t * r[4] for t, r in zip(typical, rows)) / volume) if volume else sum(typical) / len(rows)
            out.append({"t": rfc3339(b), "o": float(rows[0][0]), "h": float(max(r[1] for r in rows)),
                        "l": float(min(r[2] for r in rows)), "c": float(rows[-1][3]), "v": float(volume),
                        "n": sum(max(1, int(r[4]) // 10) for r in rows), "vw": round(float(vw), s.decimals + 2)})
        return out

    @staticmethod
    def _bucket(s, t, seconds):
        """Bucket start: UTC-aligned for intraday; days start at midnight New York for stocks (as Alpaca's daily
        stock bars, 04:00/05:00Z) and midnight UTC for crypto; weeks on Monday."""
        if seconds < DAY:
            return t - t % seconds
        if s.asset_class == "crypto":
            day = utc_datetime(t).date()
            midnight = lambda d: int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc).timestamp())
        else:
            day = new_york_local(t).date()
            midnight = lambda d: new_york_instant(d, 0)
        if seconds >= 7 * DAY:
            day -= dt.timedelta(days=day.weekday())
        return midnight(day)
