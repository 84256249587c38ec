#!/usr/bin/env python3
"""A fake Alpaca broker: trading REST, the trade_updates stream, market-data REST and stream, in Alpaca's wire
format, replaying bars from CSV files, with injectable faults. Python 3.11 standard library only.

    python3 fake_alpaca_broker.py --key K --secret S --bars data/EURUSD_H1.csv --symbol EURUSD \\
        [--timeframe 1Hour] [--start 2017-12-01T00:00:00Z] [--bars-per-second 20 | (step mode)] [--cash 100000] \\
        [--multiplier 2] [--session 24x5|24x7] [--faults SPEC] [--fault-rate 0.02 --seed 7] [--rate-limit 200] \\
        [--wait-for-subscriber] [--lifetime 600] [--port 0]
    # prints "PORT <n>" once listening on 127.0.0.1:<n>; exits after --lifetime seconds or on SIGTERM

Key and secret may come from FAKE_ALPACA_KEY / FAKE_ALPACA_SECRET instead (they are never printed). Without
--bars-per-second the market only moves through `POST /_fake/advance {"bars": n}` (step mode). See README.md for
the endpoints, the control API (/_fake/...) and the fault kinds; the modules under fake_alpaca/ say how each
part behaves.
"""
import argparse
import os
import signal
import sys
import threading
import time
from decimal import Decimal, InvalidOperation

from fake_alpaca.app import App
from fake_alpaca.clock import US, Session, parse_time
from fake_alpaca.faults import RANDOM_KINDS, FaultSpecError, parse_cli
from fake_alpaca.market import BarsFileError, Market, SymbolBars, timeframe_seconds
from fake_alpaca.rest import Server


def log(message):
    print(f"{time.strftime('%H:%M:%S')} fake-alpaca: {message}", file=sys.stderr, flush=True)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--key", help="API key id (else $FAKE_ALPACA_KEY)")
    ap.add_argument("--secret", help="API secret (else $FAKE_ALPACA_SECRET)")
    ap.add_argument("--bars", action="append", required=True, metavar="FILE.csv",
                    help="bars CSV (,Open,High,Low,Close,Volume; UTC open times); repeat with --symbol per file")
    ap.add_argument("--symbol", action="append", required=True, help="the symbol of the matching --bars file")
    ap.add_argument("--timeframe", default="1Hour", help="the bars' timeframe (Alpaca text: 1Hour, 15Min, 1Day)")
    ap.add_argument("--start", help="RFC 3339 time: earlier bars are history (default: 60%% into the file)")
    ap.add_argument("--bars-per-second", type=float, default=0.0,
                    help="publish this many bars per wall second (0: step mode, /_fake/advance only)")
    ap.add_argument("--cash", type=str, default="100000")
    ap.add_argument("--multiplier", type=str, default="2", help="buying-power multiplier (1, 2 or 4 on Alpaca)")
    ap.add_argument("--session", default="24x5", choices=("24x5", "24x7"))
    ap.add_argument("--faults", default="", help="faults queued at start: JSON list or kind:name=value,...")
    ap.add_argument("--fault-rate", type=float, default=0.0, help="probability of a random fault per event")
    ap.add_argument("--fault-kinds", default=",".join(RANDOM_KINDS),
                    help="kinds random faults are drawn from (default: all transport/timing kinds)")
    ap.add_argument("--seed", type=int, default=0, help="seeds random faults and ids")
    ap.add_argument("--rate-limit", type=int, default=200, help="REST requests per rolling minute")
    ap.add_argument("--wait-for-subscriber", action="store_true",
                    help="with --bars-per-second: start publishing once a data client subscribed to bars")
    ap.add_argument("--max-connections", type=int, default=64)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=600, help="seconds before the server exits")
    ap.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    args = ap.parse_args(argv)
    if len(args.bars) != len(args.symbol):
        ap.error(f"{len(args.bars)} --bars files but {len(args.symbol)} --symbol names: give one symbol per file")
    if len(set(args.symbol)) != len(args.symbol):
        ap.error("a --symbol is given twice")
    args.key = args.key or os.environ.get("FAKE_ALPACA_KEY")
    args.secret = args.secret or os.environ.get("FAKE_ALPACA_SECRET")
    if not args.key or not args.secret:
        ap.error("a key and a secret are needed (--key/--secret or FAKE_ALPACA_KEY/FAKE_ALPACA_SECRET)")
    if not 0 <= args.fault_rate <= 1:
        ap.error("--fault-rate must be between 0 and 1")
    if args.bars_per_second < 0 or args.bars_per_second > 10000:
        ap.error("--bars-per-second must be between 0 and 10000")
    if args.rate_limit < 1 or args.max_connections < 2 or args.lifetime <= 0:
        ap.error("--rate-limit must be >= 1, --max-connections >= 2, --lifetime > 0")
    kinds = [k for k in args.fault_kinds.split(",") if k]
    bad = [k for k in kinds if k not in RANDOM_KINDS]
    if bad:
        ap.error(f"--fault-kinds: {', '.join(bad)} cannot be random (random kinds: {', '.join(RANDOM_KINDS)})")
    args.fault_kinds = kinds
    try:
        args.step = timeframe_seconds(args.timeframe)
        args.start_s = parse_time(args.start) // US if args.start else None
        args.cash_d, args.multiplier_d = Decimal(args.cash), Decimal(args.multiplier)
        if not args.cash_d.is_finite() or args.cash_d <= 0 or not args.multiplier_d.is_finite() \
                or args.multiplier_d < 1:
            raise ValueError("--cash must be > 0 and --multiplier >= 1")
        args.fault_specs = parse_cli(args.faults)
    except (ValueError, InvalidOperation, FaultSpecError) as error:
        ap.error(str(error))
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        symbols = [SymbolBars.load(path, symbol, args.step) for path, symbol in zip(args.bars, args.symbol)]
        market = Market(symbols, args.step, args.start_s)
    except (BarsFileError, ValueError) as error:
        print(f"fake-alpaca: {error}", file=sys.stderr)
        return 2
    app = App(market, Session(args.session), args.key, args.secret, args.cash_d, args.multiplier_d, args.seed,
              args.fault_rate, args.fault_kinds, args.rate_limit, args.bars_per_second, args.wait_for_subscriber, log)
    if args.fault_specs:
        app.faults.add(args.fault_specs)
    try:
        server = Server(("127.0.0.1", args.port), app, max_connections=args.max_connections, verbose=args.verbose)
    except OSError as error:
        print(f"fake-alpaca: cannot listen on 127.0.0.1:{args.port}: {error.strerror}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="http", daemon=True)
    serving.start()
    mode = f"{args.bars_per_second:g} bars/s" if args.bars_per_second else "step mode"
    log(f"serving {', '.join(args.symbol)} ({len(market.timeline)} bars, {market.cursor} history, {mode}, "
        f"session {args.session}) on 127.0.0.1:{server.server_address[1]}")
    print(f"PORT {server.server_address[1]}", flush=True)
    app.start_publisher()
    stop.wait(args.lifetime)
    log("stopping")
    app.stop()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
