#!/usr/bin/env python3
"""Reference performance metrics from empyrical (empyrical-reloaded) for AITrader's PerformanceMetrics tests.

Each case is a per-bar simple-return series with an annualisation factor (bars per year) and an annual risk-free
rate; AITrader turns the annual rate into a per-bar rate as rf / annualisation, so the fixture passes that per-bar
value to empyrical. Writes Tests/SimulationTests/Fixtures/metrics_empyrical.json.

    .venv/bin/python tools/reference/metrics_fixtures.py
"""
import json
import os

import numpy as np
import empyrical as ep

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def case(name, returns, annualization, rf_annual):
    r = np.asarray(returns, dtype=float)
    rf = rf_annual / annualization
    return {
        "name": name, "annualization": annualization, "risk_free_annual": rf_annual, "returns": r.tolist(),
        "total_return": float(ep.cum_returns_final(r)),
        "cagr": float(ep.annual_return(r, annualization=annualization)),
        "annual_volatility": float(ep.annual_volatility(r, annualization=annualization)),
        "sharpe": float(ep.sharpe_ratio(r, risk_free=rf, annualization=annualization)),
        "sortino": float(ep.sortino_ratio(r, required_return=rf, annualization=annualization)),
        "downside_risk": float(ep.downside_risk(r, required_return=rf, annualization=annualization)),
        "max_drawdown": float(ep.max_drawdown(r)),
        "calmar": float(ep.calmar_ratio(r, annualization=annualization)),
    }


def main():
    rng = np.random.default_rng(20240501)
    cases = [
        case("daily_gaussian", rng.normal(0.0004, 0.012, 1500), 252, 0.0),
        case("daily_gaussian_rf", rng.normal(0.0002, 0.015, 800), 252, 0.03),
        case("hourly_fx", rng.normal(0.00001, 0.0015, 3000), 252 * 24, 0.01),
        case("crypto_daily_fat_tails", rng.standard_t(3, 1000) * 0.02, 365, 0.02),
        case("weekly_losing", rng.normal(-0.002, 0.03, 300), 52, 0.0),
    ]
    # The equity curve of backtesting.py's SmaCross on GOOG (10/20, cash 1e6, commission 0.002), as returns.
    bt = json.load(open(os.path.join(ROOT, "Tests/SimulationTests/Fixtures/bt_goog_d1_10_20.json")))
    eq = np.asarray(bt["equity"])
    cases.append(case("goog_sma_cross_equity", eq[1:] / eq[:-1] - 1, 252, 0.0))
    out = os.path.join(ROOT, "Tests/SimulationTests/Fixtures/metrics_empyrical.json")
    with open(out, "w") as f:
        json.dump({"empyrical_version": ep.__version__, "cases": cases}, f, separators=(",", ":"))
    print("wrote", out, [c["name"] for c in cases])


if __name__ == "__main__":
    main()
