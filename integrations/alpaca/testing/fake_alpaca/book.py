"""The broker's book: orders, fills, positions and cash, and the trade updates every change sends.

One re-entrant lock (`Book.lock`) guards the book and the market replay; every public method takes it. Changes are
announced through `sink(data)` (the trade_updates payload) while the lock is held, so listeners see them in the
order they happened; the sink must not block (the stream hub queues them per connection).

Accounting is Alpaca's: cash moves by the value of each fill (a buy spends, a sell — short sales included —
receives), equity = cash + long_market_value + short_market_value (the latter negative), so realised P&L ends up in
cash once a position is closed. Buying power = max(0, multiplier x equity - gross position value - reservations of
open entry orders).

Order life: POST returns the order as accepted; `new` follows at once while the market is open (or at the next bar
while it is closed: market orders sent then fill at the next bar's open, which is Alpaca's queue-for-the-open
behaviour). Bracket / oto legs are `held` until their parent has filled; then the take-profit leg becomes `new`
and the stop-loss stays `held` while the take-profit works (as Alpaca shows the passive leg), both being matched.
"""
import random
import threading
import uuid
from decimal import ROUND_DOWN, Decimal

from .clock import US, rfc3339_us
from .orders import PRICE_Q, ApiError, Order, OrderRequest, decimal_field, invalid, num

QTY_Q = Decimal("1e-9")


def not_found():
    return ApiError(404, 40410000, "order not found")


class Position:
    def __init__(self, qty, avg, lastday_price):
        self.qty, self.avg, self.lastday_price = qty, avg, lastday_price


class Book:
    def __init__(self, market, session, cash, multiplier, seed, sink):
        self.lock = threading.RLock()
        self.market, self.session = market, session
        self.cash = Decimal(cash)
        self.multiplier = Decimal(multiplier)
        self.ids = random.Random(f"{seed}/ids")
        self.sink = sink
        self.orders = {}
        self.sequence = []               # every order, in creation order
        self.by_client_id = {}
        self.positions = {}
        self.activities = []
        self.seq = 0                     # event counter within the current market second
        self.account_id = self.uuid()
        self.account_number = "PA" + "".join(str(self.ids.randrange(10)) for _ in range(10))
        self.asset_ids = {s: self.uuid() for s in sorted(market.symbols)}
        self.created_at = self.stamp()
        self.last_equity = self.cash
        self.lastday = {s: market.last_price(s) for s in market.symbols}
        self.counters = {"orders_submitted": 0, "orders_rejected": 0, "fills": 0,
                         "duplicate_client_order_id_rejections": 0}

    # --- ids and times ---------------------------------------------------------------------------------------
    def uuid(self):
        return str(uuid.UUID(int=self.ids.getrandbits(128), version=4))

    def stamp(self):
        """A fresh event time: the market's now plus a microsecond counter, so events keep their order."""
        self.seq += 1
        return self.market.now * US + self.seq

    @staticmethod
    def render_time(micros):
        return None if micros is None else rfc3339_us(micros)

    def order_json(self, order, nested=True):
        return order.to_json(nested=nested, render_time=self.render_time)

    # --- prices and money ------------------------------------------------------------------------------------
    def price(self, symbol):
        return self.market.last_price(symbol)

    def equity(self):
        return self.cash + sum(p.qty * self.price(s) for s, p in self.positions.items())

    def gross_exposure(self):
        return sum(abs(p.qty) * self.price(s) for s, p in self.positions.items())

    def _increase(self, symbol, side, qty):
        """The part of an order that increases the absolute position (the rest only reduces it)."""
        pos = self.positions.get(symbol)
        held = pos.qty if pos else Decimal(0)
        signed = qty if side == "buy" else -qty
        if held == 0 or (held > 0) == (signed > 0):
            return qty
        return max(Decimal(0), qty - abs(held))

    def _reference_price(self, order_type, limit_price, stop_price, symbol):
        if order_type in ("limit", "stop_limit"):
            return limit_price
        if order_type == "stop":
            return stop_price
        return self.price(symbol)

    def reservations(self):
        total = Decimal(0)
        for o in self.sequence:
            if o.is_open and o.parent is None and o.order_class != "oco" and o.qty is not None:
                ref = self._reference_price(o.type, o.limit_price, o.stop_price, o.symbol)
                total += self._increase(o.symbol, o.side, o.remaining) * ref
        return total

    def buying_power(self):
        return max(Decimal(0), self.multiplier * self.equity() - self.gross_exposure() - self.reservations())

    def held_for_orders(self, symbol):
        """Position quantity held by open orders that would reduce it (each one-cancels-other group once)."""
        pos = self.positions.get(symbol)
        if pos is None:
            return Decimal(0)
        exit_side = "sell" if pos.qty > 0 else "buy"
        held, seen = Decimal(0), set()
        for o in self.sequence:
            if not o.is_open or o.symbol != symbol or o.side != exit_side or o.id in seen:
                continue
            if o.parent is not None and o.parent.status != "filled" and o.parent.order_class != "oco":
                continue  # legs of an entry that has not filled hold nothing yet
            group = [o] + o.siblings()
            seen.update(g.id for g in group)
            held += max(g.remaining for g in group if g.is_open)
        return min(held, abs(pos.qty))

    # --- submission --------------------------------------------------------------------------------------------
    def submit(self, req, reject=None, parts=None):
        """Books a validated OrderRequest and returns the order's JSON as accepted. The fault hooks are asked only
        once the order passed every check: `reject()` -> a reject_next_order spec or None (mode "http": answered
        with that error and not booked; "async": booked, then `rejected` on the stream); `parts()` -> the number of
        parts a market order fills in (partial_fill) or None."""
        with self.lock:
            if req.client_order_id is not None and req.client_order_id in self.by_client_id:
                self.counters["duplicate_client_order_id_rejections"] += 1
                raise ApiError(422, 40010001, "client_order_id must be unique")
            last = self.price(req.symbol)
            if last is None:
                raise invalid(f"no price for {req.symbol} yet")
            if req.order_class != "":
                base = {"limit": req.limit_price, "stop": req.stop_price, "stop_limit": req.stop_price}.get(req.type, last)
                req.check_leg_sides(last if req.order_class == "oco" else base)
            qty = req.qty if req.qty is not None else (req.notional / last).quantize(QTY_Q, rounding=ROUND_DOWN)
            if qty <= 0:
                raise invalid("notional is too small for one price increment of quantity")
            self._check_capacity(req.symbol, req.side, qty, req.type, req.limit_price, req.stop_price,
                                 exit_only=req.order_class == "oco")
            rejection = reject() if reject is not None else None
            if rejection is not None and rejection["mode"] == "http":
                self.counters["orders_rejected"] += 1
                status = rejection["status"]
                raise ApiError(status, 40310000 if status == 403 else 40010001, rejection["message"])
            at = self.stamp()
            top = self._new_order(req, qty, at)
            if req.order_class in ("bracket", "oto", "oco"):
                self._attach_legs(top, req, at)
            self.counters["orders_submitted"] += 1
            accepted = self.order_json(top)
            if rejection is not None:
                self._close(top, "rejected", "rejected", at)
                self.counters["orders_rejected"] += 1
                return accepted
            if parts is not None and top.type == "market" and top.time_in_force != "fok" and top.parent is None:
                k = parts()
                if k:
                    top.parts = split_quantity(qty, k)
            if self.session.is_open(self.market.now):
                self._activate(top, at)
                self._execute_now(top)
            return accepted

    def _check_capacity(self, symbol, side, qty, order_type, limit_price, stop_price, exit_only=False):
        pos = self.positions.get(symbol)
        if pos is not None and (pos.qty > 0) != (side == "buy"):
            reduce = min(qty, abs(pos.qty))
            available = abs(pos.qty) - self.held_for_orders(symbol)
            if reduce > available:
                raise ApiError(403, 40310000, f"insufficient qty available for order (requested: {num(reduce)}, "
                               f"available: {num(available)})", symbol=symbol, existing_qty=num(pos.qty),
                               held_for_orders=num(self.held_for_orders(symbol)))
        if exit_only:
            return
        cost = self._increase(symbol, side, qty) * self._reference_price(order_type, limit_price, stop_price, symbol)
        power = self.buying_power()
        if cost > power:
            raise ApiError(403, 40310000, "insufficient buying power", buying_power=num(power),
                           cost_basis=num(cost))

    def _new_order(self, req, qty, at, **over):
        asset = self.market.symbols[req.symbol]
        fields = dict(id=self.uuid(), client_order_id=req.client_order_id or self.uuid(), created_at=at,
                      asset_id=self.asset_ids[req.symbol], symbol=req.symbol, asset_class=asset.asset_class,
                      notional=req.notional, qty=qty, order_class=req.order_class, type=req.type, side=req.side,
                      time_in_force=req.time_in_force, limit_price=req.limit_price, stop_price=req.stop_price,
                      trail_price=req.trail_price, trail_percent=req.trail_percent, extended_hours=req.extended_hours,
                      seq=len(self.sequence))
        fields.update(over)
        order = Order(**fields)
        if order.time_in_force == "day":
            order.expires_at = self.session.next_close(self.market.now)
        if order.type == "trailing_stop":
            order.hwm = self.price(order.symbol)
            order.stop_price = order.trail_stop()
        self.orders[order.id] = order
        self.sequence.append(order)
        self.by_client_id.setdefault(order.client_order_id, order)
        return order

    def _attach_legs(self, top, req, at):
        exit_side = req.side if req.order_class == "oco" else ("sell" if req.side == "buy" else "buy")
        legs = []
        if req.take_profit is not None and req.order_class != "oco":
            legs.append(("take_profit", dict(type="limit", limit_price=req.take_profit["limit_price"])))
        if req.stop_loss is not None:
            sl = req.stop_loss
            legs.append(("stop_loss", dict(type="stop_limit" if sl["limit_price"] is not None else "stop",
                                           stop_price=sl["stop_price"], limit_price=sl["limit_price"])))
        if req.order_class == "oco":
            top.role = "take_profit"
        for role, over in legs:
            leg = self._new_order(req, top.qty, at, side=exit_side, client_order_id=self.uuid(), role=role,
                                  notional=None, trail_price=None, trail_percent=None, status="held",
                                  **{"limit_price": None, "stop_price": None, **over})
            leg.parent = top
            top.legs.append(leg)

    def _activate(self, order, at):
        """accepted -> new (and for an oco order its stop-loss leg stays held)."""
        if order.status == "accepted":
            order.status = "new"
            order.touch(at)
            self._emit("new", order, at)

    def _execute_now(self, order):
        """Right after activation while the market is open: a market order fills at the last price; any other order
        fills at once when it is marketable at the last price; ioc/fok orders that cannot fill are canceled."""
        p = self.price(order.symbol)
        bar = (p, p, p, p)
        self._match([order] + ([leg for leg in order.legs] if order.order_class == "oco" else []), bar,
                    advance_parts=True)

    # --- matching ----------------------------------------------------------------------------------------------
    def on_bar(self, symbol, bar, tick=False):
        """Matches the symbol's working orders against a published bar (or a price move when tick=True)."""
        with self.lock:
            working = [o for o in self.sequence if o.symbol == symbol and o.working]
            if tick:
                working = [o for o in working if o.status != "accepted" and not o.parts]
            else:
                at = self.stamp()
                for o in working:
                    if o.status == "accepted":
                        self._activate(o, at)
            self._match(working, bar, advance_parts=not tick)

    def _match(self, orders, bar, advance_parts):
        """Fills what `bar` reaches; a market order split by the partial_fill fault fills its next part at the
        bar's open when advance_parts (bars, not price moves)."""
        candidates = {}
        for o in orders:
            if not o.working:
                continue
            if o.parts:
                if advance_parts:
                    candidates[o.id] = (o, bar[0], o.parts.pop(0))
                continue
            price = o.fill_price(bar)
            if price is not None:
                candidates[o.id] = (o, price, o.remaining)
            elif o.time_in_force in ("ioc", "fok") and o.status in ("new", "accepted"):
                self._close(o, "canceled", "canceled", self.stamp())
        # One-cancels-other: when a bar reaches both exits, the stop-loss fills (conservative).
        for oid, (o, _, _) in list(candidates.items()):
            if o.role == "take_profit" and any(s.id in candidates for s in o.siblings()):
                del candidates[oid]
        for o, price, qty in candidates.values():
            if not o.is_open:
                continue
            self._fill(o, qty, price)
            if o.time_in_force == "ioc" and o.status == "partially_filled" and o.parts:
                o.parts = []
                self._close(o, "canceled", "canceled", self.stamp())
            if o.status == "filled" and o.legs and o.order_class != "oco":
                self._arm_legs(o, bar)

    def _arm_legs(self, parent, bar):
        at = self.stamp()
        for leg in parent.legs:
            leg.qty = parent.filled_qty
            if leg.role == "take_profit" or len(parent.legs) == 1:
                leg.status = "new"
                leg.touch(at)
                self._emit("new", leg, at)
        # The bar the entry filled in may already have gone through the stop (conservative); the take-profit is
        # only matched from the next bar.
        for leg in parent.legs:
            if leg.role == "stop_loss" and leg.is_open:
                price = leg.fill_price(bar)
                if price is not None:
                    self._fill(leg, leg.remaining, price)

    def _fill(self, order, qty, price):
        at = self.stamp()
        qty = min(qty, order.remaining)
        signed = qty if order.side == "buy" else -qty
        pos = self.positions.get(order.symbol)
        old = pos.qty if pos else Decimal(0)
        new = old + signed
        if pos is None:
            pos = self.positions[order.symbol] = Position(Decimal(0), price, self.lastday.get(order.symbol))
        if old == 0 or (old > 0) == (signed > 0):
            pos.avg = ((abs(old) * pos.avg + qty * price) / abs(new)).quantize(PRICE_Q)
        elif (new > 0) != (old > 0) and new != 0:
            pos.avg = price          # flipped through zero: the remainder opened at this price
        pos.qty = new
        if new == 0:
            del self.positions[order.symbol]
        self.cash -= signed * price
        total = order.filled_qty + qty
        order.filled_avg_price = (((order.filled_avg_price or 0) * order.filled_qty + price * qty) / total
                                  ).quantize(PRICE_Q)
        order.filled_qty = total
        full = order.filled_qty >= order.qty
        order.status = "filled" if full else "partially_filled"
        if full:
            order.filled_at = at
            order.parts = []
        order.touch(at)
        event = "fill" if full else "partial_fill"
        execution_id = self.uuid()
        self.counters["fills"] += 1
        stamp_text = rfc3339_us(at)
        self.activities.append({
            "id": f"{stamp_text[0:4]}{stamp_text[5:7]}{stamp_text[8:10]}{stamp_text[11:13]}{stamp_text[14:16]}"
                  f"{stamp_text[17:19]}{stamp_text[20:23]}::{execution_id}",
            "activity_type": "FILL", "transaction_time": stamp_text, "type": event, "price": num(price),
            "qty": num(qty), "side": order.side, "symbol": order.symbol, "leaves_qty": num(order.remaining),
            "order_id": order.id, "cum_qty": num(order.filled_qty), "order_status": order.status, "_at": at})
        self._emit(event, order, at, execution_id=execution_id, price=num(price), qty=num(qty),
                   position_qty=num(new))
        if full:
            for other in order.siblings():
                if other.is_open:
                    self._close(other, "canceled", "canceled", self.stamp())

    # --- closing orders ----------------------------------------------------------------------------------------
    def _close(self, order, status, event, at):
        order.status = status
        order.touch(at)
        field = {"canceled": "canceled_at", "expired": "expired_at", "rejected": "failed_at",
                 "replaced": "replaced_at"}[status]
        setattr(order, field, at)
        order.parts = []
        self._emit(event, order, at)
        if order.legs and order.order_class != "oco" and order.filled_qty < (order.qty or 0):
            for leg in order.legs:       # an entry that will not fill takes its exits with it
                if leg.is_open:
                    self._close(leg, "canceled", "canceled", self.stamp())
        if order.order_class == "oco" and order.parent is None and status != "replaced":
            for leg in order.legs:
                if leg.is_open:
                    self._close(leg, "canceled", "canceled", self.stamp())

    def expire_day_orders(self):
        with self.lock:
            now = self.market.now
            for o in list(self.sequence):
                if o.is_open and o.expires_at is not None and o.expires_at <= now:
                    self._close(o, "expired", "expired", self.stamp())

    def new_trading_date(self):
        """At a session boundary: yesterday's equity and prices become last_equity / lastday_price."""
        with self.lock:
            self.last_equity = self.equity()
            self.lastday = {s: self.price(s) for s in self.market.symbols}
            for s, p in self.positions.items():
                p.lastday_price = self.lastday[s]

    def cancel(self, order_id):
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                raise not_found()
            if not order.is_open:
                raise ApiError(422, 42210000, "order is not cancelable")
            at = self.stamp()
            group = list({o.id: o for o in [order] + order.legs + order.siblings()}.values())
            for o in group:
                if o.is_open:
                    self._close(o, "canceled", "canceled", at)
            return [o for o in group if o.status == "canceled" and o.canceled_at >= at]

    def cancel_all(self):
        with self.lock:
            results = []
            for o in list(self.sequence):
                if o.is_open and (o.parent is None or not o.parent.is_open):
                    for done in self.cancel(o.id):
                        results.append({"id": done.id, "status": 200, "body": self.order_json(done)})
            return results

    def replace(self, order_id, body):
        with self.lock:
            old = self.orders.get(order_id)
            if old is None:
                raise not_found()
            if old.status in ("accepted", "pending_new", "pending_cancel", "pending_replace"):
                raise ApiError(422, 42210000, "unable to replace order, order isn't sent to exchange yet")
            if not old.is_open:
                raise ApiError(422, 42210000, f'order is already in "{old.status}" state')
            if old.status == "partially_filled":
                raise ApiError(422, 42210000, "a partially filled order cannot be replaced here: cancel it and "
                               "send a new one")
            if old.notional is not None:
                raise ApiError(422, 42210000, "notional orders cannot be replaced")
            if not isinstance(body, dict):
                raise ApiError(400, 40010000, "request body format is invalid")
            qty = decimal_field(body, "qty")
            limit_price = decimal_field(body, "limit_price")
            stop_price = decimal_field(body, "stop_price")
            trail = decimal_field(body, "trail")
            tif = body.get("time_in_force")
            cid = body.get("client_order_id")
            if qty is not None and (qty <= 0 or old.parent is not None):
                raise invalid("qty must be > 0" if qty <= 0 else "the quantity of a leg cannot be replaced")
            if tif is not None and (tif not in ("day", "gtc", "ioc", "fok") or old.parent is not None):
                raise invalid(f"invalid time_in_force: {str(tif)[:20]}")
            if limit_price is not None and old.type not in ("limit", "stop_limit"):
                raise invalid(f"limit_price cannot be set on a {old.type} order")
            if stop_price is not None and old.type not in ("stop", "stop_limit"):
                raise invalid(f"stop_price cannot be set on a {old.type} order")
            if trail is not None and old.type != "trailing_stop":
                raise invalid(f"trail cannot be set on a {old.type} order")
            tick = self.market.symbols[old.symbol].tick
            for name, value in (("limit_price", limit_price), ("stop_price", stop_price), ("trail", trail)):
                if value is not None and (value <= 0 or value % tick):
                    raise invalid(f"invalid {name} {num(value)}")
            if cid is not None:
                if not isinstance(cid, str) or not cid or len(cid) > 128:
                    raise invalid("client_order_id must be a string of 1 to 128 characters")
                if cid in self.by_client_id:
                    self.counters["duplicate_client_order_id_rejections"] += 1
                    raise ApiError(422, 40010001, "client_order_id must be unique")
            at = self.stamp()
            new = Order(id=self.uuid(), client_order_id=cid or self.uuid(), created_at=at, replaces=old.id,
                        asset_id=old.asset_id, symbol=old.symbol, asset_class=old.asset_class,
                        qty=qty if qty is not None else old.qty, order_class=old.order_class, type=old.type,
                        side=old.side, time_in_force=tif or old.time_in_force,
                        limit_price=limit_price if limit_price is not None else old.limit_price,
                        stop_price=stop_price if stop_price is not None else old.stop_price,
                        trail_price=(trail if trail is not None and old.trail_price is not None else old.trail_price),
                        trail_percent=(trail if trail is not None and old.trail_percent is not None
                                       else old.trail_percent),
                        hwm=old.hwm, status=old.status, extended_hours=old.extended_hours, role=old.role,
                        seq=len(self.sequence))
            new.triggered = old.triggered
            if new.type == "trailing_stop":
                new.stop_price = new.trail_stop()
            new.expires_at = old.expires_at if new.time_in_force == old.time_in_force else (
                self.session.next_close(self.market.now) if new.time_in_force == "day" else None)
            self.orders[new.id] = new
            self.sequence.append(new)
            self.by_client_id[new.client_order_id] = new
            # The new order takes the old one's place in its group.
            new.parent = old.parent
            if old.parent is not None:
                old.parent.legs[old.parent.legs.index(old)] = new
            new.legs, old.legs = old.legs, []
            for leg in new.legs:
                leg.parent = new
                if qty is not None:
                    leg.qty = new.qty
            old.replaced_by = new.id
            self._close(old, "replaced", "replaced", at)
            if new.status == "new":
                self._emit("new", new, self.stamp())
            if self.session.is_open(self.market.now) and new.working:
                self._execute_now(new)
            return self.order_json(new)

    # --- positions ---------------------------------------------------------------------------------------------
    def close_position(self, symbol, qty=None, percentage=None):
        """DELETE /v2/positions/{symbol}: a market order for the position (or part of it)."""
        with self.lock:
            pos = self.positions.get(symbol)
            if pos is None:
                raise ApiError(404, 40410000, "position does not exist")
            amount = abs(pos.qty)
            if qty is not None:
                if qty <= 0 or qty > amount:
                    raise invalid(f"qty must be > 0 and <= the position's {num(amount)}")
                amount = qty
            elif percentage is not None:
                if percentage <= 0 or percentage > 100:
                    raise invalid("percentage must be > 0 and <= 100")
                amount = (amount * percentage / 100).quantize(QTY_Q, rounding=ROUND_DOWN)
            req = OrderRequest.parse({"symbol": symbol, "qty": str(amount), "type": "market",
                                      "time_in_force": "day", "side": "sell" if pos.qty > 0 else "buy"},
                                     lambda s: self.market.symbols.get(s))
            return self.submit(req)

    # --- trade updates -----------------------------------------------------------------------------------------
    def _emit(self, event, order, at, **extra):
        data = {"event": event, "timestamp": rfc3339_us(at)}
        data.update(extra)
        data["order"] = self.order_json(order)
        self.sink(data)


def split_quantity(qty, k):
    """qty in k parts (whole units when qty is a whole number of at least k)."""
    k = max(1, int(k))
    if qty == qty.to_integral_value() and qty >= k:
        base = (qty / k).to_integral_value(rounding=ROUND_DOWN)
    else:
        base = (qty / k).quantize(QTY_Q, rounding=ROUND_DOWN)
    if base <= 0:
        return [qty]
    return [base] * (k - 1) + [qty - base * (k - 1)]
