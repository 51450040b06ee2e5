#!/usr/bin/env bash
# The meta-loop against a plain run on the GPT subject, side by side on one machine: two workspaces, each
# pinned to its own CPU core (one slot each), the same budget, started together, stopped after HOURS.
# With TOKENS set, each run trains on that many tokens (the budget in seconds then only sets the hard time
# limit), so what else the machine does changes how long a run takes, not what it measures.
# Prints the best val_bpb of each at every quarter hour.
#   HOURS=1 BUDGET=30 WINDOW=4 ./scripts/meta-vs-plain.sh
#   HOURS=1 BUDGET=120 TOKENS=200000 WINDOW=4 ./scripts/meta-vs-plain.sh
set -euo pipefail
cd "$(dirname "$0")/.."
HOURS="${HOURS:-1}" BUDGET="${BUDGET:-30}" WINDOW="${WINDOW:-4}" DIR="${DIR:-$HOME/autoresearch/meta-vs-plain}"
bin="$PWD/.build/release/autoresearch"
[ -x "$bin" ] || swift build -c release --product autoresearch
"$bin" prepare > /dev/null
for arm in meta plain; do
  ws="$DIR/$arm"
  if [ ! -f "$ws/autoresearch.toml" ]; then
    "$bin" init "$ws" --time-budget "$BUDGET" ${TOKENS:+--token-budget "$TOKENS"} > /dev/null
    core=$([ "$arm" = meta ] && echo 0 || echo 1)
    printf '\n[[slot]]\nname = "core%s"\ncpus = "%s"\n' "$core" "$core" >> "$ws/autoresearch.toml"
    git -C "$ws" commit -qam "one slot: CPU $core"
  fi
done
"$bin" run --workspace "$DIR/meta" --tag compare --hours "$HOURS" --meta --window "$WINDOW" > "$DIR/meta.log" 2>&1 &
"$bin" run --workspace "$DIR/plain" --tag compare --hours "$HOURS" > "$DIR/plain.log" 2>&1 &
wait
python3 - "$DIR" <<'PY'
import sqlite3, sys, datetime
rows = {}
for arm in ("meta", "plain"):
    db = sqlite3.connect(f"{sys.argv[1]}/{arm}/.autoresearch/ledger.sqlite")
    rows[arm] = db.execute("SELECT status, metric, startedAt, finishedAt FROM experiments WHERE tag = 'compare' ORDER BY number").fetchall()
def t(s): return datetime.datetime.fromisoformat(s.replace(" ", "T")[:26])
print("hours\tmeta: best val_bpb (experiments)\tplain: best val_bpb (experiments)")
start = {a: t(r[0][2]) for a, r in rows.items()}
end = max(t(x[3]) for r in rows.values() for x in r if x[3])
q = 0.0
while True:
    cells = []
    for arm in ("meta", "plain"):
        done = [x for x in rows[arm] if x[3] and (t(x[3]) - start[arm]).total_seconds() <= q * 3600]
        best = min((x[1] for x in done if x[0] in ("baseline", "keep") and x[1] is not None), default=None)
        cells.append(f"{best:.4f} ({len(done) - 1})" if best is not None else "-")
    print(f"{q:.2f}\t" + "\t".join(cells))
    if start["meta"] + datetime.timedelta(hours=q) > end: break
    q += 0.25
PY
