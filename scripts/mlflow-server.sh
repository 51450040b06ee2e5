#!/usr/bin/env bash
# Installs MLflow's tracking server (PyPI `mlflow` 3.17.2: 3.18.0 needs an mlflow-skinny PyPI does not serve) once, in its own virtual environment, for the MLflow export test,
# and prints the variable the test reads; the test starts and stops its own server (a SQLite store in a temp folder).
# usage: eval "$(scripts/mlflow-server.sh)"   (sets AUTORESEARCH_MLFLOW_PYTHON)
set -euo pipefail
venv="${AUTORESEARCH_CACHE:-$HOME/.cache/autoresearch}/mlflow-server/venv"
version=3.17.2
if ! "$venv/bin/python" -c "import mlflow, sys; sys.exit(mlflow.__version__ != '$version')" >/dev/null 2>&1; then
  echo "mlflow-server: installing mlflow==$version into $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check "mlflow==$version" >&2
fi
echo "export AUTORESEARCH_MLFLOW_PYTHON='$venv/bin/python'"
