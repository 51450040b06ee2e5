#!/usr/bin/env bash
# The main job, from a fresh machine: install, build, prepare the Shakespeare data, create a research
# workspace, and run the research loop with the built-in search researcher (1 hour by default).
#   HOURS=8 ./scripts/main.sh            # overnight
#   WORKSPACE=~/my-ws ./scripts/main.sh  # where the workspace lives (default ~/autoresearch/shakespeare)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# The main job trains with the fastest OpenBLAS kernel the CPU has (AVX-512 when present), whatever
# kernel the shell presets for tests and CI; set AUTORESEARCH_BLAS_KERNEL to choose another. Each run's
# log names the kernel it used.
if [ -n "${AUTORESEARCH_BLAS_KERNEL:-}" ]; then export OPENBLAS_CORETYPE="$AUTORESEARCH_BLAS_KERNEL"
elif grep -qw avx512f /proc/cpuinfo 2>/dev/null; then export OPENBLAS_CORETYPE=SkylakeX
fi
swift build -c release --product autoresearch
bin="$PWD/.build/release/autoresearch"
workspace="${WORKSPACE:-$HOME/autoresearch/shakespeare}"
"$bin" prepare
[ -f "$workspace/autoresearch.toml" ] || "$bin" init "$workspace"
exec "$bin" run --workspace "$workspace" --hours "${HOURS:-1}" "$@"
