#!/usr/bin/env python3
"""Live Parquet interop helper for the Swift tests (run with $AITRADER_PYTHON, needs pyarrow; pandas for `write`).

  parquet_interop.py read <file.parquet>...   print the files as a JSON list, as pyarrow reads them, each
        {"schema": {name: arrow type string}, "num_row_groups": n, "num_rows": n, "metadata": {k: v},
         "columns": {name: [values]}}  (timestamps as integers in their unit, floats as repr() strings, null as null)
  parquet_interop.py write <bars.csv> <out.parquet>
        read an OHLCV CSV with pandas (DatetimeIndex) and write it with DataFrame.to_parquet() defaults
  parquet_interop.py time <file.parquet> [runs]
        median milliseconds of pyarrow.parquet.read_table(file) over `runs` (default 5) after one warm-up
"""
import json
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq


def plain(v):
    # Floats as repr() strings (shortest round-trip text; "nan", "inf"), so no JSON parser can round them.
    if isinstance(v, float):
        return repr(v)
    return v


def describe(path):
    f = pq.ParquetFile(path)
    table = f.read()
    columns = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.int64())
        columns[name] = [plain(v) for v in col.to_pylist()]
    meta = {k.decode(): v.decode(errors="replace") for k, v in (table.schema.metadata or {}).items()}
    return {"schema": {f.name: str(f.type) for f in table.schema}, "num_row_groups": f.num_row_groups,
            "num_rows": table.num_rows, "metadata": meta, "columns": columns}


def read(paths):
    json.dump([describe(p) for p in paths], sys.stdout, ensure_ascii=False)


def write(csv, out):
    import pandas as pd
    pd.read_csv(csv, index_col=0, parse_dates=True).to_parquet(out)


def timing(path, runs):
    pq.read_table(path)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        pq.read_table(path)
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    n = len(times)
    print(times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2]))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "read":
        read(sys.argv[2:])
    elif cmd == "write":
        write(sys.argv[2], sys.argv[3])
    elif cmd == "time":
        timing(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5)
    else:
        sys.exit(f"unknown command {cmd}")
