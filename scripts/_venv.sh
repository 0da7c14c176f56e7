# Sourced by scripts/serve and scripts/test: make .venv and install the project into it,
# only when pyproject.toml or constraints.txt changed since the last install.
# Usage: ensure_venv runtime|dev
ensure_venv() {
  local extra="$1" py stamp want log
  py=$(command -v python3.11 || command -v python3) || { echo "Python 3.11 is required" >&2; exit 1; }
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required" >&2; exit 1; }
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  stamp=.venv/.aihub-installed-$extra
  want=$(cat pyproject.toml constraints.txt sdk/python/pyproject.toml 2>/dev/null | "$py" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  log=$(mktemp)
  {
    .venv/bin/python -m pip install --upgrade pip &&
    if [ "$extra" = dev ]; then
      .venv/bin/python -m pip install -c constraints.txt -e ".[dev]" -e sdk/python
    else
      .venv/bin/python -m pip install -c constraints.txt -e .
    fi
  } >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; echo "installing dependencies failed" >&2; exit 1; }
  rm -f "$log"
  echo "$want" >"$stamp"
}
