#!/usr/bin/env bash
# The main job end to end on the bundled samples (data/sample). Each stage is added as the project grows.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/aitrader
echo "== aitrader: commands available"
$BIN help
