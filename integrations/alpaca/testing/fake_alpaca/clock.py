"""Time on the fake's market clock: RFC 3339 text as Alpaca writes it, New York offsets, and trading sessions.

Times inside the fake are integers: whole seconds for the market clock (bar open/close times) and microseconds for
events (orders, fills), so that ordering is exact. Alpaca writes order and fill times in UTC with microseconds
(`2021-03-16T18:38:01.942282Z`), bar times in UTC without a fraction (`2021-02-22T19:15:00Z`) and the clock in New
York time with its offset (`2024-01-05T10:20:30.123456-05:00`).

Sessions (`--session`):
  24x5  the FX week: each trading date D (Monday-Friday) runs from 17:00 New York on the day before D to 17:00 New
        York on D (22:00 UTC in winter, 21:00 UTC in summer), so the week opens Sunday 17:00 and closes Friday 17:00
        New York. This is the convention FX data follows (the bundled EURUSD_H1.csv has Sunday 21:00 UTC bars in
        summer and its last Friday bar closes at 21:00 or 22:00 UTC).
  24x7  the same daily boundaries, every day of the week: the market never closes.

    >>> rfc3339_us(1_500_000_000_123_456)
    '2017-07-14T02:40:00.123456Z'
    >>> Session("24x5").is_open(parse_time("2017-07-15T12:00:00Z") // US)   # a Saturday
    False
"""
import datetime as dt

UTC = dt.timezone.utc
US = 1_000_000
DAY = 86400
BOUNDARY_HOUR = 17          # New York local time at which one trading date ends and the next begins


def utc_datetime(seconds):
    return dt.datetime.fromtimestamp(seconds, UTC)


def rfc3339(seconds):
    """Whole seconds, UTC, as Alpaca writes bar times."""
    return utc_datetime(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_us(micros):
    """Microseconds, UTC, as Alpaca writes order and fill times (always six fraction digits)."""
    seconds, frac = divmod(micros, US)
    return utc_datetime(seconds).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:06d}Z"


def _first_sunday(year, month):
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(6 - first.weekday()) % 7)


def new_york_dst(seconds):
    """Whether US daylight saving time is in force at this instant (the rules since 2007: from the second Sunday of
    March, 02:00 local = 07:00 UTC, to the first Sunday of November, 02:00 local = 06:00 UTC)."""
    year = utc_datetime(seconds).year
    start_day = _first_sunday(year, 3) + dt.timedelta(days=7)
    end_day = _first_sunday(year, 11)
    start = int(dt.datetime(start_day.year, start_day.month, start_day.day, 7, tzinfo=UTC).timestamp())
    end = int(dt.datetime(end_day.year, end_day.month, end_day.day, 6, tzinfo=UTC).timestamp())
    return start <= seconds < end


def new_york_offset(seconds):
    return -4 * 3600 if new_york_dst(seconds) else -5 * 3600


def new_york_local(seconds):
    """Naive local New York time of an instant."""
    return (utc_datetime(seconds) + dt.timedelta(seconds=new_york_offset(seconds))).replace(tzinfo=None)


def new_york_instant(date, hour, minute=0):
    """The UTC instant (seconds) of a New York wall-clock time; never ambiguous for the hours used here."""
    naive = int(dt.datetime(date.year, date.month, date.day, hour, minute, tzinfo=UTC).timestamp())
    summer = naive + 4 * 3600
    return summer if new_york_dst(summer) else naive + 5 * 3600


def _offset_text(offset):
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def new_york_rfc3339(seconds):
    """`2024-01-05T17:00:00-05:00`: the clock's next_open / next_close."""
    return new_york_local(seconds).strftime("%Y-%m-%dT%H:%M:%S") + _offset_text(new_york_offset(seconds))


def new_york_rfc3339_us(micros):
    """`2024-01-05T10:20:30.123456-05:00`: the clock's timestamp."""
    seconds, frac = divmod(micros, US)
    return (new_york_local(seconds).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:06d}"
            + _offset_text(new_york_offset(seconds)))


def parse_time(text):
    """RFC 3339 (any fraction, `Z` or an offset) or a bare date `YYYY-MM-DD` (midnight UTC) -> microseconds.
    Raises ValueError naming the text."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"invalid time {text!r}")
    s = text.strip()
    if len(s) == 10:
        s += "T00:00:00Z"
    s = s.replace("z", "Z").replace("Z", "+00:00")
    if "." in s:  # Python takes at most 6 fraction digits; Alpaca writes up to 9
        head, _, rest = s.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        if not digits:
            raise ValueError(f"invalid time {text!r}")
        s = f"{head}.{(digits + '000000')[:6]}{rest}"
    try:
        value = dt.datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(f"invalid time {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp()) * US + value.microsecond


def parse_date(text):
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"invalid date {text!r} (expected YYYY-MM-DD)") from None


class Session:
    """Trading dates and their open/close instants for `24x5` or `24x7` (see the module doc)."""

    def __init__(self, kind):
        if kind not in ("24x5", "24x7"):
            raise ValueError(f"unknown session {kind!r} (24x5 or 24x7)")
        self.kind = kind

    def trades_on(self, date):
        return self.kind == "24x7" or date.weekday() < 5

    def trading_date(self, seconds):
        """The date whose session contains this instant, whether or not the market trades that date."""
        local = new_york_local(seconds)
        date = local.date()
        return date + dt.timedelta(days=1) if local.hour >= BOUNDARY_HOUR else date

    def bounds(self, date):
        """(open, close) instants in seconds of trading date `date`."""
        return (new_york_instant(date - dt.timedelta(days=1), BOUNDARY_HOUR),
                new_york_instant(date, BOUNDARY_HOUR))

    def next_trading_date(self, date):
        date += dt.timedelta(days=1)
        while not self.trades_on(date):
            date += dt.timedelta(days=1)
        return date

    def is_open(self, seconds):
        return self.trades_on(self.trading_date(seconds))

    def next_open(self, seconds):
        """Alpaca's next_open: the next session's open (while open, that of the next trading date)."""
        return self.bounds(self.next_trading_date(self.trading_date(seconds)))[0]

    def next_close(self, seconds):
        """Alpaca's next_close: the close of the current session, or of the next one while closed."""
        date = self.trading_date(seconds)
        if not self.trades_on(date):
            date = self.next_trading_date(date)
        return self.bounds(date)[1]

    def calendar(self, first, last):
        """Calendar rows for trading dates first..last (dates, inclusive), in Alpaca's shape plus the session's
        instants (`open_at`, `close_at`): the session of date D opens on the evening before D, which Alpaca's
        HH:MM fields cannot say on their own."""
        rows = []
        date = first
        while date <= last:
            if self.trades_on(date):
                opens, closes = self.bounds(date)
                settle = date + dt.timedelta(days=1)
                while not self.trades_on(settle):
                    settle += dt.timedelta(days=1)
                open_local, close_local = new_york_local(opens), new_york_local(closes)
                rows.append({"date": date.isoformat(),
                             "open": open_local.strftime("%H:%M"), "close": close_local.strftime("%H:%M"),
                             "session_open": open_local.strftime("%H%M"),
                             "session_close": close_local.strftime("%H%M"),
                             "settlement_date": settle.isoformat(),
                             "open_at": new_york_rfc3339(opens), "close_at": new_york_rfc3339(closes)})
            date += dt.timedelta(days=1)
        return rows
