# Sourced by the install scripts. pinned_venv LABEL VENV PIP_ARGS...: makes the virtual environment VENV with
# `pip install PIP_ARGS` once, and again whenever those arguments change (a requirements file named by `-r` counts
# with its content) or its interpreter no longer runs. The arguments are stamped in VENV/.pinned; messages go to
# stderr, so a script's standard output stays the `export` lines its caller evaluates.
pinned_venv() {
  local label=$1 venv=$2; shift 2
  local want="" previous="" arg
  for arg in "$@"; do
    want+="$arg"$'\n'
    [ "$previous" = "-r" ] && want+="$(cat "$arg")"$'\n'
    previous=$arg
  done
  if "$venv/bin/python" -c '' >/dev/null 2>&1 && [ "$(cat "$venv/.pinned" 2>/dev/null)"$'\n' = "$want" ]; then
    return 0
  fi
  echo "$label: installing $* into $venv" >&2
  mkdir -p "$(dirname "$venv")"
  python3 -m venv --clear "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check "$@" >&2
  printf '%s' "$want" > "$venv/.pinned"
}
