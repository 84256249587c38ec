#!/usr/bin/env python3
"""Reference trades and equity from backtesting.py 0.6 for AITrader's sma_cross parity tests.

Runs backtesting.py's canonical SmaCross (SMA = pandas rolling mean; on a cross above: close the position, buy with
all equity; on a cross below: close, sell with all equity; market orders fill at the next bar's open; commission a
fraction of traded value on entry and exit; whole units) and writes, per case, the trade list, final equity and the
equity curve as JSON, with backtesting.py's summary statistics ("stats").

    .venv/bin/python tools/reference/backtest_fixtures.py [OUT_DIR]            # the committed fixtures
    .venv/bin/python tools/reference/backtest_fixtures.py --csv F.csv --fast 10 --slow 20 --cash 10000 \
        --commission 0.002 [--finalize]                                                   # one run, JSON on stdout
    .venv/bin/python tools/reference/backtest_fixtures.py --buy-and-hold [OUT_DIR]       # the baseline fixtures

The buy-and-hold fixtures (bh_*.json: BuyAndHoldBaseline's reference) also need empyrical-reloaded==0.7.1
(tools/reference/requirements.txt, `make reference-venv`); nothing else in this script imports it.
"""
import argparse
import json
import math
import os
import sys
import warnings

import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

warnings.filterwarnings("ignore")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def SMA(values, n):
    return pd.Series(values).rolling(n).mean()


class SmaCross(Strategy):
    fast = 10
    slow = 20

    def init(self):
        self.sma1 = self.I(SMA, self.data.Close, self.fast)
        self.sma2 = self.I(SMA, self.data.Close, self.slow)

    def next(self):
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()
            self.sell()


class BuyAndHold(Strategy):
    """backtesting.py's buy-and-hold: buy with all equity whenever flat, then hold."""

    def init(self):
        pass

    def next(self):
        if not self.position:
            self.buy()


def run_buy_and_hold(csv, cash, commission, annualization):
    """BuyAndHold on the CSV's bars, with empyrical's statistics of its equity curve's per-bar returns.

    backtesting.py first calls `next()` at the close of the SECOND bar (`start = 1 + warm-up`), AITrader's
    backtester at the close of the first, so backtesting.py's first buy fills one bar later. To compare the same
    thing -- a buy at the first price AITrader can trade at, the second bar's open -- a copy of the first bar is
    prepended one bar-spacing earlier; backtesting.py's buy then fills at the open of the CSV's second bar, and
    the padding bar's equity point (the initial cash) is dropped from the curve."""
    import empyrical as ep  # regenerating fixtures only (requirements.txt); the live tests don't reach this

    df = pd.read_csv(csv, index_col=0, parse_dates=True, float_precision="round_trip")
    pad = df.iloc[[0]].copy()
    pad.index = pd.DatetimeIndex([df.index[0] - (df.index[1] - df.index[0])])
    bt = Backtest(pd.concat([pad, df]), BuyAndHold, cash=cash, commission=commission)
    stats = bt.run()
    eq = stats["_equity_curve"]["Equity"].values[1:]
    trade = stats["_strategy"].trades[0]
    r = pd.Series(eq).pct_change().dropna().values
    return {
        "csv": os.path.relpath(os.path.abspath(csv), ROOT), "cash": cash, "commission": commission,
        "annualization": annualization,
        "entry_bar": int(trade.entry_bar) - 1, "entry_time": iso(trade.entry_time),
        "entry_price": float(trade.entry_price), "units": int(trade.size),
        "final_equity": float(stats["Equity Final [$]"]),
        "equity": [float(x) for x in eq],
        "total_return": float(ep.cum_returns_final(r)),
        "cagr": float(ep.annual_return(r, annualization=annualization)),
        "annual_volatility": float(ep.annual_volatility(r, annualization=annualization)),
        "sharpe": float(ep.sharpe_ratio(r, risk_free=0, annualization=annualization)),
        "sortino": float(ep.sortino_ratio(r, required_return=0, annualization=annualization)),
        "max_drawdown": float(ep.max_drawdown(r)),
        "calmar": float(ep.calmar_ratio(r, annualization=annualization)),
        "backtesting_version": __import__("backtesting").__version__,
        "empyrical_version": ep.__version__,
    }


def iso(t):
    return pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(csv, fast, slow, cash, commission, finalize):
    # round_trip: correctly rounded decimal parsing (pandas' default fast parser may be 1 ulp off, which would
    # make the reference differ from the CSV's true values in the last bit).
    df = pd.read_csv(csv, index_col=0, parse_dates=True, float_precision="round_trip")
    bt = Backtest(df, SmaCross, cash=cash, commission=commission, finalize_trades=finalize)
    stats = bt.run(fast=fast, slow=slow)
    trades = stats["_trades"]
    eq = stats["_equity_curve"]["Equity"].values
    return {
        "csv": os.path.relpath(os.path.abspath(csv), ROOT),
        "fast": fast, "slow": slow, "cash": cash, "commission": commission, "finalize_trades": finalize,
        "final_equity": float(stats["Equity Final [$]"]),
        "trades": [
            {"size": int(r.Size), "entry_bar": int(r.EntryBar), "exit_bar": int(r.ExitBar),
             "entry_time": iso(r.EntryTime), "exit_time": iso(r.ExitTime),
             "entry_price": float(r.EntryPrice), "exit_price": float(r.ExitPrice),
             "pnl": float(r.PnL), "commission": float(r.Commission)}
            for r in trades.itertuples()
        ],
        "equity": [float(x) for x in eq],
        "backtesting_version": __import__("backtesting").__version__,
        "stats": summary_stats(stats),
    }


# backtesting.py's summary rows that PerformanceMetrics has a counterpart for (ParityTests documents the mapping).
STAT_KEYS = ["# Trades", "Win Rate [%]", "Best Trade [%]", "Worst Trade [%]", "Avg. Trade [%]", "Profit Factor",
             "Expectancy [%]", "Kelly Criterion", "Return [%]", "Max. Drawdown [%]", "Exposure Time [%]",
             "Commissions [$]", "Equity Final [$]"]


def summary_stats(stats):
    """The rows of STAT_KEYS as backtesting.py reports them, plus figures backtesting.py does not print but
    defines on its trade list (`_trades`), aggregated here with pandas: the mean, gross profit and gross loss of
    the trades' PnL (currency), which PerformanceMetrics reports as expectancy, averageWin/averageLoss and a
    currency profit factor."""
    pl = stats["_trades"]["PnL"]
    out = {k: float(stats[k]) for k in STAT_KEYS if k in stats}
    out.update({"pnl_mean": float(pl.mean()), "pnl_gross_profit": float(pl[pl > 0].sum()),
                "pnl_gross_loss": float(pl[pl < 0].sum()), "pnl_wins": int((pl > 0).sum()),
                "pnl_losses": int((pl < 0).sum())})
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out", nargs="?", default=os.path.join(ROOT, "Tests/SimulationTests/Fixtures"))
    p.add_argument("--csv")
    p.add_argument("--fast", type=int, default=10)
    p.add_argument("--slow", type=int, default=20)
    p.add_argument("--cash", type=float, default=10_000)
    p.add_argument("--commission", type=float, default=0.002)
    p.add_argument("--finalize", action="store_true")
    p.add_argument("--buy-and-hold", action="store_true")
    a = p.parse_args()
    if a.buy_and_hold:
        # Annualisation as AITrader's Annualization: GOOG daily US equities 252; EURUSD hourly FX 260 x 24.
        bh = {
            "bh_goog_d1": ("data/sample/GOOG_D1.csv", 10_000, 0.002, 252),
            "bh_eurusd_h1": ("data/sample/EURUSD_H1.csv", 10_000, 0.002, 6240),
        }
        for name, (csv, cash, comm, ann) in bh.items():
            res = run_buy_and_hold(os.path.join(ROOT, csv), cash, comm, ann)
            with open(os.path.join(a.out, name + ".json"), "w") as f:
                json.dump(res, f, separators=(",", ":"))
            print(name, res["units"], "units @", res["entry_price"], res["entry_time"], "final", res["final_equity"])
        return
    if a.csv:
        json.dump(run(a.csv, a.fast, a.slow, a.cash, a.commission, a.finalize), sys.stdout)
        return
    cases = {
        "bt_eurusd_h1_10_20": ("data/sample/EURUSD_H1.csv", 10, 20, 10_000, 0.002, False),
        "bt_eurusd_h1_5_30_final": ("data/sample/EURUSD_H1.csv", 5, 30, 10_000, 0.0005, True),
        "bt_goog_d1_10_20": ("data/sample/GOOG_D1.csv", 10, 20, 1_000_000, 0.002, False),
        "bt_goog_d1_10_20_cash10k": ("data/sample/GOOG_D1.csv", 10, 20, 10_000, 0.002, False),
        "bt_goog_d1_20_50_final": ("data/sample/GOOG_D1.csv", 20, 50, 1_000_000, 0.001, True),
    }
    for name, (csv, fast, slow, cash, comm, fin) in cases.items():
        res = run(os.path.join(ROOT, csv), fast, slow, cash, comm, fin)
        with open(os.path.join(a.out, name + ".json"), "w") as f:
            json.dump(res, f, separators=(",", ":"))
        print(name, len(res["trades"]), "trades, final equity", res["final_equity"])


if __name__ == "__main__":
    main()
