#!/usr/bin/env bash
# make test-mlflow: the MLflow tracker against a real `mlflow server` on 127.0.0.1.
# Creates $MLFLOW_VENV (default .venv-mlflow) with mlflow==$MLFLOW_VERSION (pip; skipped with a clear message when
# it cannot be installed within MLFLOW_PIP_TIMEOUT seconds: no network, no python3-venv), starts the
# server on a free port with a SQLite backend store and a proxied artifact store in a temporary folder, runs the
# MLflowLiveTests suite with AITRADER_MLFLOW_URI set, then stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT="${SWIFT:-swift}"
VENV="${MLFLOW_VENV:-.venv-mlflow}"
VERSION="${MLFLOW_VERSION:-3.18.0}"
PIP_TIMEOUT="${MLFLOW_PIP_TIMEOUT:-900}"

skip() {
  echo "test-mlflow: SKIPPED: $1" >&2
  exit 0
}

if ! "$VENV/bin/python" -c "import mlflow, sys; sys.exit(mlflow.__version__ != '$VERSION')" 2>/dev/null; then
  python3 -c "import ensurepip, venv" 2>/dev/null || skip "python3 with venv/ensurepip is not installed (apt-get install python3-venv)"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || skip "cannot create $VENV"
  echo "test-mlflow: installing mlflow==$VERSION into $VENV (a few minutes the first time)"
  timeout "$PIP_TIMEOUT" "$VENV/bin/pip" install -q --disable-pip-version-check "mlflow==$VERSION" \
    || skip "pip could not install mlflow==$VERSION within ${PIP_TIMEOUT}s"
fi

work="$(mktemp -d)"
port="$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
server=""
cleanup() {
  if [ -n "$server" ]; then kill -TERM -- "-$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
# Its own process group (setsid), so the server and its workers stop together.
setsid "$VENV/bin/mlflow" server --host 127.0.0.1 --port "$port" --workers 1 \
  --backend-store-uri "sqlite:///$work/mlflow.db" --artifacts-destination "$work/artifacts" \
  >"$work/server.log" 2>&1 &
server=$!
started=$(date +%s)
until curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
  if ! kill -0 "$server" 2>/dev/null; then cat "$work/server.log" >&2; echo "test-mlflow: the server exited" >&2; exit 1; fi
  if [ $(( $(date +%s) - started )) -gt 120 ]; then tail -40 "$work/server.log" >&2; echo "test-mlflow: the server did not answer in 120 s" >&2; exit 1; fi
  sleep 1
done
echo "test-mlflow: mlflow $VERSION serving on 127.0.0.1:$port after $(( $(date +%s) - started )) s"
$SWIFT build --build-tests ${SWIFT_FLAGS:-}
AITRADER_MLFLOW_URI="http://127.0.0.1:$port" $SWIFT test --skip-build ${SWIFT_FLAGS:-} --filter MLflowLiveTests 2>&1 | tee "$work/test.log"
grep -q "Test run with [1-9][0-9]* tests\? .*passed" "$work/test.log" \
  || { echo "test-mlflow: the live suite did not run (or did not pass)" >&2; exit 1; }
