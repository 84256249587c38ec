"""Expected resampling of the bundled EURUSD hourly sample, computed by pandas (the field's reference).

Writes Tests/MarketDataTests/Fixtures/resample/EURUSD_<tf>.csv for 4h, 1d, 1w and 1M with
Open=first, High=max, Low=min, Close=last, Volume=sum, bins closed and labelled on the left, empty bins dropped.
Values are printed with repr() so the Swift test can compare doubles exactly.

    .venv/bin/python tools/reference/resample_fixtures.py
"""
import os
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "data", "sample", "EURUSD_H1.csv")
OUT = os.path.join(ROOT, "Tests", "MarketDataTests", "Fixtures", "resample")

RULES = {
    "4h": dict(rule="4h"),
    "1d": dict(rule="1D"),
    "1w": dict(rule="W-MON", label="left", closed="left"),  # weeks start on Monday
    "1M": dict(rule="MS"),                                   # months start on the 1st
}


def write(path, labels, out):
    with open(path, "w") as f:
        f.write("timestamp_ms,Open,High,Low,Close,Volume\n")
        for ts, (_, row) in zip(labels, out.iterrows()):
            ms = int(ts.value // 1_000_000)
            f.write(f"{ms},{float(row.Open)!r},{float(row.High)!r},{float(row.Low)!r},{float(row.Close)!r},{float(row.Volume)!r}\n")


def main():
    df = pd.read_csv(SRC, index_col=0, parse_dates=True)
    os.makedirs(OUT, exist_ok=True)
    for name, kw in RULES.items():
        out = df.resample(**kw).agg(
            {"Open": "first", "High": "max", "Low": "min", "Close": "last", "Volume": "sum"}
        ).dropna(subset=["Open"])
        path = os.path.join(OUT, f"EURUSD_{name}.csv")
        write(path, out.index, out)
        print(f"{path}: {len(out)} bins")

    # FX trading days and weeks: a day starts at 17:00 New York time (the previous evening). Computed by shifting New
    # York wall-clock time 7 hours forward, resampling by calendar, then mapping each label back to UTC.
    agg = {"Open": "first", "High": "max", "Low": "min", "Close": "last", "Volume": "sum"}
    ny = df.tz_localize("UTC").tz_convert("America/New_York").tz_localize(None)
    ny.index = ny.index + pd.Timedelta(hours=7)
    for name, kw in {"1d": dict(rule="1D"), "1w": dict(rule="W-MON", label="left", closed="left")}.items():
        out = ny.resample(**kw).agg(agg).dropna(subset=["Open"])
        labels = (out.index - pd.Timedelta(hours=7)).tz_localize("America/New_York").tz_convert("UTC")
        path = os.path.join(OUT, f"EURUSD_{name}_ny17.csv")
        write(path, labels, out)
        print(f"{path}: {len(out)} bins")


if __name__ == "__main__":
    main()
