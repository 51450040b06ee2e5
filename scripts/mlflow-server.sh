#!/usr/bin/env bash
# Installs MLflow's tracking server (PyPI `mlflow` 3.17.2: 3.18.0 needs an mlflow-skinny PyPI does not serve) once, in its own virtual environment, for the MLflow export test,
# and prints the variable the test reads; the test starts and stops its own server (a SQLite store in a temp folder).
# usage: eval "$(scripts/mlflow-server.sh)"   (sets AUTORESEARCH_MLFLOW_PYTHON)
set -euo pipefail
venv="${AUTORESEARCH_CACHE:-$HOME/.cache/autoresearch}/mlflow-server/venv"
. "$(dirname "$0")/lib/pinned-venv.sh"
pinned_venv mlflow-server "$venv" --require-hashes -r "$(dirname "$0")/locks/mlflow.txt"
echo "export AUTORESEARCH_MLFLOW_PYTHON='$venv/bin/python'"
