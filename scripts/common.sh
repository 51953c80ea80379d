#!/usr/bin/env bash
# Helpers sourced by the launch scripts: argument checks, run folders, the interpreter.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The project's virtual environment if there is one, else the python on PATH.
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$REPO_ROOT/.venv/bin/python" ]]; then PYTHON="$REPO_ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
export PYTHONUNBUFFERED=1

die_with_usage() {  # message, usage text
  echo "error: $1" >&2
  echo "usage: $2" >&2
  exit 2
}

check_dataset() {  # name, usage
  case "$1" in
    sysu|regdb|llcm) ;;
    *) die_with_usage "DATASET must be sysu, regdb or llcm (got '$1')" "$2" ;;
  esac
}

check_dir() {  # path, what, usage
  [[ -d "$1" ]] || die_with_usage "$2 '$1' is not a folder" "$3"
}

check_file() {  # path, what, usage
  [[ -f "$1" ]] || die_with_usage "$2 '$1' does not exist" "$3"
}

absolute() {  # path -> absolute path
  if [[ "$1" = /* ]]; then echo "$1"; else echo "$PWD/$1"; fi
}

# A fresh run folder under runs/ (or $RUN_DIR if set), printed on stdout.
make_run_dir() {  # prefix
  local dir="${RUN_DIR:-$REPO_ROOT/runs/$1_$(date +%Y%m%d_%H%M%S)}"
  mkdir -p "$dir"
  echo "$dir"
}
