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
. "$(dirname "$0")/lib/pinned-venv.sh"
pinned_venv browser "$venv" --require-hashes -r "$(dirname "$0")/locks/browser.txt"
echo "export AUTORESEARCH_BROWSER_PYTHON='$venv/bin/python'"
echo "export AUTORESEARCH_CHROMIUM='$(command -v chromium)'"
echo "export AUTORESEARCH_CHROMEDRIVER='$(command -v chromedriver)'"
