#!/usr/bin/env python3
"""Times backtesting.py 0.6's SmaCross on the first N bars of a CSV (for `aitrader bench --suite backtest`).

    python tools/reference/bench_backtesting_py.py BARS.csv N FAST SLOW
prints {"bars": N, "seconds": S, "cpu_seconds": C, "trades": T, "final_equity": E} (S = Backtest(...).run() wall
time, C = its process CPU time; data loading excluded; best of 2 runs).
"""
import json
import sys
import time
import warnings

import os

import pandas as pd
from backtesting import Backtest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from backtest_fixtures import SmaCross  # noqa: E402  (the one reference strategy, shared with the fixtures)


def main():
    path, n, fast, slow = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    df = pd.read_csv(path, index_col=0, parse_dates=True, nrows=n)
    best = best_cpu = None
    for _ in range(2):
        bt = Backtest(df, SmaCross, cash=10_000, commission=0.002)
        t0, c0 = time.perf_counter(), time.process_time()
        stats = bt.run(fast=fast, slow=slow)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        best = dt if best is None else min(best, dt)
        best_cpu = dc if best_cpu is None else min(best_cpu, dc)
    print(json.dumps({"bars": len(df), "seconds": best, "cpu_seconds": best_cpu, "trades": int(stats["# Trades"]),
                      "final_equity": float(stats["Equity Final [$]"])}))


if __name__ == "__main__":
    main()
