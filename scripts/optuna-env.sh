#!/usr/bin/env bash
# Makes the Optuna researcher's environment (the versions pinned in Templates/optuna/requirements.txt, from PyPI) in
# the place the harness uses, ~/.cache/autoresearch/optuna/venv, so that the Optuna tests find it ready. The harness
# makes it the same way on first use of `--researcher optuna`. usage: scripts/optuna-env.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${AUTORESEARCH_CACHE:-$HOME/.cache/autoresearch}/optuna/venv"
. scripts/lib/pinned-venv.sh
pinned_venv optuna-env "$venv" --require-hashes -r Templates/optuna/requirements.txt
