#!/usr/bin/env bash
# The demo: writes a synthetic SYSU-MM01-layout dataset if absent, measures the untrained
# network, trains a small configuration on CPU, evaluates it and exports it to MINDIR.
#   usage: bash scripts/run_demo.sh [RUN_DIR] [--key value ...]   (default RUN_DIR: runs/demo)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO_ROOT"

run_dir="runs/demo"
if [[ $# -gt 0 && "$1" != --* ]]; then run_dir="$1"; shift; fi
data_dir="data/synthetic_sysu"
config=(--config_path configs/demo.yaml --data.data_path "$data_dir" --output_dir "$run_dir" "$@")

if [[ ! -d "$data_dir" ]]; then
  "$PYTHON" -m src.datasets.synthetic --layout sysu --out "$data_dir" --ids 100
fi
mkdir -p "$run_dir"
start=$(date +%s)
"$PYTHON" train.py "${config[@]}" --train.save_initial true 2>&1 | tee "$run_dir/train.log"
trained=$(date +%s)
"$PYTHON" eval.py "${config[@]}" --eval.checkpoint "$run_dir/checkpoints/network_init.ckpt" \
  --output_dir "$run_dir/eval_untrained" 2>&1 | tee "$run_dir/eval_untrained.log"
"$PYTHON" eval.py "${config[@]}" --eval.checkpoint "$run_dir/checkpoints/network_last.ckpt" \
  --output_dir "$run_dir/eval_trained" 2>&1 | tee "$run_dir/eval_trained.log"
"$PYTHON" export.py "${config[@]}" --export.checkpoint "$run_dir/checkpoints/network_last.ckpt" 2>&1 \
  | tee "$run_dir/export.log"
echo
echo "demo finished: training took $((trained - start)) s; all-search single-shot, mean of the trials:"
for which in untrained trained; do
  echo "  $which: $(grep '^  mean' "$run_dir/eval_$which.log")"
done
echo "  (columns: rank1 rank5 rank10 rank20 mAP mINP, in %)"
