#!/usr/bin/env bash
# The false-keep benchmark (README: "Keeps you can trust"): no-op candidates through the real loop on the GPT
# subject at a short time budget. Phase 1: N1 candidates on a quiet machine. Phase 2: N2 more with a second process
# loading one core for part of the time (90 s on, 90 s off). Prints the keeps, the thresholds and the disturbed runs.
#   N1=50 N2=20 BUDGET=10 WORKSPACE=/tmp/noise-ws scripts/bench/false-keeps.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
bin="$root/.build/release/autoresearch"
ws="${WORKSPACE:-/tmp/noise-ws}"
state="$ws.researcher.json"
[ -x "$bin" ] || swift build -c release --product autoresearch
"$bin" prepare >/dev/null
if [ ! -f "$ws/autoresearch.toml" ]; then
  rm -f "$state"
  "$bin" init "$ws" --time-budget "${BUDGET:-10}"
fi
agent="python3 $root/scripts/bench/noop-researcher.py $state"
echo "== phase 1: ${N1:-50} no-op candidates, quiet machine"
"$bin" run --workspace "$ws" --tag noop --researcher command --agent-command "$agent" --experiments "${N1:-50}"
"$bin" status --workspace "$ws" --tag noop
echo "== phase 2: ${N2:-20} more, with a process loading one core 90 s of every 180 s"
python3 -c '
import time
while True:
    t = time.time()
    while time.time() - t < 90: pass
    time.sleep(90)
' &
hog=$!
trap 'kill $hog 2>/dev/null || true' EXIT
"$bin" run --workspace "$ws" --tag noop --researcher command --agent-command "$agent" --experiments "${N2:-20}"
kill $hog 2>/dev/null || true
"$bin" status --workspace "$ws" --tag noop
python3 "$root/scripts/bench/keep-summary.py" "$ws/.autoresearch/ledger.sqlite" noop
