#!/usr/bin/env bash
# Train one model per RegDB trial (1..10) and evaluate each on its own split, both directions.
#   usage: bash scripts/run_regdb_trials.sh DEVICE DATA_PATH [CONFIG] [--key value ...]
# DEVICE is CPU, GPU or Ascend. Results: <run>/eval/eval_results.json (10-trial mean and spread).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage="bash scripts/run_regdb_trials.sh DEVICE DATA_PATH [CONFIG] [--key value ...]"
[[ $# -ge 2 ]] || die_with_usage "missing arguments" "$usage"
device="$1"; data_path="$2"; shift 2
case "$device" in CPU|GPU|Ascend) ;; *) die_with_usage "DEVICE must be CPU, GPU or Ascend (got '$device')" "$usage" ;; esac
check_dir "$data_path" "DATA_PATH" "$usage"
config=(--config_path "$REPO_ROOT/configs/regdb.yaml")
if [[ $# -gt 0 && "$1" != --* ]]; then
  check_file "$1" "CONFIG" "$usage"
  config=(--config_path "$(absolute "$1")"); shift
fi
run_dir="$(make_run_dir regdb_trials)"
echo "run folder: $run_dir"
cd "$REPO_ROOT"
common=("${config[@]}" --device_target "$device" --data.dataset regdb --data.data_path "$(absolute "$data_path")" "$@")
for trial in $(seq 1 10); do
  "$PYTHON" train.py "${common[@]}" --data.trial "$trial" --output_dir "$run_dir/trial$trial" 2>&1 \
    | tee "$run_dir/trial$trial.log"
done
"$PYTHON" eval.py "${common[@]}" --eval.checkpoint "$run_dir/trial{trial}/checkpoints/network_last.ckpt" \
  --eval.trials 10 --eval.direction both --output_dir "$run_dir/eval" 2>&1 | tee "$run_dir/eval.log"
