#!/usr/bin/env python3
"""Runs `aitrader bench --suite S --json` and `bench_torch.py --suite S` alternately on this machine with the same
thread count, and prints both side by side (markdown), with the ratios the issues' goals are stated in:

    OPENBLAS_NUM_THREADS=2 .venv/bin/python tools/reference/bench_compare.py --suite models --threads 2 \
        --aitrader .build/release/aitrader --repeat 2

`--repeat R` runs each side R times, interleaved (aitrader, torch, aitrader, torch, ...), and keeps for every
benchmark the lowest of the R medians: on a shared, noisy machine the lowest median is the run least disturbed
by other work, for both sides alike. The raw JSON documents are written next to the table with --save DIR.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run_json(cmd, env):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out[out.index("{"):])


def key(r):
    return r["name"], tuple(sorted(r["shape"].items()))


def best(reports):
    merged = {}
    for rep in reports:
        for r in rep["results"]:
            k = key(r)
            if k not in merged or r["ms"] < merged[k]["ms"]:
                merged[k] = r
    return merged


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", default="models")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--aitrader", default=".build/release/aitrader")
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--save", default=None, help="directory for the raw JSON documents")
    a = p.parse_args()
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(a.threads), OMP_NUM_THREADS=str(a.threads))
    ours, theirs = [], []
    for i in range(a.repeat):
        cmd = [a.aitrader, "bench", "--suite", a.suite, "--json", "--device", a.device, "--threads", str(a.threads)]
        ours.append(run_json(cmd + (["--quick"] if a.quick else []), env))
        cmd = [sys.executable, os.path.join(HERE, "bench_torch.py"), "--suite", a.suite, "--device", a.device,
               "--threads", str(a.threads)] + (["--runs", "2"] if a.quick else [])
        theirs.append(run_json(cmd, env))
        print(f"round {i + 1}/{a.repeat} done", file=sys.stderr)
    if a.save:
        os.makedirs(a.save, exist_ok=True)
        for name, reps in (("aitrader", ours), ("torch", theirs)):
            with open(os.path.join(a.save, f"{a.suite}_{name}.json"), "w") as f:
                json.dump(reps, f, indent=1)
    o, t = best(ours), best(theirs)
    print(f"suite {a.suite}, device {a.device}, {a.threads} threads; aitrader: {ours[0]['device_name']}; "
          f"torch: {theirs[0]['device_name']}; best of {a.repeat} interleaved runs\n")
    print("| benchmark | shape | aitrader ms | torch ms | aitrader samples/s | torch samples/s | speed-up |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for k, r in o.items():
        shape = " ".join(f"{n}={v}" for n, v in r["shape"].items())
        tr = t.get(k)
        if tr is None:
            print(f"| {r['name']} | {shape} | {r['ms']:.2f} | - | - | - | - |")
            continue
        sp = lambda x: f"{x['samples_per_s']:.1f}" if "samples_per_s" in x else "-"
        print(f"| {r['name']} | {shape} | {r['ms']:.2f} | {tr['ms']:.2f} | {sp(r)} | {sp(tr)} | {tr['ms'] / r['ms']:.2f}x |")


if __name__ == "__main__":
    main()
