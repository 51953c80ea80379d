#!/usr/bin/env bash
# Evaluate a checkpoint (.ckpt, or one of an exported NAME_visible/NAME_infrared.mindir pair).
#   usage: bash scripts/run_eval.sh DATASET DATA_PATH CHECKPOINT [CONFIG] [--key value ...]
# CONFIG is the training run's config.yaml (it describes the network); without it the
# defaults are used. "{trial}" in CHECKPOINT evaluates RegDB trial k with its own model.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage="bash scripts/run_eval.sh DATASET DATA_PATH CHECKPOINT [CONFIG] [--key value ...]"
[[ $# -ge 3 ]] || die_with_usage "missing arguments" "$usage"
dataset="$1"; data_path="$2"; checkpoint="$3"; shift 3
check_dataset "$dataset" "$usage"
check_dir "$data_path" "DATA_PATH" "$usage"
[[ "$checkpoint" == *"{trial}"* ]] || check_file "$checkpoint" "CHECKPOINT" "$usage"
config=()
if [[ $# -gt 0 && "$1" != --* ]]; then
  check_file "$1" "CONFIG" "$usage"
  config=(--config_path "$(absolute "$1")"); shift
fi
run_dir="$(make_run_dir "${dataset}_eval")"
echo "run folder: $run_dir"
cd "$REPO_ROOT"
"$PYTHON" eval.py "${config[@]}" --data.dataset "$dataset" --data.data_path "$(absolute "$data_path")" \
  --eval.checkpoint "$(absolute "$checkpoint")" --output_dir "$run_dir" "$@"  # writes $run_dir/eval.log itself
