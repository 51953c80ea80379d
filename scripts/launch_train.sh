#!/usr/bin/env bash
# Shared body of the run_standalone_train_* and run_distribute_train_* scripts.
#   launch_train.sh standalone DEVICE DATASET DATA_PATH [CONFIG] [--key value ...]
#   launch_train.sh standalone DEVICE --resume RUN [--key value ...]
#   launch_train.sh distribute DEVICE N DATASET DATA_PATH [CONFIG] [--key value ...]
#   launch_train.sh distribute DEVICE N --resume RUN [--key value ...]
# Distributed runs over several servers: N devices on each, and on every server the same
# NNODES (server count) and MASTER_ADDR (address of the server with NODE_RANK 0), with that
# server's own NODE_RANK (0..NNODES-1); MASTER_PORT is optional (one free port, the same on all).
# train.py writes train.log itself (appended on resume), so nothing is piped through tee.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

kind="$1"; device="$2"; shift 2
lower_device="$(echo "$device" | tr '[:upper:]' '[:lower:]')"
script="run_${kind}_train_${lower_device}.sh"
if [[ "$kind" == distribute ]]; then
  usage="bash scripts/$script N (DATASET DATA_PATH [CONFIG] | --resume RUN) [--key value ...]"
  [[ $# -ge 3 ]] || die_with_usage "missing arguments" "$usage"
  workers="$1"; shift
  [[ "$workers" =~ ^[1-9][0-9]*$ ]] || die_with_usage "N must be a positive number of devices (got '$workers')" "$usage"
  check_nodes "$usage"
else
  usage="bash scripts/$script (DATASET DATA_PATH [CONFIG] | --resume RUN) [--key value ...]"
  [[ $# -ge 2 ]] || die_with_usage "missing arguments" "$usage"
fi

if [[ "$1" == --resume ]]; then
  run_dir="$(absolute "$2")"; shift 2
  check_dir "$run_dir" "RUN" "$usage"
  check_file "$run_dir/checkpoints/state.json" "RUN's saved training state" "$usage"
  args=(--resume "$run_dir" "$@")
  echo "resuming run folder: $run_dir"
else
  dataset="$1"; data_path="$2"; shift 2
  check_dataset "$dataset" "$usage"
  check_dir "$data_path" "DATA_PATH" "$usage"
  config=()
  if [[ $# -gt 0 && "$1" != --* ]]; then
    check_file "$1" "CONFIG" "$usage"
    config=(--config_path "$(absolute "$1")"); shift
  fi
  run_dir="$(make_run_dir "${dataset}_${kind}_${lower_device}")"
  args=("${config[@]}" --device_target "$device" --data.dataset "$dataset"
        --data.data_path "$(absolute "$data_path")" --output_dir "$run_dir" "$@")
  echo "run folder: $run_dir"
fi
cd "$REPO_ROOT"
if [[ "$kind" == distribute ]]; then
  port="${MASTER_PORT:-$((8000 + RANDOM % 1000))}"
  # msrun starts each worker with the "python" found on PATH: make it the interpreter used here
  [[ "$PYTHON" == */* ]] && export PATH="$(dirname "$PYTHON"):$PATH"
  # msrun answers Ctrl-C by SIGKILLing its workers and ignores SIGTERM (the workers, in sessions
  # of their own, would train on). So it runs in a session of its own, where a terminal's
  # Ctrl-C does not reach it, and this script passes SIGINT / SIGTERM (as SIGTERM) and SIGHUP
  # on to this server's workers: they stop together at a step, rank 0 saves the state, and the
  # script exits with 128 + the signal's number.
  setsid "$PYTHON" -m mindspore.parallel.cluster.run --worker_num="$((workers * NNODES))" \
    --local_worker_num="$workers" --master_addr="$MASTER_ADDR" --master_port="$port" --node_rank="$NODE_RANK" \
    --log_dir="$run_dir/msrun_logs_node$NODE_RANK" --join=True train.py "${args[@]}" &
  msrun_pid=$!
  received=""
  stop_workers() {  # the signal to send to msrun's workers (not to its scheduler nor its log tails)
    local pid
    for pid in $(pgrep -P "$msrun_pid" -f train.py || true); do
      if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx 'MS_ROLE=MS_WORKER'; then
        kill -"$1" "$pid" 2>/dev/null || true
      fi
    done
  }
  trap 'received=INT; stop_workers TERM' INT
  trap 'received=TERM; stop_workers TERM' TERM
  trap 'received=HUP; stop_workers HUP' HUP
  status=0
  while :; do  # a trapped signal interrupts wait; go on waiting until msrun has ended
    wait "$msrun_pid" && status=0 || status=$?
    kill -0 "$msrun_pid" 2>/dev/null || break
  done
  [[ -z "$received" ]] || exit $((128 + $(kill -l "$received")))
  exit "$status"
else
  "$PYTHON" train.py "${args[@]}"
fi
