#!/usr/bin/env bash
# Regenerates the hashed locks every `pip install` of ours reads (pip's hash-checking mode: an install fails when a
# downloaded file's SHA-256 is not the one recorded, and when any package, dependencies included, has no hash):
#   Templates/pytorch/requirements.txt  from Templates/pytorch/requirements.in (the PyTorch subject; torch's CPU wheel
#                                       from PIP_FIND_LINKS on Linux x86-64, PyPI's wheels elsewhere)
#   Templates/optuna/requirements.txt   from Templates/optuna/requirements.in  (the Optuna researcher's sidecar)
#   scripts/locks/<name>.txt            from scripts/locks/<name>.in           (the tests' MLflow, Selenium, llama.cpp)
# The locks are made by uv (`uv pip compile --generate-hashes`, pinned below, installed from PyPI into a cache venv).
# Run it after changing a .in file, read the diff, commit both.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/pinned-venv.sh
venv="${AUTORESEARCH_CACHE:-$HOME/.cache/autoresearch}/uv/venv"
pinned_venv lock-requirements "$venv" "uv==0.13.10"
uv="$venv/bin/uv"
compile() { "$uv" pip compile --quiet --generate-hashes --no-header --python-version 3.11 "$@"; }
header() { printf '# Made by scripts/lock-requirements.sh from %s: do not edit; change the .in file and run it again.\n%s\n' "$1" "$2"; }

# Universal locks (pure-Python or per-platform wheels that need no special index).
for in in Templates/optuna/requirements.in scripts/locks/*.in; do
  out="${in%.in}.txt"
  nodeps=(); [ "$in" = scripts/locks/llama.in ] && nodeps=(--no-deps)   # installed with --no-deps: its pins alone
  { header "$in" ""; compile --universal --no-annotate "${nodeps[@]}" "$in"; } > "$out"
  echo "locked $out" >&2
done

# The PyTorch subject: torch's CPU wheel has different dependencies from PyPI's Linux wheel (which pulls CUDA), so
# lock the CPU set twice (Linux x86-64 with the CPU wheel from PIP_FIND_LINKS, macOS arm64 from PyPI) and give torch
# the hashes of both; every other pin is the same in both.
in=Templates/pytorch/requirements.in
[ -n "${PIP_FIND_LINKS:-}" ] && ls "$PIP_FIND_LINKS"/torch-*+cpu-*.whl >/dev/null 2>&1 || {
  echo "lock-requirements: PIP_FIND_LINKS must name a folder with torch's CPU wheel (download.pytorch.org/whl/cpu)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
compile --no-annotate --python-platform x86_64-manylinux_2_28 --find-links "$PIP_FIND_LINKS" "$in" > "$tmp/linux.txt"
MACOSX_DEPLOYMENT_TARGET=14.0 compile --no-annotate --python-platform aarch64-apple-darwin "$in" > "$tmp/macos.txt"
python3 - "$tmp/linux.txt" "$tmp/macos.txt" > "$tmp/merged.txt" <<'PY'
import re, sys
def read(path):
    pins, name = {}, None
    for line in open(path):
        m = re.match(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)", line)
        if m: name = m.group(1).lower(); pins[name] = [m.group(2), []]; continue
        h = re.search(r"--hash=(sha256:[0-9a-f]{64})", line)
        if h and name: pins[name][1].append(h.group(1))
    return pins
linux, macos = read(sys.argv[1]), read(sys.argv[2])
assert linux.keys() == macos.keys(), "the two platforms' locks name different packages: %s" % (linux.keys() ^ macos.keys())
for name in sorted(linux):
    lv, mv = linux[name][0], macos[name][0]
    assert lv.split("+")[0] == mv.split("+")[0], "%s: %s on Linux, %s on macOS" % (name, lv, mv)
    if lv == mv:
        lines = [["%s==%s" % (name, lv), sorted(set(linux[name][1]) | set(macos[name][1]))]]
    else:  # torch: the CPU wheel (a local version, 2.13.0+cpu) on Linux, PyPI's on macOS; a marker picks one
        lines = [["%s==%s ; sys_platform == 'linux'" % (name, lv), linux[name][1]],
                 ["%s==%s ; sys_platform == 'darwin'" % (name, mv), macos[name][1]]]
    for requirement, hashes in lines:
        print(" \\\n    ".join([requirement] + ["--hash=" + h for h in hashes]))
PY
{ header "$in" "# On Linux, torch's CPU wheel (2.13.0+cpu) is the one pinned: put it in PIP_FIND_LINKS, or use PyTorch's CPU index
# (--extra-index-url https://download.pytorch.org/whl/cpu); PyPI's Linux wheel pulls CUDA and is refused."; cat "$tmp/merged.txt"; } > "${in%.in}.txt"
echo "locked ${in%.in}.txt" >&2
