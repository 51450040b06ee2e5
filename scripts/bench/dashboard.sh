#!/usr/bin/env bash
# The dashboard's responsiveness (README: "Dashboard"): a demonstration ledger of N experiments (default 10,000;
# logs for the last 30, two running, a meta-loop), served by the release binary, each page and API call requested
# 20 times one after another; prints the median and range of each beside the 200 ms target, and each page's first
# load (the sum of the medians of everything it fetches). A measurement, not a test.
#   N=10000 scripts/bench/dashboard.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="$PWD/.build/release/autoresearch"
[ -x "$bin" ] || swift build -c release --product autoresearch
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
"$bin" serve --demo "${N:-10000}" --workspace "$dir/ws" --port 0 --bench
