#!/usr/bin/env bash
# make bench-serving: throughput and latency of `aitrader serve` with batching on and off at concurrency 1, 4, 16, 64.
# 1. `aitrader bench --suite serve --json` (design-size models, keep-alive closed-loop clients; always runs).
# 2. Triton's perf_analyzer (scripts/install-perf-analyzer.sh, into $SERVING_VENV) over the same sweep against a server on
#    $MODEL_REPOSITORY (default results/demo_checkpoints from make demo, else the small reference checkpoints),
#    for every model in $PERF_MODELS, zero-filled inputs; skipped with a clear message when it cannot be installed.
# Results: results/perf_serving/*.csv and a table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/aitrader
VENV="${SERVING_VENV:-.venv-serving}"
REPO="${MODEL_REPOSITORY:-results/demo_checkpoints}"
MODELS="${PERF_MODELS:-short_term ensemble}"
OUT=results/perf_serving
mkdir -p "$OUT"

echo "== aitrader bench --suite serve"
$BIN bench --suite serve --json --threads 2 | tee "$OUT/bench_serve.json"

scripts/install-perf-analyzer.sh "$VENV" || { echo "perf-serving: perf_analyzer SKIPPED (see above)" >&2; exit 0; }
work="$(mktemp -d)"
if [ ! -d "$REPO/short_term" ]; then
  REPO="$work/models"
  for m in short_term medium_term long_term; do mkdir -p "$REPO/$m"; cp "Tests/ModelsTests/Fixtures/${m}_small.safetensors" "$REPO/$m/best.safetensors"; done
fi
server=""
trap '[ -n "$server" ] && kill -TERM "$server" 2>/dev/null; rm -rf "$work"' EXIT
printf "%-12s %-9s %11s %12s %10s %10s\n" model batching concurrency "infer/s" "p50 us" "p99 us"
for batching in on off; do
  flags=(); [ "$batching" = off ] && flags=(--no-batching)
  $BIN serve --model-repository "$REPO" --port 0 --threads 2 "${flags[@]}" >"$work/server.log" 2>&1 &
  server=$!
  port=""
  for _ in $(seq 1 100); do port="$(grep -o '127.0.0.1:[0-9]*' "$work/server.log" | head -1 | cut -d: -f2 || true)"; [ -n "$port" ] && break; sleep 0.2; done
  [ -n "$port" ] || { cat "$work/server.log" >&2; exit 1; }
  for model in $MODELS; do
    for c in 1 4 16 64; do
      csv="$OUT/${model}_batching-${batching}_c${c}.csv"
      "$VENV/bin/perf_analyzer" -m "$model" -u "127.0.0.1:$port" -i http -b 1 --concurrency-range "$c:$c" --input-data zero \
        --measurement-interval 3000 -f "$csv" >/dev/null
      python3 - "$csv" "$model" "$batching" "$c" <<'PY'
import csv, sys
row = next(csv.DictReader(open(sys.argv[1])))
print(f"{sys.argv[2]:<12} {sys.argv[3]:<9} {sys.argv[4]:>11} {float(row['Inferences/Second']):>12.1f} "
      f"{float(row['p50 latency']):>10.0f} {float(row['p99 latency']):>10.0f}")
PY
    done
  done
  kill -TERM "$server"; wait "$server" || true; server=""
done
