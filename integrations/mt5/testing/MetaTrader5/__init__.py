"""A stand-in for MetaQuotes' `MetaTrader5` package, for testing mt5_bridge.py without a terminal.

Same function names, constants and result shapes as the real package (rates are records indexed by field name,
ticks and symbols are named tuples), with deterministic data: hourly EURUSD/GBPUSD bars on weekdays, timestamps in
"server time" seconds as the terminal returns them. Environment switches for failure tests:
FAKE_MT5_FAIL_INIT=1 (initialize fails), FAKE_MT5_DROP_ONCE=1 (the first data call reports a lost IPC connection),
FAKE_MT5_AUTOTRADING_OFF=1 (order_send answers 10027), FAKE_MT5_LOSE_REPLY_ONCE=1 (the first order_send executes,
then fails as if its reply were lost). Trading: a netting account of 10,000 USD at 1:100, market
orders filled at the tick's ask/bid with 3.5 USD a lot commission (10009), pending orders placed (10008), modified in
place (TRADE_ACTION_MODIFY: price, stop-limit, SL/TP, time; never the volume) and removed, a position's SL/TP moved
(TRADE_ACTION_SLTP), MetaTrader's checks for volume (10014), pending prices on the wrong side of the market (10015),
stops (10016), requotes (10004), margin (10019), unchanged modifications (10025) and unknown symbols (None, -2).

The market stands still (EURUSD and GBPUSD bid 1.10012 / ask 1.10025 at 2024-01-10 12:00 server time) unless
FAKE_MT5_MARKET_FILE names a JSON file, re-read whenever it changes: {"EURUSD": {"bid": 1.089, "ask": 1.0891,
"time": 1704888060, "trade_mode": 4}, ...} (time in server seconds, trade_mode a SYMBOL_TRADE_MODE_*). A move fills
the pending orders the new prices reach, as a trade server would: limits at their price, stops at the market, a
stop-limit becoming its limit order when its stop is reached.
"""
import json
import os
from collections import namedtuple
from datetime import datetime, timezone

TIMEFRAME_M1, TIMEFRAME_M5, TIMEFRAME_M15, TIMEFRAME_M30 = 1, 5, 15, 30
TIMEFRAME_H1, TIMEFRAME_H4, TIMEFRAME_D1 = 16385, 16388, 16408
TIMEFRAME_W1, TIMEFRAME_MN1 = 32769, 49153
_SECONDS = {1: 60, 5: 300, 15: 900, 30: 1800, 16385: 3600, 16388: 14400, 16408: 86400}

SymbolInfo = namedtuple("SymbolInfo", "name description path digits visible")
Tick = namedtuple("Tick", "time bid ask last volume time_msc flags volume_real")
TerminalInfo = namedtuple("TerminalInfo", "connected trade_allowed company name build")

_SYMBOLS = [SymbolInfo("EURUSD", "Euro vs US Dollar", "Forex\\Majors\\EURUSD", 5, True),
            SymbolInfo("GBPUSD", "Pound vs US Dollar", "Forex\\Majors\\GBPUSD", 5, True),
            SymbolInfo("US500", "S&P 500 CFD", "Indices\\US500", 2, False)]
_state = {"ready": False, "error": (1, "Success"), "dropped": False, "calls": []}
SYMBOL_TRADE_MODE_DISABLED, SYMBOL_TRADE_MODE_LONGONLY, SYMBOL_TRADE_MODE_SHORTONLY = 0, 1, 2
SYMBOL_TRADE_MODE_CLOSEONLY, SYMBOL_TRADE_MODE_FULL = 3, 4
# The market: per symbol bid, ask, last tick time (server seconds; time_msc adds 123 ms to the default) and trade mode.
_market = {name: {"bid": 1.10012, "ask": 1.10025, "time": 1704888000, "msc": 123, "trade_mode": SYMBOL_TRADE_MODE_FULL}
           for name in ("EURUSD", "GBPUSD")}
_market_file = {"mtime": None}


def initialize(path=None, login=None, password=None, server=None, timeout=None, portable=False):
    _state["calls"].append("initialize")
    if os.environ.get("FAKE_MT5_FAIL_INIT") == "1":
        _state["error"] = (-10003, "IPC initialize failed, MetaTrader 5 x64 not found")
        return False
    _state["ready"] = True
    _state["error"] = (1, "Success")
    return True


def shutdown():
    _state["ready"] = False
    return True


def last_error():
    return _state["error"]


def version():
    return (500, 4000, "01 Jan 2024")


def terminal_info():
    return TerminalInfo(True, os.environ.get("FAKE_MT5_AUTOTRADING_OFF") != "1", "Fake Broker Ltd",
                        "MetaTrader 5 (fake)", 4000)


def _guard():
    _refresh_market()
    if not _state["ready"]:
        _state["error"] = (-10004, "No IPC connection")
        return False
    if os.environ.get("FAKE_MT5_DROP_ONCE") == "1" and not _state["dropped"]:
        _state["dropped"] = True
        _state["ready"] = False
        _state["error"] = (-10004, "No IPC connection")
        return False
    return True


def symbols_get(group=None):
    if not _guard():
        return None
    if group:
        pattern = group.strip("*")
        return tuple(s for s in _SYMBOLS if pattern in s.name)
    return tuple(_SYMBOLS)


def _bar(symbol, t, step):
    k = t // step
    base = (1.1 if symbol == "EURUSD" else 1.3) + (k % 50) * 0.0001
    return {"time": t, "open": base, "high": base + 0.0007, "low": base - 0.0005, "close": base + 0.0002,
            "tick_volume": 1000 + k % 17, "spread": 12, "real_volume": 0}


def _valid(symbol, timeframe):
    if symbol not in ("EURUSD", "GBPUSD"):
        _state["error"] = (-2, "Terminal: Invalid params")
        return False
    if timeframe not in _SECONDS:
        _state["error"] = (-2, "Terminal: Invalid params")
        return False
    return True


def copy_rates_range(symbol, timeframe, date_from, date_to):
    if not _guard() or not _valid(symbol, timeframe):
        return None
    step = _SECONDS[timeframe]
    start = int(date_from.replace(tzinfo=date_from.tzinfo or timezone.utc).timestamp())
    end = int(date_to.replace(tzinfo=date_to.tzinfo or timezone.utc).timestamp())
    t = (start + step - 1) // step * step
    out = []
    while t <= end:
        if datetime.fromtimestamp(t, timezone.utc).weekday() < 5:
            out.append(_bar(symbol, t, step))
        t += step
    return out


def copy_rates_from_pos(symbol, timeframe, start_pos, count):
    if not _guard() or not _valid(symbol, timeframe):
        return None
    step = _SECONDS[timeframe]
    now = int(os.environ.get("FAKE_MT5_NOW", "1704888000"))  # 2024-01-10 12:00 server time
    t = now // step * step
    out = []
    skipped = 0
    while len(out) < count:
        if datetime.fromtimestamp(t, timezone.utc).weekday() < 5:
            if skipped >= start_pos:
                out.append(_bar(symbol, t, step))
            skipped += 1
        t -= step
    return list(reversed(out))


def _tick(symbol):
    m = _market[symbol]
    return Tick(m["time"], m["bid"], m["ask"], 0.0, 0, m["time"] * 1000 + m["msc"], 6, 0.0)


def symbol_info_tick(symbol):
    if not _guard():
        return None
    if symbol not in ("EURUSD", "GBPUSD"):
        _state["error"] = (-1, "Terminal: Call failed")
        return None
    return _tick(symbol)


def _refresh_market():
    """Re-reads FAKE_MT5_MARKET_FILE when it changed (an unreadable or half-written file is skipped), then fills
    the pending orders the new prices reach."""
    path = os.environ.get("FAKE_MT5_MARKET_FILE")
    if not path:
        return
    try:
        info = os.stat(path)
        mtime = (info.st_ino, info.st_mtime_ns, info.st_size)   # a file replaced within one clock tick still differs
        if mtime == _market_file["mtime"]:
            return
        with open(path, encoding="utf-8") as f:
            update = json.load(f)
    except (OSError, ValueError):
        return
    _market_file["mtime"] = mtime
    for name, fields in update.items():
        if name in _market and isinstance(fields, dict):
            for key in ("bid", "ask", "time", "trade_mode"):
                if key in fields:
                    _market[name][key] = fields[key]
            if "time" in fields:
                _market[name]["msc"] = 0
    _match_pending()


def _match_pending():
    """A trade server's matching after a price move: a buy limit fills when the ask comes down to it, a sell limit
    when the bid comes up to it (at the order's price); a buy stop when the ask reaches it, a sell stop when the bid
    does (at the market); a stop-limit whose stop is reached becomes the limit order at its stop-limit price."""
    for ticket in list(_book["orders"]):
        order = _book["orders"][ticket]
        m = _market[order.symbol]
        bid, ask = m["bid"], m["ask"]
        if order.type == ORDER_TYPE_BUY_STOP_LIMIT and ask >= order.price_open:
            order = order._replace(type=ORDER_TYPE_BUY_LIMIT, price_open=order.price_stoplimit, price_stoplimit=0.0)
        elif order.type == ORDER_TYPE_SELL_STOP_LIMIT and bid <= order.price_open:
            order = order._replace(type=ORDER_TYPE_SELL_LIMIT, price_open=order.price_stoplimit, price_stoplimit=0.0)
        _book["orders"][ticket] = order
        buy = order.type % 2 == 0
        if order.type in (ORDER_TYPE_BUY_LIMIT, ORDER_TYPE_SELL_LIMIT):
            price = order.price_open if (ask <= order.price_open if buy else bid >= order.price_open) else None
        elif order.type in (ORDER_TYPE_BUY_STOP, ORDER_TYPE_SELL_STOP):
            price = (ask if buy else bid) if (ask >= order.price_open if buy else bid <= order.price_open) else None
        else:
            price = None
        if price is None:
            continue
        request = {"symbol": order.symbol, "magic": order.magic, "comment": order.comment, "sl": order.sl,
                   "tp": order.tp}
        _fill(ticket, request, buy, order.volume_current, price)
        t = _NOW_S + len(_book["deals"]) + len(_book["history"])
        del _book["orders"][ticket]
        _book["history"][ticket] = order._replace(state=ORDER_STATE_FILLED, volume_current=0.0, time_done=t,
                                                  time_done_msc=t * 1000)


# ---- Trading: constants, result shapes and behaviour of the real package (netting account) --------------------------
# Environment switches: FAKE_MT5_AUTOTRADING_OFF=1 (order_send answers 10027, as a terminal with AutoTrading off).

TRADE_ACTION_DEAL, TRADE_ACTION_PENDING, TRADE_ACTION_SLTP, TRADE_ACTION_MODIFY, TRADE_ACTION_REMOVE = 1, 5, 6, 7, 8
ORDER_TYPE_BUY, ORDER_TYPE_SELL, ORDER_TYPE_BUY_LIMIT, ORDER_TYPE_SELL_LIMIT = 0, 1, 2, 3
ORDER_TYPE_BUY_STOP, ORDER_TYPE_SELL_STOP, ORDER_TYPE_BUY_STOP_LIMIT, ORDER_TYPE_SELL_STOP_LIMIT = 4, 5, 6, 7
ORDER_FILLING_FOK, ORDER_FILLING_IOC, ORDER_FILLING_RETURN = 0, 1, 2
ORDER_TIME_GTC, ORDER_TIME_DAY, ORDER_TIME_SPECIFIED, ORDER_TIME_SPECIFIED_DAY = 0, 1, 2, 3
ORDER_STATE_STARTED, ORDER_STATE_PLACED, ORDER_STATE_CANCELED, ORDER_STATE_PARTIAL = 0, 1, 2, 3
ORDER_STATE_FILLED, ORDER_STATE_REJECTED, ORDER_STATE_EXPIRED = 4, 5, 6
DEAL_TYPE_BUY, DEAL_TYPE_SELL, DEAL_TYPE_BALANCE = 0, 1, 2
DEAL_ENTRY_IN, DEAL_ENTRY_OUT, DEAL_ENTRY_INOUT = 0, 1, 2
POSITION_TYPE_BUY, POSITION_TYPE_SELL = 0, 1
SYMBOL_FILLING_FOK, SYMBOL_FILLING_IOC = 1, 2
TRADE_RETCODE_REQUOTE, TRADE_RETCODE_REJECT, TRADE_RETCODE_PLACED, TRADE_RETCODE_DONE = 10004, 10006, 10008, 10009
TRADE_RETCODE_INVALID, TRADE_RETCODE_INVALID_VOLUME, TRADE_RETCODE_INVALID_PRICE = 10013, 10014, 10015
TRADE_RETCODE_INVALID_STOPS, TRADE_RETCODE_NO_MONEY, TRADE_RETCODE_CLIENT_DISABLES_AT = 10016, 10019, 10027
TRADE_RETCODE_NO_CHANGES, TRADE_RETCODE_INVALID_ORDER, TRADE_RETCODE_POSITION_CLOSED = 10025, 10035, 10036

OrderSendResult = namedtuple("OrderSendResult",
                             "retcode deal order volume price bid ask comment request_id retcode_external request")
TradeOrder = namedtuple("TradeOrder", "ticket time_setup time_setup_msc time_done time_done_msc time_expiration type "
                        "type_time type_filling state magic position_id position_by_id reason volume_initial "
                        "volume_current price_open sl tp price_current price_stoplimit symbol comment external_id")
TradePosition = namedtuple("TradePosition", "ticket time time_msc time_update time_update_msc type magic identifier "
                           "reason volume price_open sl tp price_current swap profit symbol comment external_id")
TradeDeal = namedtuple("TradeDeal", "ticket order time time_msc type entry magic position_id reason volume price "
                       "commission swap profit fee symbol comment external_id")
AccountInfo = namedtuple("AccountInfo", "login trade_mode leverage limit_orders margin_so_mode trade_allowed "
                         "trade_expert margin_mode currency_digits fifo_close balance credit profit equity margin "
                         "margin_free margin_level margin_so_call margin_so_so margin_initial margin_maintenance assets "
                         "liabilities commission_blocked name server currency company")
SymbolDetails = namedtuple("SymbolDetails", "name description path digits visible point trade_contract_size "
                           "volume_min volume_max volume_step trade_stops_level filling_mode trade_mode bid ask "
                           "currency_base currency_profit")

_book = {"orders": {}, "history": {}, "deals": [], "positions": {}, "balance": 10_000.0, "next": 1000}
_NOW_S = 1704888000          # the fake's clock (server time), as copy_rates_from_pos
_CONTRACT = 100_000.0
_COMMISSION_PER_LOT = 3.5


def _ticket():
    _book["next"] += 1
    return _book["next"]


def _result(retcode, request, comment, deal=0, order=0, volume=0.0, price=0.0):
    tick = _tick(request["symbol"]) if request.get("symbol") in ("EURUSD", "GBPUSD") else None
    return OrderSendResult(retcode, deal, order, volume, price, tick.bid if tick else 0.0, tick.ask if tick else 0.0,
                           comment, 1, 0, request)


def symbol_info(symbol):
    if not _guard():
        return None
    for s in _SYMBOLS:
        if s.name == symbol:
            m = _market.get(s.name, {"bid": 0.0, "ask": 0.0, "trade_mode": SYMBOL_TRADE_MODE_FULL})
            return SymbolDetails(s.name, s.description, s.path, s.digits, s.visible, 10.0 ** -s.digits, _CONTRACT,
                                 0.01, 100.0, 0.01, 10, SYMBOL_FILLING_FOK | SYMBOL_FILLING_IOC, m["trade_mode"],
                                 m["bid"], m["ask"], s.name[:3], s.name[3:])
    _state["error"] = (-1, "Terminal: Call failed")
    return None


def account_info():
    if not _guard():
        return None
    profit = sum(_position_profit(p) for p in _book["positions"].values())
    margin = sum(p.volume * _CONTRACT * p.price_open / 100 for p in _book["positions"].values())
    equity = _book["balance"] + profit
    return AccountInfo(5550001, 0, 100, 200, 0, True, os.environ.get("FAKE_MT5_AUTOTRADING_OFF") != "1", 0, 2, False,
                       _book["balance"], 0.0, profit, equity, margin, equity - margin,
                       equity / margin * 100 if margin else 0.0, 50.0, 30.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                       "Fake Trader", "FakeBroker-Demo", "USD", "Fake Broker Ltd")


def _position_profit(p):
    tick = _tick(p.symbol)
    close = tick.bid if p.type == POSITION_TYPE_BUY else tick.ask
    sign = 1 if p.type == POSITION_TYPE_BUY else -1
    return sign * (close - p.price_open) * p.volume * _CONTRACT


def _fill(order_ticket, request, side_buy, volume, price):
    """A deal for `volume` lots at `price` and the netting position it changes."""
    symbol = request["symbol"]
    deal = _ticket()
    current = _book["positions"].get(symbol)
    signed = volume if side_buy else -volume
    if current is None:
        entry, new_volume, open_price, ident = DEAL_ENTRY_IN, signed, price, order_ticket
    else:
        held = current.volume if current.type == POSITION_TYPE_BUY else -current.volume
        new_volume = round(held + signed, 8)
        ident = current.identifier
        if held * signed > 0:
            entry, open_price = DEAL_ENTRY_IN, (abs(held) * current.price_open + volume * price) / (abs(held) + volume)
        else:
            closed = min(abs(held), volume)
            _book["balance"] += (1 if held > 0 else -1) * (price - current.price_open) * closed * _CONTRACT
            entry = DEAL_ENTRY_OUT if abs(new_volume) < 1e-9 or held * new_volume > 0 else DEAL_ENTRY_INOUT
            open_price = current.price_open if held * new_volume > 0 else price
    commission = -_COMMISSION_PER_LOT * volume
    _book["balance"] += commission
    t = _NOW_S + len(_book["deals"])
    _book["deals"].append(TradeDeal(deal, order_ticket, t, t * 1000, DEAL_TYPE_BUY if side_buy else DEAL_TYPE_SELL,
                                    entry, request.get("magic", 0), ident, 3, volume, price, commission, 0.0, 0.0, 0.0,
                                    symbol, request.get("comment", ""), ""))
    if abs(new_volume) < 1e-9:
        del _book["positions"][symbol]
    else:
        _book["positions"][symbol] = TradePosition(
            ident, t, t * 1000, t, t * 1000, POSITION_TYPE_BUY if new_volume > 0 else POSITION_TYPE_SELL,
            request.get("magic", 0), ident, 3, abs(new_volume), open_price, request.get("sl", 0.0),
            request.get("tp", 0.0), price, 0.0, 0.0, symbol, request.get("comment", ""), "")
    return deal


def _order(ticket, request, state, volume_current, t):
    return TradeOrder(ticket, t, t * 1000, t if state != ORDER_STATE_PLACED else 0,
                      t * 1000 if state != ORDER_STATE_PLACED else 0, 0, request["type"],
                      request.get("type_time", ORDER_TIME_GTC), request.get("type_filling", ORDER_FILLING_FOK), state,
                      request.get("magic", 0), 0, 0, 3, request["volume"], volume_current, request.get("price", 0.0),
                      request.get("sl", 0.0), request.get("tp", 0.0), request.get("price", 0.0),
                      request.get("stoplimit", 0.0), request["symbol"], request.get("comment", ""), "")


def order_send(request):
    result = _order_send(request)
    if os.environ.get("FAKE_MT5_LOSE_REPLY_ONCE") == "1" and not _state.get("lost_reply") and result is not None:
        _state["lost_reply"] = True  # executed, but the answer never reaches the client: an ambiguous failure
        raise ConnectionResetError("the terminal's reply was lost")
    return result


def _order_send(request):
    """The real package's checks in order: arguments (None + last_error), AutoTrading, symbol, volume, price, then
    execution: a market deal fills at once (10009), a pending order is placed (10008), a remove cancels (10009)."""
    if not _guard():
        return None
    if not isinstance(request, dict) or "action" not in request:
        _state["error"] = (-2, "Invalid arguments")
        return None
    if os.environ.get("FAKE_MT5_AUTOTRADING_OFF") == "1":
        return _result(TRADE_RETCODE_CLIENT_DISABLES_AT, request, "AutoTrading disabled by client")
    action = request["action"]
    t = _NOW_S + len(_book["deals"]) + len(_book["history"])
    if action == TRADE_ACTION_REMOVE:
        order = _book["orders"].pop(request.get("order"), None)
        if order is None:
            return _result(TRADE_RETCODE_INVALID_ORDER, request, "Invalid order")
        _book["history"][order.ticket] = order._replace(state=ORDER_STATE_CANCELED, time_done=t, time_done_msc=t * 1000)
        return _result(TRADE_RETCODE_DONE, request, "Request executed", order=order.ticket)
    if action == TRADE_ACTION_MODIFY:
        return _modify(request)
    if action == TRADE_ACTION_SLTP:
        return _sltp(request)
    symbol = request.get("symbol")
    if symbol not in ("EURUSD", "GBPUSD"):
        _state["error"] = (-2, 'Invalid "symbol" argument')
        return None
    volume = request.get("volume", 0.0)
    steps = round(volume / 0.01)
    if not 0.01 <= volume <= 100.0 or abs(steps * 0.01 - volume) > 1e-9:
        return _result(TRADE_RETCODE_INVALID_VOLUME, request, "Invalid volume")
    tick = _tick(symbol)
    otype = request.get("type")
    if action == TRADE_ACTION_DEAL:
        if otype not in (ORDER_TYPE_BUY, ORDER_TYPE_SELL):
            return _result(TRADE_RETCODE_INVALID, request, "Invalid request")
        price = tick.ask if otype == ORDER_TYPE_BUY else tick.bid
        if abs(request.get("price", price) - price) > request.get("deviation", 0) * 0.00001 + 1e-12:
            return _result(TRADE_RETCODE_REQUOTE, request, "Requote")
        margin = volume * _CONTRACT * price / 100
        if margin > account_info().margin_free:
            return _result(TRADE_RETCODE_NO_MONEY, request, "No money")
        ticket = _ticket()
        deal = _fill(ticket, request, otype == ORDER_TYPE_BUY, volume, price)
        _book["history"][ticket] = _order(ticket, dict(request, price=price), ORDER_STATE_FILLED, 0.0, t)
        return _result(TRADE_RETCODE_DONE, request, "Request executed", deal=deal, order=ticket, volume=volume,
                       price=price)
    if action == TRADE_ACTION_PENDING:
        if otype not in range(2, 8) or not request.get("price") or not _pending_price_valid(otype, request["price"], tick):
            return _result(TRADE_RETCODE_INVALID_PRICE, request, "Invalid price")
        ticket = _ticket()
        _book["orders"][ticket] = _order(ticket, request, ORDER_STATE_PLACED, volume, t)
        return _result(TRADE_RETCODE_PLACED, request, "Request executed", order=ticket, volume=volume)
    return _result(TRADE_RETCODE_INVALID, request, "Invalid request")


def _pending_price_valid(otype, price, tick):
    """A pending order's price must be on the side of the market it waits for: buy limit below the ask, sell limit
    above the bid, buy stop (and stop-limit) above the ask, sell stop (and stop-limit) below the bid."""
    if otype == ORDER_TYPE_BUY_LIMIT:
        return price < tick.ask
    if otype == ORDER_TYPE_SELL_LIMIT:
        return price > tick.bid
    if otype in (ORDER_TYPE_BUY_STOP, ORDER_TYPE_BUY_STOP_LIMIT):
        return price > tick.ask
    return price < tick.bid


def _modify(request):
    """TRADE_ACTION_MODIFY: a working order's price, stop-limit price, SL/TP, time type and expiration change in place
    (same ticket, magic and comment; the volume never changes)."""
    order = _book["orders"].get(request.get("order"))
    if order is None:
        return _result(TRADE_RETCODE_INVALID_ORDER, request, "Invalid order")
    price = request.get("price", 0.0)
    if not price or not _pending_price_valid(order.type, price, _tick(order.symbol)):
        return _result(TRADE_RETCODE_INVALID_PRICE, request, "Invalid price")
    changed = order._replace(price_open=price, price_current=price,
                             price_stoplimit=request.get("stoplimit", 0.0) if order.type >= ORDER_TYPE_BUY_STOP_LIMIT
                             else order.price_stoplimit,
                             sl=request.get("sl", 0.0), tp=request.get("tp", 0.0),
                             type_time=request.get("type_time", ORDER_TIME_GTC),
                             time_expiration=request.get("expiration", 0))
    if changed == order:
        return _result(TRADE_RETCODE_NO_CHANGES, request, "No changes")
    _book["orders"][order.ticket] = changed
    return _result(TRADE_RETCODE_DONE, request, "Request executed", order=order.ticket)


def _sltp(request):
    """TRADE_ACTION_SLTP on a netting account: the symbol's position gets new SL/TP (0 removes one); a stop loss must
    be below the bid of a long position (above the ask of a short) and a take profit beyond it (10016)."""
    position = _book["positions"].get(request.get("symbol"))
    if position is None or (request.get("position") and request["position"] != position.ticket):
        return _result(TRADE_RETCODE_POSITION_CLOSED, request, "Position doesn't exist")
    tick = _tick(position.symbol)
    sl, tp = request.get("sl", 0.0), request.get("tp", 0.0)
    if position.type == POSITION_TYPE_BUY:
        valid = (not sl or sl < tick.bid) and (not tp or tp > tick.bid)
    else:
        valid = (not sl or sl > tick.ask) and (not tp or tp < tick.ask)
    if not valid:
        return _result(TRADE_RETCODE_INVALID_STOPS, request, "Invalid stops")
    if (sl, tp) == (position.sl, position.tp):
        return _result(TRADE_RETCODE_NO_CHANGES, request, "No changes")
    _book["positions"][position.symbol] = position._replace(sl=sl, tp=tp)
    return _result(TRADE_RETCODE_DONE, request, "Request executed")


def orders_get(symbol=None, group=None, ticket=None):
    if not _guard():
        return None
    return tuple(o for o in _book["orders"].values() if (symbol is None or o.symbol == symbol)
                 and (ticket is None or o.ticket == ticket))


def history_orders_get(date_from=None, date_to=None, ticket=None, position=None):
    if not _guard():
        return None
    if ticket is not None:
        return tuple(o for o in _book["history"].values() if o.ticket == ticket)
    lo, hi = _seconds(date_from), _seconds(date_to)
    return tuple(o for o in _book["history"].values() if lo <= o.time_setup <= hi)


def positions_get(symbol=None, group=None, ticket=None):
    if not _guard():
        return None
    return tuple(p for p in _book["positions"].values() if symbol is None or p.symbol == symbol)


def history_deals_get(date_from=None, date_to=None, ticket=None, position=None):
    """Deals in a time range, or (the package's `ticket=`) the deals of one order, or of one position."""
    if not _guard():
        return None
    if ticket is not None:
        return tuple(d for d in _book["deals"] if d.order == ticket)
    if position is not None:
        return tuple(d for d in _book["deals"] if d.position_id == position)
    lo, hi = _seconds(date_from), _seconds(date_to)
    return tuple(d for d in _book["deals"] if lo <= d.time <= hi)


def _seconds(value):
    if isinstance(value, datetime):
        return int(value.replace(tzinfo=value.tzinfo or timezone.utc).timestamp())
    return int(value or 0)
