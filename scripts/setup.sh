#!/usr/bin/env bash
# Installs what AutoResearch needs beyond Swift: OpenBLAS (matmul), SQLite (the ledger), bubblewrap (the sandbox of every build and run) and OpenSSL's
# libcrypto (SHA-256), from Debian's packages. Safe to run again: installs only what is missing.
set -euo pipefail
missing=()
for p in libopenblas-dev libsqlite3-dev libssl-dev bubblewrap; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
command -v git >/dev/null 2>&1 || missing+=(git)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian's OpenBLAS 0.3.21 does not recognise some recent x86 CPUs and falls back to its slowest
# kernel (Prescott). When nothing was chosen, name the best kernel the CPU supports.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then export OPENBLAS_CORETYPE=SkylakeX
  elif grep -qw avx2 /proc/cpuinfo 2>/dev/null; then export OPENBLAS_CORETYPE=Haswell
  fi
fi
git config --global user.email >/dev/null 2>&1 || git config --global user.email "autoresearch@localhost"
git config --global user.name >/dev/null 2>&1 || git config --global user.name "autoresearch"
