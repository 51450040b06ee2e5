#!/usr/bin/env bash
# Makes the Optuna researcher's environment (the versions pinned in Templates/optuna/requirements.txt, from PyPI) in
# the place the harness uses, ~/.cache/autoresearch/optuna/venv, so that the Optuna tests find it ready. The harness
# makes it the same way on first use of `--researcher optuna`. usage: scripts/optuna-env.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${AUTORESEARCH_CACHE:-$HOME/.cache/autoresearch}/optuna/venv"
check='import importlib.metadata as m, sys; pins = [l.split("==") for l in open("Templates/optuna/requirements.txt") if "==" in l and not l.startswith("#")]; sys.exit(any(m.version(n.strip()) != v.strip() for n, v in pins))'
if ! "$venv/bin/python" -c "$check" >/dev/null 2>&1; then
  echo "optuna-env: installing $(grep -v '^#' Templates/optuna/requirements.txt | tr '\n' ' ')into $venv" >&2
  mkdir -p "$(dirname "$venv")"
  python3 -m venv --clear "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r Templates/optuna/requirements.txt >&2
fi
