#!/usr/bin/env bash
# Shared body of the run_standalone_train_* and run_distribute_train_* scripts.
#   launch_train.sh standalone DEVICE DATASET DATA_PATH [CONFIG] [--key value ...]
#   launch_train.sh distribute DEVICE N DATASET DATA_PATH [CONFIG] [--key value ...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

kind="$1"; device="$2"; shift 2
script="run_${kind}_train_$(echo "$device" | tr '[:upper:]' '[:lower:]').sh"
if [[ "$kind" == distribute ]]; then
  usage="bash scripts/$script N DATASET DATA_PATH [CONFIG] [--key value ...]"
  [[ $# -ge 3 ]] || die_with_usage "missing arguments" "$usage"
  workers="$1"; shift
  [[ "$workers" =~ ^[1-9][0-9]*$ ]] || die_with_usage "N must be a positive number of devices (got '$workers')" "$usage"
else
  usage="bash scripts/$script DATASET DATA_PATH [CONFIG] [--key value ...]"
  [[ $# -ge 2 ]] || die_with_usage "missing arguments" "$usage"
fi
dataset="$1"; data_path="$2"; shift 2
check_dataset "$dataset" "$usage"
check_dir "$data_path" "DATA_PATH" "$usage"
config=()
if [[ $# -gt 0 && "$1" != --* ]]; then
  check_file "$1" "CONFIG" "$usage"
  config=(--config_path "$(absolute "$1")"); shift
fi

run_dir="$(make_run_dir "${dataset}_${kind}_$(echo "$device" | tr '[:upper:]' '[:lower:]')")"
args=("${config[@]}" --device_target "$device" --data.dataset "$dataset"
      --data.data_path "$(absolute "$data_path")" --output_dir "$run_dir" "$@")
echo "run folder: $run_dir"
cd "$REPO_ROOT"
if [[ "$kind" == distribute ]]; then
  port="${MASTER_PORT:-$((8000 + RANDOM % 1000))}"
  # msrun starts each worker with the "python" found on PATH: make it the interpreter used here
  [[ "$PYTHON" == */* ]] && export PATH="$(dirname "$PYTHON"):$PATH"
  "$PYTHON" -m mindspore.parallel.cluster.run --worker_num="$workers" --local_worker_num="$workers" \
    --master_port="$port" --log_dir="$run_dir/msrun_logs" --join=True \
    train.py "${args[@]}" 2>&1 | tee "$run_dir/train.log"
else
  "$PYTHON" train.py "${args[@]}" 2>&1 | tee "$run_dir/train.log"
fi
