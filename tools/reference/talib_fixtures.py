#!/usr/bin/env python3
"""TA-Lib reference values for the Features module (AITrader column names -> TA-Lib calls).

Modes:
  talib_fixtures.py                      write Tests/FeaturesTests/Fixtures/talib/<sample>.bin + index.json for both
                                         bundled samples (every non-NaN row of every TA-Lib column, then of the
                                         Keltner and SuperTrend columns built on TA-Lib's EMA/ATR; float64 LE)
  talib_fixtures.py --csv IN --out OUT   compute the same columns on a bars CSV (`,Open,High,Low,Close,Volume`),
                                         write a CSV (timestamp then columns, %.17g, empty for NaN)
  talib_fixtures.py --bench N            time TA-Lib computing the same set on N random-walk bars; prints JSON
                                         {"bars": N, "talib_ms": median wall, "talib_cpu_ms": median thread CPU}

    $AITRADER_PYTHON tools/reference/talib_fixtures.py

Needs numpy, pandas, ta-lib.
"""
import argparse, json, os, sys, time
import numpy as np
import pandas as pd
import talib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SAMPLES = {"EURUSD_H1": "data/sample/EURUSD_H1.csv", "GOOG_D1": "data/sample/GOOG_D1.csv"}


def talib_columns(o, h, l, c, v):
    """AITrader column name -> TA-Lib output, default parameters of the AITrader catalog."""
    out = {}
    out["sma_20"] = talib.SMA(c, 20)
    out["ema_20"] = talib.EMA(c, 20)
    out["wma_20"] = talib.WMA(c, 20)
    out["dema_20"] = talib.DEMA(c, 20)
    out["tema_20"] = talib.TEMA(c, 20)
    out["kama_30"] = talib.KAMA(c, 30)
    m, s, hist = talib.MACD(c, 12, 26, 9)
    out["macd_12_26_9"], out["macd_signal_12_26_9"], out["macd_hist_12_26_9"] = m, s, hist
    out["rsi_14"] = talib.RSI(c, 14)
    k, d = talib.STOCH(h, l, c, fastk_period=14, slowk_period=3, slowk_matype=0, slowd_period=3, slowd_matype=0)
    out["stoch_k_14_3_3"], out["stoch_d_14_3_3"] = k, d
    k, d = talib.STOCHRSI(c, timeperiod=14, fastk_period=5, fastd_period=3, fastd_matype=0)
    out["stochrsi_k_14_5_3"], out["stochrsi_d_14_5_3"] = k, d
    out["willr_14"] = talib.WILLR(h, l, c, 14)
    out["cci_14"] = talib.CCI(h, l, c, 14)
    out["roc_10"] = talib.ROC(c, 10)
    out["mom_10"] = talib.MOM(c, 10)
    out["mfi_14"] = talib.MFI(h, l, c, v, 14)
    out["cmo_14"] = talib.CMO(c, 14)
    out["trix_30"] = talib.TRIX(c, 30)
    out["ultosc_7_14_28"] = talib.ULTOSC(h, l, c, 7, 14, 28)
    out["ppo_12_26"] = talib.PPO(c, 12, 26, 0)
    out["adx_14"] = talib.ADX(h, l, c, 14)
    out["plus_di_14"] = talib.PLUS_DI(h, l, c, 14)
    out["minus_di_14"] = talib.MINUS_DI(h, l, c, 14)
    down, up = talib.AROON(h, l, 14)
    out["aroon_up_14"], out["aroon_down_14"] = up, down
    out["aroon_osc_14"] = talib.AROONOSC(h, l, 14)
    out["sar_0.02_0.2"] = talib.SAR(h, l, 0.02, 0.2)
    out["atr_14"] = talib.ATR(h, l, c, 14)
    out["natr_14"] = talib.NATR(h, l, c, 14)
    up, mid, low = talib.BBANDS(c, 20, 2, 2, 0)
    out["bbands_upper_20_2"], out["bbands_middle_20_2"], out["bbands_lower_20_2"] = up, mid, low
    out["stddev_20_1"] = talib.STDDEV(c, 20, 1)
    out["obv"] = talib.OBV(c, v)
    out["ad"] = talib.AD(h, l, c, v)
    out["adosc_3_10"] = talib.ADOSC(h, l, c, v, 3, 10)
    return out


def keltner(h, l, c, period, multiplier):
    """Keltner channels as AITrader defines them: TA-Lib EMA(close, period) ± multiplier·TA-Lib ATR(period)."""
    middle, atr = talib.EMA(c, period), talib.ATR(h, l, c, period)
    valid = ~np.isnan(middle) & ~np.isnan(atr)
    middle = np.where(valid, middle, np.nan)
    return middle + multiplier * atr, middle, middle - multiplier * atr


def supertrend(h, l, c, period, multiplier):
    """SuperTrend as TradingView's built-in `ta.supertrend(factor, atrPeriod)` (Pine v5 reference), written out:

        upper = hl2 + factor·atr;  lower = hl2 − factor·atr
        lower := lower > lower[1] or close[1] < lower[1] ? lower : lower[1]
        upper := upper < upper[1] or close[1] > upper[1] ? upper : upper[1]
        direction := na(atr[1]) ? down : supertrend[1] == upper[1] ? (close > upper ? up : down)
                                                                    : (close < lower ? down : up)
        supertrend := direction is up ? lower : upper

    with TA-Lib's ATR (Wilder's smoothing seeded by the mean of the first `period` true ranges, the flavour
    AITrader documents) instead of Pine's ta.atr (an RMA seeded one bar earlier, with bar 0's high − low).
    Directions are +1 (up) / −1 (down); TradingView prints them with the opposite sign. Returns (line, direction).
    """
    n = len(c)
    atr = talib.ATR(h, l, c, period)
    line, direction = np.full(n, np.nan), np.full(n, np.nan)
    upper = lower = None
    for i in range(n):
        if np.isnan(atr[i]):
            continue
        mid = (h[i] + l[i]) / 2.0
        basic_upper, basic_lower = mid + multiplier * atr[i], mid - multiplier * atr[i]
        if upper is None:   # first bar with an ATR: na(atr[1]), bands as computed, down-trend
            upper, lower, d = basic_upper, basic_lower, -1.0
        else:
            prev_upper, prev_lower, prev_close = upper, lower, c[i - 1]
            lower = basic_lower if (basic_lower > prev_lower or prev_close < prev_lower) else prev_lower
            upper = basic_upper if (basic_upper < prev_upper or prev_close > prev_upper) else prev_upper
            if line[i - 1] == prev_upper:
                d = 1.0 if c[i] > upper else -1.0
            else:
                d = -1.0 if c[i] < lower else 1.0
        line[i] = lower if d > 0 else upper
        direction[i] = d
    return line, direction


def reference_columns(o, h, l, c, v):
    """talib_columns plus the catalog's channels built on TA-Lib's EMA/ATR (default parameters)."""
    out = talib_columns(o, h, l, c, v)
    out["keltner_upper_20_2"], out["keltner_middle_20_2"], out["keltner_lower_20_2"] = keltner(h, l, c, 20, 2.0)
    out["supertrend_10_3"], out["supertrend_dir_10_3"] = supertrend(h, l, c, 10, 3.0)
    return out


def load(path):
    df = pd.read_csv(path, index_col=0)
    cols = {name.lower(): name for name in df.columns}
    arr = lambda key: df[cols[key]].to_numpy(dtype=np.float64)
    return df.index, arr("open"), arr("high"), arr("low"), arr("close"), arr("volume")


def write_fixtures():
    outdir = os.path.join(ROOT, "Tests/FeaturesTests/Fixtures/talib")
    os.makedirs(outdir, exist_ok=True)
    index = {"talib_version": talib.__version__, "ta_lib_c": talib.__ta_version__.decode()
             if isinstance(talib.__ta_version__, bytes) else str(talib.__ta_version__), "samples": {}}
    for sample, rel in SAMPLES.items():
        _, o, h, l, c, v = load(os.path.join(ROOT, rel))
        columns = reference_columns(o, h, l, c, v)
        blobs, entries, offset = [], [], 0
        for name, values in columns.items():
            valid = np.flatnonzero(~np.isnan(values))
            first = int(valid[0]) if len(valid) else len(values)
            tail = values[first:]
            assert not np.isnan(tail).any(), f"{sample} {name}: NaN after warm-up"
            blob = tail.astype("<f8").tobytes()
            entries.append({"name": name, "first_valid": first, "count": int(len(tail)), "offset": offset})
            blobs.append(blob)
            offset += len(blob)
        with open(os.path.join(outdir, f"{sample}.bin"), "wb") as f:
            f.write(b"".join(blobs))
        index["samples"][sample] = {"csv": rel, "rows": int(len(c)), "columns": entries}
    with open(os.path.join(outdir, "index.json"), "w") as f:
        json.dump(index, f, indent=1)


def write_csv(inp, out):
    t, o, h, l, c, v = load(inp)
    columns = reference_columns(o, h, l, c, v)
    with open(out, "w") as f:
        f.write("timestamp," + ",".join(columns) + "\n")
        for i in range(len(c)):
            cells = ["" if np.isnan(columns[n][i]) else "%.17g" % columns[n][i] for n in columns]
            f.write(str(t[i]) + "," + ",".join(cells) + "\n")


def bench(n, runs=5):
    rng = np.random.default_rng(7)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    o = np.concatenate([[c[0]], c[:-1]])
    h = np.maximum(o, c) * (1 + rng.uniform(0, 0.001, n))
    l = np.minimum(o, c) * (1 - rng.uniform(0, 0.001, n))
    v = rng.uniform(100, 10000, n).round()
    talib_columns(o, h, l, c, v)
    times, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.thread_time()
        talib_columns(o, h, l, c, v)
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.thread_time() - c0) * 1e3)
    print(json.dumps({"bars": n, "talib_ms": float(np.median(times)), "talib_cpu_ms": float(np.median(cpu)),
                      "columns": len(talib_columns(o[:100], h[:100], l[:100], c[:100], v[:100]))}))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv")
    ap.add_argument("--out")
    ap.add_argument("--bench", type=int)
    a = ap.parse_args()
    if a.bench:
        bench(a.bench)
    elif a.csv:
        write_csv(a.csv, a.out)
    else:
        write_fixtures()
