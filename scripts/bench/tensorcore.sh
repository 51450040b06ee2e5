#!/usr/bin/env bash
# The tensor core against PyTorch eager, side by side in one run (autoresearch-bench): makes a Python environment
# with the PyTorch subject's pinned torch (Templates/pytorch/requirements.txt) in ~/.cache/autoresearch/bench-torch/venv
# once, builds the bench in release and runs it with the fastest OpenBLAS kernel this CPU has (SkylakeX with AVX-512,
# else Haswell; BENCH_BLAS_KERNEL=… chooses another), whatever the shell presets. The bench prints the kernel.
#   scripts/bench/tensorcore.sh                      # (a)-(d), 5 rounds of 2 s a side
#   scripts/bench/tensorcore.sh --rounds 9 --config d
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${AUTORESEARCH_CACHE:-$HOME/.cache/autoresearch}/bench-torch/venv"
. scripts/lib/pinned-venv.sh
pinned_venv tensorcore.sh "$venv" --require-hashes -r Templates/pytorch/requirements.txt
if [ -n "${BENCH_BLAS_KERNEL:-}" ]; then export OPENBLAS_CORETYPE="$BENCH_BLAS_KERNEL"
elif grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
else export OPENBLAS_CORETYPE=Haswell
fi
swift build -c release --product autoresearch-bench >&2
exec .build/release/autoresearch-bench --python "$venv/bin/python" "$@"
