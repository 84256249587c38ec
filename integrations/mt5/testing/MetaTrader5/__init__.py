"""A stand-in for MetaQuotes' `MetaTrader5` package, for testing mt5_bridge.py without a terminal.

Same function names, constants and result shapes as the real package (rates are records indexed by field name,
ticks and symbols are named tuples), with deterministic data: hourly EURUSD/GBPUSD bars on weekdays, timestamps in
"server time" seconds as the terminal returns them. Environment switches for failure tests:
FAKE_MT5_FAIL_INIT=1 (initialize fails), FAKE_MT5_DROP_ONCE=1 (the first data call reports a lost IPC connection).
"""
import os
from collections import namedtuple
from datetime import datetime, timezone

TIMEFRAME_M1, TIMEFRAME_M5, TIMEFRAME_M15, TIMEFRAME_M30 = 1, 5, 15, 30
TIMEFRAME_H1, TIMEFRAME_H4, TIMEFRAME_D1 = 16385, 16388, 16408
TIMEFRAME_W1, TIMEFRAME_MN1 = 32769, 49153
_SECONDS = {1: 60, 5: 300, 15: 900, 30: 1800, 16385: 3600, 16388: 14400, 16408: 86400}

SymbolInfo = namedtuple("SymbolInfo", "name description path digits visible")
Tick = namedtuple("Tick", "time bid ask last volume time_msc flags volume_real")
TerminalInfo = namedtuple("TerminalInfo", "connected company name build")

_SYMBOLS = [SymbolInfo("EURUSD", "Euro vs US Dollar", "Forex\\Majors\\EURUSD", 5, True),
            SymbolInfo("GBPUSD", "Pound vs US Dollar", "Forex\\Majors\\GBPUSD", 5, True),
            SymbolInfo("US500", "S&P 500 CFD", "Indices\\US500", 2, False)]
_state = {"ready": False, "error": (1, "Success"), "dropped": False, "calls": []}


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
    return TerminalInfo(True, "Fake Broker Ltd", "MetaTrader 5 (fake)", 4000)


def _guard():
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


def symbol_info_tick(symbol):
    if not _guard():
        return None
    if symbol not in ("EURUSD", "GBPUSD"):
        _state["error"] = (-1, "Terminal: Call failed")
        return None
    return Tick(1704888000, 1.10012, 1.10025, 0.0, 0, 1704888000123, 6, 0.0)
