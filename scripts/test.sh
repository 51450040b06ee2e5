#!/usr/bin/env bash
# Runs every test (installs the system packages they need first). The end-to-end test builds a real
# GPT workspace in release mode and runs a few experiments of a few seconds on the Shakespeare data.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build --build-tests
exec swift test --skip-build "$@"
