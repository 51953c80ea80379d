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

# The dataset names come from the dataset registry: each dataset declares its own.
check_dataset() {  # name, usage
  local names
  names="$(cd "$REPO_ROOT" && "$PYTHON" -c 'import src; from src.datasets.dataset import DATASETS
print(", ".join(DATASETS.names()))')" || die_with_usage "$PYTHON could not list the registered datasets" "$2"
  [[ ", $names, " == *", $1, "* ]] || die_with_usage "DATASET must be one of $names (got '$1')" "$2"
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

# Multi-server data parallel: NNODES (default 1), NODE_RANK (default 0), MASTER_ADDR (required
# with NNODES > 1, default 127.0.0.1), MASTER_PORT (optional); checked and exported.
check_nodes() {  # usage
  NNODES="${NNODES:-1}"; NODE_RANK="${NODE_RANK:-0}"
  [[ "$NNODES" =~ ^[1-9][0-9]*$ ]] || die_with_usage "NNODES must be a positive number of servers (got '$NNODES')" "$1"
  [[ "$NODE_RANK" =~ ^[0-9]+$ && "$NODE_RANK" -lt "$NNODES" ]] \
    || die_with_usage "NODE_RANK must be this server's index, 0..$((NNODES - 1)) (got '$NODE_RANK')" "$1"
  if [[ "$NNODES" -gt 1 && -z "${MASTER_ADDR:-}" ]]; then
    die_with_usage "MASTER_ADDR must name the server with NODE_RANK 0 when NNODES is $NNODES" "$1"
  fi
  MASTER_ADDR="${MASTER_ADDR:-127.0.0.1}"
  if [[ -n "${MASTER_PORT:-}" ]]; then
    [[ "$MASTER_PORT" =~ ^[0-9]+$ && "$MASTER_PORT" -ge 1024 && "$MASTER_PORT" -le 65535 ]] \
      || die_with_usage "MASTER_PORT must be a port number in 1024..65535 (got '$MASTER_PORT')" "$1"
  elif [[ "$NNODES" -gt 1 ]]; then
    die_with_usage "MASTER_PORT must be set (the same free port on every server) when NNODES is $NNODES" "$1"
  fi
  export NNODES NODE_RANK MASTER_ADDR
}
