"""Orders: the order object in Alpaca's wire format, the order request and its validation, and the fill rules.

Every number of an order is a Decimal inside and a STRING (or null) on the wire, as Alpaca writes them.

Fill rules against one bar (o, h, l, c) — a price move through `/_fake/price` is a bar with o = h = l = c:
  market            the bar's open (a market order sent while the market is open fills at once at the last price)
  limit  buy        when l <= limit, at min(o, limit)      sell  when h >= limit, at max(o, limit)
  stop   buy        when h >= stop,  at max(o, stop)       sell  when l <= stop,  at min(o, stop)
  stop_limit        triggers as a stop; fills at the trigger price if that is within the limit, else it works
                    as a limit order from the next bar on
  trailing_stop     stop = high-water mark -/+ trail (price or percent); the mark moves after the bar is checked
"""
from decimal import Decimal, InvalidOperation

OPEN_STATUSES = frozenset({"new", "partially_filled", "accepted", "pending_new", "held", "accepted_for_bidding",
                           "pending_cancel", "pending_replace", "done_for_day", "calculated", "stopped"})
SIDES = ("buy", "sell")
TYPES = ("market", "limit", "stop", "stop_limit", "trailing_stop")
TIFS = ("day", "gtc", "ioc", "fok")
CLASSES = ("", "simple", "bracket", "oco", "oto")
PRICE_Q = Decimal("1e-10")
MAX_CLIENT_ID = 128


class ApiError(Exception):
    """An error answered in Alpaca's shape: HTTP status, {"code": .., "message": .., **extra}."""

    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def body(self):
        return {"code": self.code, "message": self.message, **self.extra}


def invalid(message, **extra):
    return ApiError(422, 40010001, message, **extra)


def num(value):
    """Decimal -> Alpaca's number string ('1.0712', '10', '-3.5'); None -> None."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0E-10") else text


def decimal_field(body, name, required=False):
    """A request number given as a JSON number or string -> Decimal (None when absent or null)."""
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise invalid(f"{name} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal, float)):
        raise invalid(f"{name} must be a number")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise invalid(f"invalid {name}: {str(value)[:40]}") from None
    if not d.is_finite():
        raise invalid(f"invalid {name}: {str(value)[:40]}")
    return d


class Order:
    """One order (a simple order, a bracket's parent or one of its legs)."""

    def __init__(self, **fields):
        self.id = fields["id"]
        self.client_order_id = fields["client_order_id"]
        self.created_at = self.updated_at = self.submitted_at = fields["created_at"]
        self.filled_at = self.expired_at = self.canceled_at = self.failed_at = self.replaced_at = None
        self.replaced_by = None
        self.replaces = fields.get("replaces")
        self.asset_id = fields["asset_id"]
        self.symbol = fields["symbol"]
        self.asset_class = fields["asset_class"]
        self.notional = fields.get("notional")
        self.qty = fields.get("qty")
        self.filled_qty = Decimal(0)
        self.filled_avg_price = None
        self.order_class = fields.get("order_class", "")
        self.type = fields["type"]
        self.side = fields["side"]
        self.time_in_force = fields["time_in_force"]
        self.limit_price = fields.get("limit_price")
        self.stop_price = fields.get("stop_price")
        self.trail_price = fields.get("trail_price")
        self.trail_percent = fields.get("trail_percent")
        self.hwm = fields.get("hwm")
        self.status = fields.get("status", "accepted")
        self.extended_hours = bool(fields.get("extended_hours", False))
        self.legs = []                 # Orders (a parent's take_profit / stop_loss)
        self.parent = None
        self.role = fields.get("role")  # "take_profit" | "stop_loss" for legs
        self.expires_at = fields.get("expires_at")   # seconds: a day order's session close
        self.triggered = False         # a stop_limit whose stop was hit
        self.parts = []                # partial_fill fault: quantities still to fill, one a bar
        self.seq = fields["seq"]

    # --- state -----------------------------------------------------------------------------------------------
    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def remaining(self):
        return (self.qty or Decimal(0)) - self.filled_qty

    @property
    def working(self):
        """Whether it takes part in matching now: open, and not a leg whose parent has not filled yet."""
        if not self.is_open:
            return False
        return self.parent is None or self.parent.status == "filled" or self.parent.order_class == "oco"

    def siblings(self):
        """The other orders of its one-cancels-other group: a bracket's other leg, or for an oco order the
        take-profit (the top-level order) and its stop-loss leg."""
        if self.parent is None:
            return list(self.legs) if self.order_class == "oco" else []
        if self.parent.order_class == "oco":
            return [self.parent]
        return [leg for leg in self.parent.legs if leg is not self]

    def touch(self, at):
        self.updated_at = at

    # --- wire format -----------------------------------------------------------------------------------------
    def to_json(self, nested=True, render_time=None):
        t = render_time
        legs = [leg.to_json(nested=False, render_time=t) for leg in self.legs] if (nested and self.legs) else None
        return {
            "id": self.id, "client_order_id": self.client_order_id,
            "created_at": t(self.created_at), "updated_at": t(self.updated_at),
            "submitted_at": t(self.submitted_at), "filled_at": t(self.filled_at),
            "expired_at": t(self.expired_at), "canceled_at": t(self.canceled_at), "failed_at": t(self.failed_at),
            "replaced_at": t(self.replaced_at), "replaced_by": self.replaced_by, "replaces": self.replaces,
            "asset_id": self.asset_id, "symbol": self.symbol, "asset_class": self.asset_class,
            "notional": num(self.notional),
            "qty": None if self.notional is not None else num(self.qty), "filled_qty": num(self.filled_qty),
            "filled_avg_price": num(self.filled_avg_price), "order_class": self.order_class,
            "order_type": self.type, "type": self.type, "side": self.side,
            "position_intent": None, "time_in_force": self.time_in_force,
            "limit_price": num(self.limit_price), "stop_price": num(self.stop_price), "status": self.status,
            "extended_hours": self.extended_hours, "legs": legs,
            "trail_percent": num(self.trail_percent), "trail_price": num(self.trail_price), "hwm": num(self.hwm),
            "subtag": None, "source": None, "expires_at": None,
        }

    # --- matching --------------------------------------------------------------------------------------------
    def fill_price(self, bar):
        """The price this working order fills at within `bar` (o, h, l, c), or None. May mark a stop_limit
        triggered or move a trailing stop's mark (call once per bar)."""
        o, h, l, c = bar
        buy = self.side == "buy"
        if self.type == "market":
            return o
        if self.type == "limit" or (self.type == "stop_limit" and self.triggered):
            lim = self.limit_price
            if buy:
                return min(o, lim) if l <= lim else None
            return max(o, lim) if h >= lim else None
        if self.type == "trailing_stop":
            price = self._stop_hit(bar, self.stop_price)
            if price is None:
                self.hwm = max(self.hwm, h) if not buy else min(self.hwm, l)
                self.stop_price = self.trail_stop()
            return price
        trigger = self._stop_hit(bar, self.stop_price)
        if trigger is None or self.type == "stop":
            return trigger
        # stop_limit just triggered: fills at the trigger price when that is within the limit.
        self.triggered = True
        within = trigger <= self.limit_price if buy else trigger >= self.limit_price
        return trigger if within else None

    def _stop_hit(self, bar, stop):
        o, h, l, c = bar
        if self.side == "buy":
            return max(o, stop) if h >= stop else None
        return min(o, stop) if l <= stop else None

    def trail_stop(self):
        if self.trail_price is not None:
            offset = self.trail_price
        else:
            offset = (self.hwm * self.trail_percent / 100).quantize(PRICE_Q)
        return self.hwm - offset if self.side == "sell" else self.hwm + offset


class OrderRequest:
    """A validated POST /v2/orders body (everything that does not depend on the book)."""

    @staticmethod
    def parse(body, asset_of):
        """`asset_of(symbol)` -> (SymbolBars or None). Raises ApiError with Alpaca's codes and messages."""
        if not isinstance(body, dict):
            raise ApiError(400, 40010000, "request body format is invalid")
        r = OrderRequest()
        symbol = body.get("symbol")
        if not isinstance(symbol, str) or not symbol:
            raise invalid("symbol is required")
        r.asset = asset_of(symbol)
        if r.asset is None:
            raise invalid(f'asset "{symbol[:64]}" not found')
        r.symbol = r.asset.symbol
        r.side = body.get("side")
        if r.side not in SIDES:
            raise invalid("side must be buy or sell" if r.side is None else f"invalid side: {str(r.side)[:20]}")
        r.type = body.get("type", body.get("order_type"))
        if r.type not in TYPES:
            raise invalid("type is required" if r.type is None else f"invalid order type: {str(r.type)[:20]}")
        r.time_in_force = body.get("time_in_force")
        if r.time_in_force in ("opg", "cls"):
            raise invalid(f"time_in_force {r.time_in_force} is not supported by this market (no auctions)")
        if r.time_in_force not in TIFS:
            raise invalid("time_in_force is required" if r.time_in_force is None
                          else f"invalid time_in_force: {str(r.time_in_force)[:20]}")
        r.order_class = body.get("order_class") or ""
        if r.order_class not in CLASSES:
            raise invalid(f"invalid order_class: {str(r.order_class)[:20]}")
        r.extended_hours = body.get("extended_hours") is True
        r.qty = decimal_field(body, "qty")
        r.notional = decimal_field(body, "notional")
        if r.qty is None and r.notional is None:
            raise invalid("qty or notional is required")
        if r.qty is not None and r.notional is not None:
            raise invalid("only one of qty or notional may be given")
        if r.qty is not None and r.qty <= 0:
            raise invalid("qty must be > 0")
        if r.notional is not None:
            if r.notional <= 0:
                raise invalid("notional must be > 0")
            if r.type != "market" or r.order_class not in ("", "simple"):
                raise invalid("notional orders are supported for simple market orders only")
        r.limit_price = decimal_field(body, "limit_price")
        r.stop_price = decimal_field(body, "stop_price")
        r.trail_price = decimal_field(body, "trail_price")
        r.trail_percent = decimal_field(body, "trail_percent")
        r._check_prices()
        cid = body.get("client_order_id")
        if cid is not None and (not isinstance(cid, str) or not cid):
            raise invalid("client_order_id must be a non-empty string")
        if cid is not None and len(cid) > MAX_CLIENT_ID:
            raise invalid(f"client_order_id must be no more than {MAX_CLIENT_ID} characters")
        r.client_order_id = cid
        r.take_profit = r.stop_loss = None
        r._parse_legs(body)
        return r

    def _price(self, value, name):
        if value is None:
            return
        if value <= 0:
            raise invalid(f"{name} must be > 0")
        if value % self.asset.tick:
            raise invalid(f"invalid {name} {num(value)}. sub-penny increment does not fulfill minimum pricing "
                          f"criteria (price increment {num(self.asset.tick)})")

    def _check_prices(self):
        needs_limit = self.type in ("limit", "stop_limit")
        needs_stop = self.type in ("stop", "stop_limit")
        if needs_limit and self.limit_price is None:
            raise invalid(f"limit_price is required for {self.type} orders")
        if needs_stop and self.stop_price is None:
            raise invalid(f"stop_price is required for {self.type} orders")
        if not needs_limit and self.limit_price is not None:
            raise invalid(f"limit_price must not be given for {self.type} orders")
        if not needs_stop and self.stop_price is not None:
            raise invalid(f"stop_price must not be given for {self.type} orders")
        if self.type == "trailing_stop":
            if (self.trail_price is None) == (self.trail_percent is None):
                raise invalid("trailing_stop orders require exactly one of trail_price or trail_percent")
            if (self.trail_price or self.trail_percent) <= 0:
                raise invalid("trail_price / trail_percent must be > 0")
            if self.trail_percent is not None and self.trail_percent >= 100:
                raise invalid("trail_percent must be < 100")
        elif self.trail_price is not None or self.trail_percent is not None:
            raise invalid(f"trail_price / trail_percent must not be given for {self.type} orders")
        self._price(self.limit_price, "limit_price")
        self._price(self.stop_price, "stop_price")
        self._price(self.trail_price, "trail_price")

    def _parse_legs(self, body):
        tp, sl = body.get("take_profit"), body.get("stop_loss")
        if self.order_class in ("", "simple"):
            if tp is not None or sl is not None:
                raise invalid("take_profit / stop_loss need order_class bracket, oco or oto")
            return
        for name, leg in (("take_profit", tp), ("stop_loss", sl)):
            if leg is not None and not isinstance(leg, dict):
                raise invalid(f"{name} must be an object")
        if tp is not None:
            self.take_profit = {"limit_price": decimal_field(tp, "limit_price", required=True)}
            self._price(self.take_profit["limit_price"], "take_profit.limit_price")
        if sl is not None:
            self.stop_loss = {"stop_price": decimal_field(sl, "stop_price", required=True),
                              "limit_price": decimal_field(sl, "limit_price")}
            self._price(self.stop_loss["stop_price"], "stop_loss.stop_price")
            self._price(self.stop_loss["limit_price"], "stop_loss.limit_price")
        if self.time_in_force not in ("day", "gtc"):
            raise invalid(f"{self.order_class} orders must be day or gtc orders")
        if self.order_class == "bracket":
            if self.take_profit is None or self.stop_loss is None:
                raise invalid("bracket orders require take_profit and stop_loss")
            if self.type not in ("market", "limit", "stop", "stop_limit"):
                raise invalid("bracket orders must be market, limit, stop or stop_limit orders")
        elif self.order_class == "oto":
            if (self.take_profit is None) == (self.stop_loss is None):
                raise invalid("oto orders require exactly one of take_profit or stop_loss")
        elif self.order_class == "oco":
            if self.take_profit is None or self.stop_loss is None:
                raise invalid("oco orders require take_profit and stop_loss")
            if self.type != "limit":
                raise invalid("oco orders must be limit orders")
            if self.limit_price != self.take_profit["limit_price"]:
                raise invalid("oco orders: limit_price must equal take_profit.limit_price")

    def check_leg_sides(self, base_price):
        """Alpaca's placement rules for exit legs against the base price (the entry's limit/stop price, or the
        current price for market entries and oco orders), one price increment apart."""
        tick = self.asset.tick
        # The exits of a buy entry sell above (take profit) and below (stop); an oco order is itself the exit.
        exit_side_sell = (self.side == "buy") if self.order_class != "oco" else (self.side == "sell")
        if self.take_profit is not None:
            tp = self.take_profit["limit_price"]
            if exit_side_sell and tp < base_price + tick:
                raise invalid(f"take_profit.limit_price must be >= base_price + {num(tick)}",
                              base_price=num(base_price))
            if not exit_side_sell and tp > base_price - tick:
                raise invalid(f"take_profit.limit_price must be <= base_price - {num(tick)}",
                              base_price=num(base_price))
        if self.stop_loss is not None:
            sp = self.stop_loss["stop_price"]
            if exit_side_sell and sp > base_price - tick:
                raise invalid(f"stop_loss.stop_price must be <= base_price - {num(tick)}",
                              base_price=num(base_price))
            if not exit_side_sell and sp < base_price + tick:
                raise invalid(f"stop_loss.stop_price must be >= base_price + {num(tick)}",
                              base_price=num(base_price))
