#!/usr/bin/env bash
# The main job end to end on the bundled samples (data/sample). Each stage is added as the project grows.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/aitrader
echo "== aitrader: commands available"
$BIN help
echo "== engine: compute backends on this machine"
$BIN devices
echo "== engine: train a tiny Conv1d-LSTM Beta-head direction model on EURUSD H1 (the loss falls)"
$BIN engine demo --csv data/sample/EURUSD_H1.csv --steps 60
