"""Read-only views of the book in Alpaca's wire format: account, positions, order lists, fill activities, assets.

Each function takes the book's lock for its whole answer, so an answer is one consistent snapshot.
"""
import datetime as dt
from decimal import Decimal

from .clock import US, parse_time, rfc3339_us
from .orders import ApiError, invalid, num

ORDER_LIMIT_DEFAULT, ORDER_LIMIT_MAX = 50, 500
ACTIVITY_PAGE_MAX = 100


def account(book):
    with book.lock:
        equity = book.equity()
        long_value = sum((p.qty * book.price(s) for s, p in book.positions.items() if p.qty > 0), Decimal(0))
        short_value = sum((p.qty * book.price(s) for s, p in book.positions.items() if p.qty < 0), Decimal(0))
        gross = book.gross_exposure()
        power = book.buying_power()
        initial_margin = gross / book.multiplier
        return {
            "id": book.account_id, "admin_configurations": {}, "user_configurations": None,
            "account_number": book.account_number, "status": "ACTIVE", "crypto_status": "ACTIVE",
            "options_approved_level": 0, "options_trading_level": 0, "currency": "USD",
            "buying_power": num(power), "regt_buying_power": num(power), "daytrading_buying_power": "0",
            "effective_buying_power": num(power), "non_marginable_buying_power": num(max(Decimal(0), book.cash)),
            "options_buying_power": "0", "bod_dtbp": "0", "cash": num(book.cash), "accrued_fees": "0",
            "portfolio_value": num(equity), "pattern_day_trader": False, "trading_blocked": False,
            "transfers_blocked": False, "account_blocked": False, "created_at": rfc3339_us(book.created_at),
            "trade_suspended_by_user": False, "multiplier": num(book.multiplier), "shorting_enabled": True,
            "equity": num(equity), "last_equity": num(book.last_equity), "long_market_value": num(long_value),
            "short_market_value": num(short_value), "position_market_value": num(long_value - short_value),
            "initial_margin": num(initial_margin), "maintenance_margin": num(initial_margin),
            "last_maintenance_margin": num(initial_margin), "sma": num(equity), "daytrade_count": 0,
            "balance_asof": dt.datetime.fromtimestamp(book.market.now, dt.timezone.utc).date().isoformat(),
            "crypto_tier": 1, "intraday_adjustments": "0", "pending_reg_taf_fees": "0",
        }


def position(book, symbol):
    p = book.positions[symbol]
    asset = book.market.symbols[symbol]
    price = book.price(symbol)
    market_value = p.qty * price
    cost_basis = p.qty * p.avg
    pl = market_value - cost_basis
    lastday = p.lastday_price or p.avg
    intraday_basis = p.qty * lastday
    held = book.held_for_orders(symbol)
    available = abs(p.qty) - held
    return {
        "asset_id": book.asset_ids[symbol], "symbol": symbol, "exchange": "CRYPTO" if asset.asset_class == "crypto"
        else "OTC", "asset_class": asset.asset_class, "asset_marginable": True, "avg_entry_price": num(p.avg),
        "qty": num(p.qty), "qty_available": num(available if p.qty > 0 else -available),
        "side": "long" if p.qty > 0 else "short", "market_value": num(market_value), "cost_basis": num(cost_basis),
        "unrealized_pl": num(pl), "unrealized_plpc": num((pl / abs(cost_basis)).quantize(Decimal("1e-12"))),
        "unrealized_intraday_pl": num(market_value - intraday_basis),
        "unrealized_intraday_plpc": num(((market_value - intraday_basis) / abs(intraday_basis))
                                        .quantize(Decimal("1e-12"))),
        "current_price": num(price), "lastday_price": num(lastday),
        "change_today": num(((price - lastday) / lastday).quantize(Decimal("1e-12"))),
    }


def positions(book):
    with book.lock:
        return [position(book, s) for s in sorted(book.positions)]


def one_position(book, symbol):
    with book.lock:
        if symbol not in book.positions:
            raise ApiError(404, 40410000, "position does not exist")
        return position(book, symbol)


def _flag(query, name, default):
    value = query.get(name)
    if value is None:
        return default
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise invalid(f"invalid {name}: {value[:20]}")


def _time(query, name):
    value = query.get(name)
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise invalid(f"invalid {name}: {value[:40]}") from None


def _direction(query):
    direction = query.get("direction", "desc")
    if direction not in ("asc", "desc"):
        raise invalid(f"invalid direction: {direction[:20]}")
    return direction


def list_orders(book, query):
    status = query.get("status", "open")
    if status not in ("open", "closed", "all"):
        raise invalid(f"invalid status: {status[:20]}")
    try:
        limit = int(query.get("limit", ORDER_LIMIT_DEFAULT))
    except ValueError:
        raise invalid("limit must be an integer") from None
    if not 1 <= limit <= ORDER_LIMIT_MAX:
        raise invalid(f"limit must be between 1 and {ORDER_LIMIT_MAX}")
    after, until = _time(query, "after"), _time(query, "until")
    direction = _direction(query)
    nested = _flag(query, "nested", False)
    symbols = {s for s in query.get("symbols", "").split(",") if s} or None
    side = query.get("side")
    with book.lock:
        picked = []
        for o in book.sequence:
            if nested and o.parent is not None:
                continue          # rolled up under its parent
            if symbols and o.symbol not in symbols:
                continue
            if side and o.side != side:
                continue
            if after is not None and o.submitted_at <= after:
                continue
            if until is not None and o.submitted_at >= until:
                continue
            group_open = o.is_open or (nested and any(leg.is_open for leg in o.legs))
            if status == "open" and not group_open:
                continue
            if status == "closed" and group_open:
                continue
            picked.append(o)
        picked.sort(key=lambda o: (o.submitted_at, o.seq), reverse=direction == "desc")
        return [book.order_json(o, nested=nested) for o in picked[:limit]]


def get_order(book, order_id, query):
    nested = _flag(query, "nested", True)
    with book.lock:
        o = book.orders.get(order_id)
        if o is None:
            raise ApiError(404, 40410000, "order not found")
        return book.order_json(o, nested=nested)


def order_by_client_id(book, client_order_id):
    with book.lock:
        o = book.by_client_id.get(client_order_id or "")
        if o is None:
            raise ApiError(404, 40410000, "order not found")
        return book.order_json(o)


def fill_activities(book, query):
    """GET /v2/account/activities/FILL: newest first by default, page_size <= 100, page_token = the last id of
    the previous page."""
    direction = _direction(query)
    after, until = _time(query, "after"), _time(query, "until")
    date = query.get("date")
    if date is not None:
        day = _time(query, "date")
        after, until = day - 1, day + 86400 * US
    try:
        page_size = int(query.get("page_size", ACTIVITY_PAGE_MAX))
    except ValueError:
        raise invalid("page_size must be an integer") from None
    if not 1 <= page_size <= ACTIVITY_PAGE_MAX:
        raise invalid(f"page_size must be between 1 and {ACTIVITY_PAGE_MAX}")
    token = query.get("page_token")
    with book.lock:
        rows = [a for a in book.activities
                if (after is None or a["_at"] > after) and (until is None or a["_at"] < until)]
        if direction == "desc":
            rows.reverse()
        if token:
            ids = [a["id"] for a in rows]
            if token not in ids:
                raise invalid(f"invalid page_token: {token[:80]}")
            rows = rows[ids.index(token) + 1:]
        return [{k: v for k, v in a.items() if k != "_at"} for a in rows[:page_size]]


def asset(book, symbol):
    s = book.market.symbols[symbol]
    crypto = s.asset_class == "crypto"
    return {"id": book.asset_ids[symbol], "class": s.asset_class, "exchange": "CRYPTO" if crypto else "OTC",
            "symbol": symbol, "name": f"{symbol} (fake market replayed from bars)", "status": "active",
            "tradable": True, "marginable": True, "maintenance_margin_requirement": 50, "shortable": True,
            "easy_to_borrow": True, "fractionable": True, "attributes": [],
            "min_order_size": "0.000000001", "min_trade_increment": "0.000000001", "price_increment": num(s.tick)}


def find_asset(book, symbol_or_id):
    for s, asset_id in book.asset_ids.items():
        if symbol_or_id in (s, asset_id, s.replace("/", "")):
            return s
    return None
