#!/usr/bin/env bash
# Screenshots of the dashboard for the README: a demonstration workspace with a recorded ledger (120 experiments,
# two running, a meta-loop), served by `autoresearch serve`, shot by Debian's headless Chromium into docs/ once each
# page has loaded its data (driven through scripts/browser/driver.py, which waits for the page to be ready).
# usage: scripts/screenshots.sh   (installs the browser with scripts/browser.sh, builds the debug binary)
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/browser.sh)"
swift build --product autoresearch >/dev/null
dir="$(mktemp -d)"
port="${PORT:-8791}"
out="$dir/serve.log"
.build/debug/autoresearch serve --demo 120 --workspace "$dir/ws" --port "$port" >"$out" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do grep -q "^dashboard of" "$out" && break; sleep 0.2; done
# An experiment of the LLM researcher that was kept (diff, evidence, transcript and spend on one page).
number="$(python3 -c "import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute(\"SELECT number FROM experiments WHERE status='keep' AND researcher LIKE 'anthropic%' LIMIT 1\").fetchone(); print(r[0] if r else 1)" "$dir/ws/.autoresearch/ledger.sqlite")"
url="http://127.0.0.1:$port"
commands=""
shoot() {  # path, file, height
  commands+="{\"size\": [1400, $3]}"$'\n'"{\"open\": \"$url$1\"}"$'\n'"{\"wait\": \"document.body.dataset.ready === '1'\", \"timeout\": 20}"$'\n'
  commands+="{\"screenshot\": \"$PWD/docs/$2\"}"$'\n'
  echo "docs/$2"
}
shoot / dashboard-overview.png 1500
shoot /experiments dashboard-experiments.png 1100
shoot "/experiments/$number" dashboard-experiment.png 1600
shoot /swarm dashboard-swarm.png 1400
commands+='{"quit": true}'$'\n'
printf '%s' "$commands" | "$AUTORESEARCH_BROWSER_PYTHON" scripts/browser/driver.py "$AUTORESEARCH_CHROMIUM" "$AUTORESEARCH_CHROMEDRIVER" \
  | grep -v '"ok": true' || true
