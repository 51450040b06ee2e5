#!/usr/bin/env bash
# Installs what the dashboard's browser test needs: Debian's headless Chromium and its driver (apt), and Selenium
# (PyPI) in its own virtual environment; prints the variables the test reads.
# usage: eval "$(scripts/browser.sh)"   (sets AUTORESEARCH_BROWSER_PYTHON, AUTORESEARCH_CHROMIUM, AUTORESEARCH_CHROMEDRIVER)
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "browser: installing chromium and chromium-driver" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
venv="${AUTORESEARCH_CACHE:-$HOME/.cache/autoresearch}/browser/venv"
version=4.51.0
if ! "$venv/bin/python" -c "import selenium, sys; sys.exit(selenium.__version__ != '$version')" >/dev/null 2>&1; then
  echo "browser: installing selenium==$version into $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check "selenium==$version" >&2
fi
echo "export AUTORESEARCH_BROWSER_PYTHON='$venv/bin/python'"
echo "export AUTORESEARCH_CHROMIUM='$(command -v chromium)'"
echo "export AUTORESEARCH_CHROMEDRIVER='$(command -v chromedriver)'"
