#!/usr/bin/env python3
"""Parquet files written by pyarrow, for the Swift reader's interop tests (Tests/MarketDataTests/Fixtures/parquet).

Run with the reference environment:  .venv/bin/python tools/reference/parquet_fixtures.py
Each file exercises what pyarrow/pandas write by default or on common options:
  eurusd_default.parquet       pandas DataFrame with an unnamed DatetimeIndex, df.to_parquet() defaults
                               (snappy, dictionary pages, OPTIONAL columns, timestamp[us] __index_level_0__)
  eurusd_named_index_zstd.parquet   index named "time", compression="zstd"
  eurusd_uncompressed_plain.parquet compression=None, use_dictionary=False (PLAIN pages)
  eurusd_v2.parquet            data_page_version="2.0" (DATA_PAGE_V2 headers)
  eurusd_multi_rowgroup.parquet   UTC-aware timestamp[ns] column "timestamp", row_group_size=250
  types_nulls.parquet          every supported type, with nulls and NaN (values listed in types_nulls.json)
The first 1000 rows of data/sample/EURUSD_H1.csv are used, to keep the fixtures small.
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "MarketDataTests", "Fixtures", "parquet")


def main():
    os.makedirs(OUT, exist_ok=True)
    df = pd.read_csv(os.path.join(ROOT, "data", "sample", "EURUSD_H1.csv"), index_col=0, parse_dates=True).iloc[:1000]
    df.to_parquet(os.path.join(OUT, "eurusd_default.parquet"))
    named = df.copy()
    named.index.name = "time"
    named.to_parquet(os.path.join(OUT, "eurusd_named_index_zstd.parquet"), compression="zstd")
    pq.write_table(pa.Table.from_pandas(df), os.path.join(OUT, "eurusd_uncompressed_plain.parquet"),
                   compression="none", use_dictionary=False)
    pq.write_table(pa.Table.from_pandas(df), os.path.join(OUT, "eurusd_v2.parquet"), data_page_version="2.0")
    utc = df.reset_index(names="timestamp")
    utc["timestamp"] = utc["timestamp"].dt.tz_localize("UTC").astype("datetime64[ns, UTC]")
    pq.write_table(pa.Table.from_pandas(utc, preserve_index=False),
                   os.path.join(OUT, "eurusd_multi_rowgroup.parquet"), row_group_size=250)

    values = {
        "i64": [1, None, -3, 2**40, None, 6],
        "f64": [0.5, float("nan"), None, -1e300, 2.25, None],
        "i32": [7, 8, None, -9, 10, 11],
        "f32": [1.5, None, -2.5, 3.25, float("nan"), 0.0],
        "flag": [True, False, None, True, True, False],
        "name": ["EURUSD", None, "GOOG", "", "日本", "EURUSD"],
        "ts_ms_utc": [0, 1_492_592_400_000, None, -86_400_000, 1, 2],
        "ts_ns": [1_492_592_400_000_000_000, None, 5, 6, 7, 8],
    }
    table = pa.table({
        "i64": pa.array(values["i64"], pa.int64()),
        "f64": pa.array(values["f64"], pa.float64(), from_pandas=False),
        "i32": pa.array(values["i32"], pa.int32()),
        "f32": pa.array(values["f32"], pa.float32()),
        "flag": pa.array(values["flag"], pa.bool_()),
        "name": pa.array(values["name"], pa.string()),
        "ts_ms_utc": pa.array(values["ts_ms_utc"], pa.timestamp("ms", tz="UTC")),
        "ts_ns": pa.array(values["ts_ns"], pa.timestamp("ns")),
    })
    pq.write_table(table, os.path.join(OUT, "types_nulls.parquet"))
    with open(os.path.join(OUT, "types_nulls.json"), "w") as f:
        json.dump({k: ["NaN" if (isinstance(x, float) and x != x) else x for x in v] for k, v in values.items()}, f,
                  ensure_ascii=False)
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, pyarrow {pa.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
