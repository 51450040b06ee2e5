#!/usr/bin/env bash
# The main job, from a fresh machine: install, build, prepare the Shakespeare data, create a research
# workspace, and run the research loop with the built-in search researcher (1 hour by default).
#   HOURS=8 ./scripts/main.sh            # overnight
#   WORKSPACE=~/my-ws ./scripts/main.sh  # where the workspace lives (default ~/autoresearch/shakespeare)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build -c release --product autoresearch
bin="$PWD/.build/release/autoresearch"
workspace="${WORKSPACE:-$HOME/autoresearch/shakespeare}"
"$bin" prepare
[ -f "$workspace/autoresearch.toml" ] || "$bin" init "$workspace"
exec "$bin" run --workspace "$workspace" --hours "${HOURS:-1}" "$@"
