#!/usr/bin/env bash
# make test-serving: `aitrader serve` checked with NVIDIA Triton's own tools.
# 1. tritonclient[http]==$TRITONCLIENT_VERSION (pip, in $SERVING_VENV, default .venv-serving) calls every endpoint, JSON
#    and binary, and compares every model's outputs with `aitrader model forward` on the same inputs
#    (tools/serving/tritonclient_check.py), against a server on the PyTorch-written reference checkpoints
#    (Tests/ModelsTests/Fixtures/*_small.safetensors).
# 2. Triton's perf_analyzer (scripts/install-perf-analyzer.sh: the binary from tritonclient's wheel) smoke run at
#    concurrency 4 against the same server; zero-filled inputs (its "random" FP32 data are random bits, NaN included,
#    which the server refuses with a 400 as it should). A smoke run checks that Triton's tool drives the server
#    without an error, not its speed: any spread between measurement windows is accepted (--stability-percentage
#    100), since CI's host is shared. The sweep with the default stability is make bench-serving.
# Each part is skipped with a clear message when pip cannot install its wheel; a server that does not start, a
# failed check or a perf_analyzer error fails.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT="${SWIFT:-swift}"
VENV="${SERVING_VENV:-.venv-serving}"
TRITONCLIENT_VERSION="${TRITONCLIENT_VERSION:-2.73.0}"
PIP_TIMEOUT="${SERVING_PIP_TIMEOUT:-600}"

skip() { echo "test-serving: SKIPPED: $1" >&2; exit 0; }

if ! "$VENV/bin/python" -c "import tritonclient.http, numpy" 2>/dev/null; then
  python3 -c "import ensurepip, venv" 2>/dev/null || skip "python3 with venv/ensurepip is not installed (apt-get install python3-venv)"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || skip "cannot create $VENV"
  echo "test-serving: installing tritonclient[http]==$TRITONCLIENT_VERSION into $VENV"
  timeout "$PIP_TIMEOUT" "$VENV/bin/pip" install -q --disable-pip-version-check "tritonclient[http]==$TRITONCLIENT_VERSION" numpy \
    || skip "pip could not install tritonclient[http]==$TRITONCLIENT_VERSION within ${PIP_TIMEOUT}s"
fi

$SWIFT build ${SWIFT_FLAGS:-}
BIN="$($SWIFT build ${SWIFT_FLAGS:-} --show-bin-path)/aitrader"
work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -TERM "$server"; wait "$server" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
for m in short_term medium_term long_term; do
  mkdir -p "$work/models/$m"
  cp "Tests/ModelsTests/Fixtures/${m}_small.safetensors" "$work/models/$m/best.safetensors"
done
"$BIN" serve --model-repository "$work/models" --port 0 --device cpu --threads 2 >"$work/server.log" 2>&1 &
server=$!
port=""
for _ in $(seq 1 100); do
  port="$(grep -o '127.0.0.1:[0-9]*' "$work/server.log" | head -1 | cut -d: -f2 || true)"
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; echo "test-serving: the server exited" >&2; exit 1; }
  sleep 0.2
done
[ -n "$port" ] || { cat "$work/server.log" >&2; echo "test-serving: the server did not start in 20 s" >&2; exit 1; }
echo "test-serving: aitrader serve on 127.0.0.1:$port"
mkdir -p "$work/check"
"$VENV/bin/python" tools/serving/tritonclient_check.py --url "127.0.0.1:$port" --aitrader "$BIN" \
  --inputs Tests/ModelsTests/Fixtures --work "$work/check"

# perf_analyzer: a failed run fails; a binary that cannot be had here (no pip access, not x86_64) is a skip.
if scripts/install-perf-analyzer.sh "$VENV" 2>"$work/perf-install.log"; then
  for model in short_term ensemble; do
    "$VENV/bin/perf_analyzer" -m "$model" -u "127.0.0.1:$port" -i http --concurrency-range 4:4 -b 1 --input-data zero \
      --measurement-interval 1000 --max-trials 5 --stability-percentage 100 -f "$work/perf.csv" >"$work/perf.log" 2>&1 \
      || { cat "$work/perf.log" >&2; echo "test-serving: perf_analyzer failed on $model" >&2; exit 1; }
    echo "test-serving: perf_analyzer, $model at concurrency 4:"; cat "$work/perf.csv"
  done
else
  echo "test-serving: perf_analyzer SKIPPED: $(cat "$work/perf-install.log"); 'aitrader bench --suite serve' measures the same sweep" >&2
fi

kill -TERM "$server"
wait "$server" && status=0 || status=$?
server=""
grep -q "aitrader serve: stopped" "$work/server.log" && [ "$status" = 0 ] \
  || { cat "$work/server.log" >&2; echo "test-serving: the server did not stop cleanly (status $status)" >&2; exit 1; }
echo "test-serving: passed (server drained and stopped, exit 0)"
