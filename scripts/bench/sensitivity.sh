#!/usr/bin/env bash
# Sensitivity of the confirmed keep: changes known to help, at the default 60 s budget, through the real loop.
# LEARNING_RATE 0.0015 -> 0.001 (-0.028 in the README's first hour) and HEADS 4 -> 2 (-0.074).
#   WORKSPACE=/tmp/sensitivity-ws scripts/bench/sensitivity.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
bin="$root/.build/release/autoresearch"
ws="${WORKSPACE:-/tmp/sensitivity-ws}"
state="$ws.researcher.json"
[ -x "$bin" ] || swift build -c release --product autoresearch
"$bin" prepare >/dev/null
if [ ! -f "$ws/autoresearch.toml" ]; then rm -f "$state"; "$bin" init "$ws" --time-budget "${BUDGET:-60}"; fi
agent="python3 $root/scripts/bench/scripted-researcher.py $state LEARNING_RATE=0.001 HEADS=2"
"$bin" run --workspace "$ws" --tag known --researcher command --agent-command "$agent" --experiments 2
"$bin" status --workspace "$ws" --tag known
python3 "$root/scripts/bench/keep-summary.py" "$ws/.autoresearch/ledger.sqlite" known
