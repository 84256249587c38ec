#!/usr/bin/env python3
"""Accelerated paper-trading soak: `aitrader deploy --mode paper --broker alpaca` against the local fake Alpaca
(integrations/alpaca/testing/fake_alpaca_broker.py) replaying N trading days of hourly EURUSD bars at an accelerated
clock, with transport faults injected at random by the fake (seeded: 429 storms, 5xx, orders accepted but never
answered, stream drops and silences, partial fills) and the robot killed with SIGKILL at random moments (seeded) and
restarted at once. At the end the robot's journal, the fake broker's books and the robot's positions must agree:
every order the journal sent is at the broker under its client order id (0 lost), no broker order lacks a journal
intent (0 duplicated), the same fills, the same positions. Memory (VmRSS) and open file descriptors of the robot are
sampled over time and reported.

    python3 tools/soak/paper_soak.py --aitrader .build/release/aitrader --days 30 --seed 1 --out soak.json
    # exit 0 when journal = broker = positions and nothing was lost or duplicated; the report is JSON

Standard library only (the journal is read with sqlite3).
"""
import argparse
import csv
import datetime as dt
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKE = os.path.join(ROOT, "integrations", "alpaca", "testing", "fake_alpaca_broker.py")
SAMPLE = os.path.join(ROOT, "data", "sample", "EURUSD_H1.csv")
HOUR_MS = 3_600_000


def parse_ms(text):
    return int(dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc).timestamp() * 1000)


def iso(ms):
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_bars(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [(parse_ms(r[0]), r) for r in rows[1:] if r]


def trading_days(bars, start_index, days):
    """Index one past the last bar of `days` distinct UTC dates from start_index."""
    seen = []
    for i in range(start_index, len(bars)):
        d = bars[i][0] // 86_400_000
        if d not in seen:
            if len(seen) == days:
                return i
            seen.append(d)
    return len(bars)


def predictions(bars, first, last, seed):
    """Synthetic ensemble predictions at each bar close (a seeded coin with a momentum tilt): enough decisions to
    trade often; the soak tests the plumbing, not the forecaster."""
    rng = random.Random(seed)
    lines = []
    for i in range(first, last):
        close_time = bars[i][0] + HOUR_MS
        momentum = float(bars[i][1][4]) - float(bars[max(0, i - 5)][1][4])
        p = min(0.8, max(0.2, 0.5 + (0.15 if momentum > 0 else -0.15) + rng.uniform(-0.2, 0.2)))
        c = abs(2 * p - 1)
        lines.append(json.dumps({
            "symbol": "EURUSD", "time": close_time, "p_up": p, "alpha": 6 * p, "beta": 6 * (1 - p), "confidence": c,
            "direction": (1 if p > 0.5 else -1) if c > 0.1 else 0, "agreement": 1, "disagreement_penalty": 0,
            "confidence_threshold": 0.1, "regime": "unknown", "volatility_percentile": 0.5, "votes": [], "data_age": 0,
            "weight_scale": 1}, sort_keys=True))
    return "\n".join(lines) + "\n"


def start_fake(args, start_ms, log):
    cmd = [sys.executable, "-u", FAKE, "--bars", SAMPLE, "--symbol", "EURUSD", "--start", iso(start_ms),
           "--bars-per-second", str(args.bars_per_second), "--rate-limit", "1000000", "--lifetime", str(args.lifetime),
           "--session", "24x5"]
    if args.fault_rate > 0:
        cmd += ["--fault-rate", str(args.fault_rate), "--seed", str(args.seed)]
    # Besides the random ones, each kind that needs an order to happen is queued once for the first orders.
    cmd += ["--faults", json.dumps([{"kind": "timeout_after_accept", "close": True}, {"kind": "partial_fill", "parts": 3},
                                    {"kind": "reject_next_order"}, {"kind": "silent_trade_stream", "seconds": 20}])]
    env = dict(os.environ, FAKE_ALPACA_KEY=args.key, FAKE_ALPACA_SECRET=args.secret)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, env=env, text=True)
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"the fake broker did not start: {line!r}")
    return proc, int(line.split()[1])


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        return json.loads(r.read())


def sample(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        threads = len(os.listdir(f"/proc/{pid}/task"))
        return rss, fds, threads
    except (OSError, StopIteration):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--aitrader", default=os.path.join(ROOT, ".build", "release", "aitrader"))
    ap.add_argument("--days", type=int, default=30, help="trading days replayed")
    ap.add_argument("--history", type=int, default=300, help="bars of history before the first traded bar")
    ap.add_argument("--bars-per-second", type=float, default=3.0, help="the fake's accelerated clock")
    ap.add_argument("--fault-rate", type=float, default=0.03, help="probability of a transport fault per eligible event")
    ap.add_argument("--kills", type=int, default=6, help="SIGKILLs of the robot at random moments")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--key", default="soak-key-id")
    ap.add_argument("--secret", default="soak-secret-never-logged")
    ap.add_argument("--lifetime", type=int, default=3600)
    ap.add_argument("--work", help="working directory (default: a new temporary one)")
    ap.add_argument("--out", help="write the JSON report here")
    args = ap.parse_args()

    work = args.work or tempfile.mkdtemp(prefix="aitrader-soak-")
    os.makedirs(work, exist_ok=True)
    header, bars = read_bars(SAMPLE)
    first = args.history
    last = trading_days(bars, first, args.days)
    start_ms, until_ms = bars[first][0], bars[last - 1][0] + HOUR_MS
    with open(os.path.join(work, "history.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for _, row in bars[:first]:
            w.writerow(row)
    with open(os.path.join(work, "predictions.jsonl"), "w") as f:
        f.write(predictions(bars, first, last, args.seed))
    subprocess.run([args.aitrader, "data", "import", "--csv", os.path.join(work, "history.csv"), "--symbol", "EURUSD",
                    "--timeframe", "1h", "--data-root", work, "--quiet"], check=True)

    fake_log = open(os.path.join(work, "fake.stderr"), "w")
    fake, port = start_fake(args, start_ms, fake_log)
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, APCA_API_KEY_ID=args.key, APCA_API_SECRET_KEY=args.secret, APCA_API_BASE_URL=base,
               APCA_API_DATA_URL=base, APCA_API_STREAM_URL=f"ws://127.0.0.1:{port}",
               APCA_API_TRADING_STREAM_URL=f"ws://127.0.0.1:{port}/stream", ALPACA_REQUESTS_PER_MINUTE="1000000", AITRADER_LOG="warning")
    session = os.path.join(work, "session")
    cmd = [args.aitrader, "deploy", "--mode", "paper", "--broker", "alpaca", "--symbol", "EURUSD",
           "--predictions", os.path.join(work, "predictions.jsonl"), "--timeframe", "1h", "--risk-profile", "aggressive",
           "--session", session, "--data-root", work, "--poll-interval", "0.02", "--until", iso(until_ms),
           "--max-rejections", "1000", "--max-connectivity-failures", "1000", "--max-daily-trades", "100000", "--quiet"]
    rng = random.Random(args.seed * 7919 + 1)
    wall = len(range(first, last)) / args.bars_per_second
    kill_times = sorted(rng.uniform(0.05 * wall, 0.9 * wall) for _ in range(args.kills))
    samples, kills, exits = [], [], []
    robot_log = open(os.path.join(work, "robot.stderr"), "w")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=robot_log, stderr=robot_log)
    started = time.monotonic()
    incarnation = 0
    deadline = t0 + max(600, 20 * wall)
    while True:
        now = time.monotonic() - t0
        s = sample(proc.pid)
        if s:
            samples.append({"t": round(now, 2), "incarnation": incarnation, "rss_kb": s[0], "fds": s[1], "threads": s[2],
                            "age": round(time.monotonic() - started, 2)})
        code = proc.poll()
        if code is not None:
            exits.append(code)
            if code == 0:
                break
            if time.monotonic() > deadline or len(exits) > args.kills + 5:
                print(f"soak: the robot exited {code}; see {work}/robot.stderr", file=sys.stderr)
                break
            proc = subprocess.Popen(cmd, env=env, stdout=robot_log, stderr=robot_log)
            started = time.monotonic()
            incarnation += 1
            continue
        if kill_times and now >= kill_times[0]:
            kill_times.pop(0)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills.append(round(now, 2))
            time.sleep(rng.uniform(0, 1.5))     # the market goes on while the robot is down
            proc = subprocess.Popen(cmd, env=env, stdout=robot_log, stderr=robot_log)
            started = time.monotonic()
            incarnation += 1
            continue
        if time.monotonic() > deadline:
            proc.kill()
            print("soak: deadline passed", file=sys.stderr)
            break
        time.sleep(0.25)

    state = get(port, "/_fake/state")
    fake.send_signal(signal.SIGTERM)
    fake.wait(timeout=10)
    db = sqlite3.connect(os.path.join(session, "journal.sqlite"))
    journal_orders = {r[0]: {"status": r[1], "filled": r[2]} for r in db.execute("SELECT client_id, status, filled FROM orders")}
    journal_fills = {r[0] for r in db.execute("SELECT fill_id FROM fills")}
    journal_positions = {}
    for symbol, qty in db.execute("SELECT symbol, quantity FROM positions WHERE id IN (SELECT MAX(id) FROM positions GROUP BY symbol)"):
        journal_positions[symbol] = qty
    cycles = db.execute("SELECT COUNT(*) FROM cycles WHERE completed_at IS NOT NULL").fetchone()[0]

    by_venue_id = {o["id"]: o for o in state["orders"]}
    broker_orders = {}
    for o in state["orders"]:
        parent = by_venue_id.get(o.get("parent_id") or "")
        if parent is not None:
            suffix = "-sl" if o["type"] in ("stop", "stop_limit", "trailing_stop") else "-tp"
            broker_orders[parent["client_order_id"] + suffix] = o
        else:
            broker_orders[o["client_order_id"]] = o
    broker_fills = {a["id"] for a in state["fills"]}
    broker_positions = {p["symbol"]: float(p["qty"]) for p in state["positions"]}

    sent = {k: v for k, v in journal_orders.items() if v["status"] not in ("pending_send", "abandoned")}
    lost = sorted(k for k in sent if k not in broker_orders and not journal_orders[k]["status"] == "rejected")
    duplicated = sorted(k for k in broker_orders if k not in journal_orders)
    status_mismatch = sorted(k for k, v in sent.items() if k in broker_orders and abs(float(broker_orders[k].get("filled_qty") or 0) - v["filled"]) > 1e-9)
    positions_agree = all(abs(broker_positions.get(s, 0) - journal_positions.get(s, 0)) < 1e-9
                          for s in set(broker_positions) | set(journal_positions))
    by_incarnation = {}
    for s in samples:
        if s["age"] >= 3:          # past start-up (loading history, reconciling)
            by_incarnation.setdefault(s["incarnation"], []).append(s)
    longest = max(by_incarnation.values(), key=len) if by_incarnation else []
    report = {
        "trading_days": args.days, "bars": last - first, "start": iso(start_ms), "until": iso(until_ms),
        "seed": args.seed, "fault_rate": args.fault_rate, "wall_seconds": round(time.monotonic() - t0, 1),
        "kills": kills, "restarts": incarnation, "exit_codes": exits, "cycles": cycles,
        "orders_sent": len(sent), "orders_at_broker": len(broker_orders), "fills_journal": len(journal_fills),
        "fills_broker": len(broker_fills), "lost": lost, "duplicated": duplicated,
        "fills_agree": journal_fills == broker_fills, "filled_quantity_mismatches": status_mismatch,
        "positions_journal": journal_positions, "positions_broker": broker_positions, "positions_agree": positions_agree,
        "faults_injected": state.get("counters", {}).get("faults_injected", {}),
        "memory_fds": {
            "longest_run_samples": len(longest),
            "rss_kb_first_last_max": [longest[0]["rss_kb"], longest[-1]["rss_kb"], max(s["rss_kb"] for s in longest)] if longest else None,
            "fds_first_last_max": [longest[0]["fds"], longest[-1]["fds"], max(s["fds"] for s in longest)] if longest else None,
            "threads_first_last_max": [longest[0]["threads"], longest[-1]["threads"], max(s["threads"] for s in longest)] if longest else None,
            "series": [s for s in samples if int(s["t"] * 4) % 8 == 0],
        },
        "work": work,
    }
    secrets = [args.secret]
    leaked = []
    for dirpath, _, files in os.walk(session):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                if any(s.encode() in f.read() for s in secrets):
                    leaked.append(os.path.join(dirpath, name))
    for path in (os.path.join(work, "robot.stderr"),):
        with open(path, "rb") as f:
            if any(s.encode() in f.read() for s in secrets):
                leaked.append(path)
    report["secret_leaks"] = leaked
    ok = (exits and exits[-1] == 0 and not lost and not duplicated and report["fills_agree"] and positions_agree
          and not status_mismatch and not leaked)
    report["ok"] = bool(ok)
    text = json.dumps(report, indent=2)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    summary = {k: report[k] for k in ("ok", "trading_days", "bars", "cycles", "kills", "orders_sent", "fills_journal",
                                       "fills_broker", "lost", "duplicated", "positions_agree", "faults_injected",
                                       "wall_seconds")}
    summary["rss_kb_first_last_max"] = report["memory_fds"]["rss_kb_first_last_max"]
    summary["fds_first_last_max"] = report["memory_fds"]["fds_first_last_max"]
    print(json.dumps(summary, indent=2))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
