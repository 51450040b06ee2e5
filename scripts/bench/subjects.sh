#!/usr/bin/env bash
# The Swift GPT subject and the PyTorch subject side by side on this machine: two workspaces, each pinned to its
# own CPU core (one slot each), the same time budget, the search researcher on each, started together and stopped
# after HOURS. Each baseline runs 3 times (3 seeds). Prints, for each subject: the baseline's val_bpb over its
# seeds, its tokens/s and steps, experiments per hour, and the hour's baseline → best (val and test).
# The Swift subject's kernel is OpenBLAS's (SkylakeX when the CPU has AVX-512, as main.sh); PyTorch uses its own
# MKL (its run log names it).
#   HOURS=1 BUDGET=60 ./scripts/bench/subjects.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
HOURS="${HOURS:-1}" BUDGET="${BUDGET:-60}" DIR="${DIR:-$HOME/autoresearch/subjects}"
if [ -n "${AUTORESEARCH_BLAS_KERNEL:-}" ]; then export OPENBLAS_CORETYPE="$AUTORESEARCH_BLAS_KERNEL"
elif grep -qw avx512f /proc/cpuinfo 2>/dev/null; then export OPENBLAS_CORETYPE=SkylakeX
fi
bin="$PWD/.build/release/autoresearch"
[ -x "$bin" ] || swift build -c release --product autoresearch
"$bin" prepare > /dev/null
for subject in swift pytorch; do
  ws="$DIR/$subject"
  if [ ! -f "$ws/autoresearch.toml" ]; then
    template=$([ "$subject" = swift ] && echo gpt || echo pytorch)
    "$bin" init "$ws" --template "$template" --time-budget "$BUDGET" > /dev/null
    core=$([ "$subject" = swift ] && echo 0 || echo 1)
    printf '\n[[slot]]\nname = "core%s"\ncpus = "%s"\n' "$core" "$core" >> "$ws/autoresearch.toml"
    git -C "$ws" commit -qam "one slot: CPU $core"
  fi
done
echo "OpenBLAS kernel for the Swift subject: ${OPENBLAS_CORETYPE:-default}"
"$bin" run --workspace "$DIR/swift" --tag compare --hours "$HOURS" > "$DIR/swift.log" 2>&1 &
"$bin" run --workspace "$DIR/pytorch" --tag compare --hours "$HOURS" > "$DIR/pytorch.log" 2>&1 &
wait
python3 "$(dirname "$0")/subjects-summary.py" "$DIR"
