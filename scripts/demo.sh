#!/usr/bin/env bash
# The main job end to end on the bundled samples (data/sample). Each stage is added as the project grows.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/aitrader
echo "== aitrader: commands available"
$BIN help
echo "== data: import the EURUSD and GOOG samples into a fresh store, list, validate, show a resampled range"
DEMO_DATA=$(mktemp -d)
trap 'rm -rf "$DEMO_DATA"' EXIT
$BIN data import --csv data/sample/EURUSD_H1.csv --symbol EURUSD --timeframe 1h --data-root "$DEMO_DATA"
$BIN data import --csv data/sample/GOOG_D1.csv --symbol GOOG --timeframe 1d --data-root "$DEMO_DATA"
$BIN data list --data-root "$DEMO_DATA"
$BIN data validate --data-root "$DEMO_DATA" --gaps 3
$BIN data show --symbol EURUSD --timeframe 1h --resample 1d --start 2017-06-01 --end 2017-07-01 --rows 10 --data-root "$DEMO_DATA"
$BIN data show --symbol EURUSD --timeframe 1h --resample 4h --output "$DEMO_DATA/EURUSD_4h.parquet" --data-root "$DEMO_DATA"
echo "== features: TA-Lib-exact indicators on the GOOG daily CSV, then the short_term feature set from the store"
$BIN indicators compute --input data/sample/GOOG_D1.csv --output "$DEMO_DATA/goog_indicators.csv" \
  --indicators sma_20,ema_20,rsi_14,macd_12_26_9,atr_14,adx_14,bbands_upper_20_2
tail -n 3 "$DEMO_DATA/goog_indicators.csv"
$BIN features compute --symbol EURUSD --timeframe 1h --model short_term --data-root "$DEMO_DATA"
echo "== engine: compute backends on this machine"
$BIN devices
echo "== models: run PyTorch-written checkpoints of the three models (tools/reference/model_fixtures.py) on their inputs"
for m in short_term medium_term long_term; do
  $BIN model forward --checkpoint Tests/ModelsTests/Fixtures/${m}_small.safetensors \
    --input Tests/ModelsTests/Fixtures/${m}_small_io.safetensors --output "$DEMO_DATA/${m}_out.safetensors"
done
echo "== training: the three models on the EURUSD H1 sample (only 1h bars: --timeframe 1h for all), 3 short epochs each"
$BIN train --model all --symbol EURUSD --timeframe 1h --epochs 3 --max-batches 8 --threads 2 \
  --data-root "$DEMO_DATA" --checkpoint-dir results/demo_checkpoints
echo "-- checkpoints (best, last with the resume state, top-k) under results/demo_checkpoints/<model>/"
ls -l results/demo_checkpoints/*/
echo "-- the tracked runs (local store under the data root; --mlflow-uri mirrors them to an MLflow server)"
$BIN runs list --data-root "$DEMO_DATA"
echo "== evaluation: each model's best checkpoint on its test split vs the baselines (intervals: day-block bootstrap)"
for m in short_term medium_term long_term; do
  $BIN evaluate --checkpoint results/demo_checkpoints/$m/best.safetensors --split test --threads 2 \
    --data-root "$DEMO_DATA" --output results/demo_evaluation/$m
done
echo "-- results/demo_evaluation/<model>/: evaluation.json, predictions.csv, report.html"
echo "== prediction: the ensemble of the three best checkpoints on the last closed bar of the sample (as of its end)"
$BIN predict --symbol EURUSD --checkpoints results/demo_checkpoints --as-of 2018-02-07T16:00:00Z --threads 2 \
  --data-root "$DEMO_DATA"
echo "== serving: aitrader serve on the trained checkpoints (Open Inference Protocol / KServe v2, Triton's HTTP API), a few requests"
$BIN serve --model-repository results/demo_checkpoints --port 0 --threads 2 >"$DEMO_DATA/serve.log" 2>&1 &
SERVER=$!
PORT=""
for _ in $(seq 1 100); do
  PORT="$(grep -o '127.0.0.1:[0-9]*' "$DEMO_DATA/serve.log" | head -1 | cut -d: -f2 || true)"
  [ -n "$PORT" ] && break
  kill -0 $SERVER 2>/dev/null || { cat "$DEMO_DATA/serve.log"; exit 1; }
  sleep 0.2
done
[ -n "$PORT" ] || { cat "$DEMO_DATA/serve.log"; kill $SERVER; exit 1; }
head -1 "$DEMO_DATA/serve.log"
python3 tools/serving/demo_client.py --url "http://127.0.0.1:$PORT"
kill -TERM $SERVER
wait $SERVER
tail -2 "$DEMO_DATA/serve.log"
echo "== simulation: backtest sma_cross (10/20) on the EURUSD H1 sample, backtesting.py semantics -> results/demo_backtest"
$BIN backtest --symbol EURUSD --data data/sample/EURUSD_H1.csv --timeframe 1h --profile trader --risk-profile moderate \
  --strategy sma_cross --fast 10 --slow 20 --cash 10000 --commission 0.002 --output results/demo_backtest
echo "-- results/demo_backtest/summary.json"
cat results/demo_backtest/summary.json
echo "== robot backtest: the ensemble of the demo's checkpoints trading EURUSD (moderate risk), predictions batched, bars before"
echo "   --start as history; compared with buy-and-hold and sma_cross (10/20) on the same bars -> results/demo_backtest_ensemble"
$BIN backtest --strategy ensemble --checkpoints results/demo_checkpoints --symbol EURUSD --start 2017-11-01 --end 2018-02-07 \
  --profile trader --risk-profile moderate --threads 2 --data-root "$DEMO_DATA" --output results/demo_backtest_ensemble
echo "-- results/demo_backtest_ensemble/: report.html (calibration, model weights, breakers, baselines), ensemble.json, summary.json"
echo "== robot: the trading robot in simulation mode over the sample's last days, as if live (one line per bar close:"
echo "   breakers -> ensemble -> signal -> risk -> orders, every step journaled), then its status and a replay check"
rm -rf results/demo_robot
$BIN robot run --mode simulation --symbol EURUSD --checkpoints results/demo_checkpoints --start 2018-02-01 \
  --end 2018-02-07 --risk-profile aggressive --threads 2 --session results/demo_robot --data-root "$DEMO_DATA"
$BIN robot status --session results/demo_robot
$BIN robot replay --journal results/demo_robot/journal.sqlite --data-root "$DEMO_DATA"
echo "-- results/demo_robot/journal.sqlite: every cycle, signal, order, fill, position change and breaker event"
echo "== paper trading: aitrader deploy --mode paper --broker alpaca against the local fake Alpaca broker"
echo "   (integrations/alpaca/testing: Alpaca's REST and trade_updates wire format) replaying a week of the sample at"
echo "   4 bars a second; the ensemble decides at each close, orders pass the kill switch, validation and the journal;"
echo "   then the monitoring output (Prometheus /metrics, /health) and the session's status"
rm -rf results/demo_paper
FAKE_ALPACA_KEY=demo-key FAKE_ALPACA_SECRET=demo-secret-not-for-real-use python3 integrations/alpaca/testing/fake_alpaca_broker.py \
  --bars data/sample/EURUSD_H1.csv --symbol EURUSD --start 2018-01-24T00:00:00Z --bars-per-second 4 \
  --rate-limit 100000 --lifetime 900 >"$DEMO_DATA/fake.out" 2>"$DEMO_DATA/fake.log" &
FAKE=$!
FAKE_PORT=""
for _ in $(seq 1 100); do
  FAKE_PORT="$(awk '/^PORT /{print $2}' "$DEMO_DATA/fake.out")"
  [ -n "$FAKE_PORT" ] && break
  sleep 0.1
done
[ -n "$FAKE_PORT" ] || { cat "$DEMO_DATA/fake.log"; kill $FAKE; exit 1; }
# Credentials in a file only the user can read (deploy refuses any other); endpoints as Alpaca's SDKs read them.
umask 077
printf 'APCA_API_KEY_ID=demo-key\nAPCA_API_SECRET_KEY=demo-secret-not-for-real-use\n' >"$DEMO_DATA/alpaca-paper.env"
umask 022
APCA_API_BASE_URL="http://127.0.0.1:$FAKE_PORT" APCA_API_DATA_URL="http://127.0.0.1:$FAKE_PORT" \
  APCA_API_TRADING_STREAM_URL="ws://127.0.0.1:$FAKE_PORT/stream" ALPACA_REQUESTS_PER_MINUTE=100000 \
  $BIN deploy --mode paper --broker alpaca --symbol EURUSD --checkpoints results/demo_checkpoints \
  --risk-profile aggressive --threads 2 --session results/demo_paper --data-root "$DEMO_DATA" \
  --credentials "$DEMO_DATA/alpaca-paper.env" --poll-interval 0.05 --until 2018-02-01T00:00:00Z --monitor-port 0 \
  2>"$DEMO_DATA/deploy.log" &
DEPLOY=$!
MONITOR=""
for _ in $(seq 1 200); do
  MONITOR="$(grep -o 'monitoring on http://127.0.0.1:[0-9]*' "$DEMO_DATA/deploy.log" | head -1 | sed 's/^monitoring on //' || true)"
  [ -n "$MONITOR" ] && break
  kill -0 $DEPLOY 2>/dev/null || break
  sleep 0.1
done
sleep 8
if [ -n "$MONITOR" ] && kill -0 $DEPLOY 2>/dev/null; then
  echo "-- monitoring while it runs: $MONITOR/metrics (robot lines), /health"
  python3 - "$MONITOR" <<'PY'
import sys, urllib.request
base = sys.argv[1]
text = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
for line in text.splitlines():
    if line.startswith("aitrader_robot_") and "_bucket" not in line:
        print("  " + line)
try:
    print("  /health:", urllib.request.urlopen(base + "/health", timeout=10).read().decode().strip())
except Exception as error:  # 503 while data is stale is an answer too
    print("  /health:", error)
PY
fi
wait $DEPLOY
$BIN robot status --session results/demo_paper
kill -TERM $FAKE
wait $FAKE || true
echo "-- results/demo_paper/: journal.sqlite (every order with its client order id, fills, positions), kill-switch.json"
