#!/usr/bin/env bash
# The demo: writes a synthetic SYSU-MM01-layout dataset if absent, scores the non-learned HOG
# floor and the untrained network on its test identities, trains the demo preset on CPU from
# scratch, evaluates it and exports it to MINDIR.
#   usage: bash scripts/run_demo.sh [RUN_DIR] [--key value ...]   (default RUN_DIR: runs/demo)
# DEMO_DATA (default data/synthetic_sysu_demo), DEMO_IDS (400) and DEMO_SEED (0) choose the
# synthetic set; DEMO_STYLE (default) its rendering.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO_ROOT"

run_dir="runs/demo"
if [[ $# -gt 0 && "$1" != --* ]]; then run_dir="$1"; shift; fi
data_dir="${DEMO_DATA:-data/synthetic_sysu_demo}"
config=(--config_path configs/demo.yaml --data.data_path "$data_dir" --output_dir "$run_dir" "$@")

# A repeated demo replaces the earlier demo's training in $run_dir (--overwrite; train.py refuses a
# folder holding a run otherwise); a folder holding any other run is refused before anything is written.
overwrite=()
if [[ -f "$run_dir/config.yaml" || -f "$run_dir/checkpoints/state.json" ]]; then
  if grep -Eq "^config_path: *['\"]?(.*/)?configs/demo\.yaml['\"]? *\$" "$run_dir/config.yaml" 2>/dev/null; then
    overwrite=(--overwrite)
  else
    echo "error: $run_dir already holds a run that is not a demo run (its config.yaml was not made from" \
      "configs/demo.yaml): give the demo another folder (bash scripts/run_demo.sh NEW_RUN_DIR)" >&2
    exit 2
  fi
fi

if [[ ! -d "$data_dir" ]]; then
  "$PYTHON" -m tools.synthetic_dataset --layout sysu --out "$data_dir" --ids "${DEMO_IDS:-400}" \
    --seed "${DEMO_SEED:-0}" --style "${DEMO_STYLE:-default}"
else
  echo "using the existing dataset $data_dir (DEMO_IDS, DEMO_SEED and DEMO_STYLE apply only to a new one)"
fi
mkdir -p "$run_dir"
"$PYTHON" tools/hog_features.py --dataset sysu --data_path "$data_dir" --out "$run_dir/hog_features.npz"
"$PYTHON" eval.py "${config[@]}" --eval.features "$run_dir/hog_features.npz" \
  --output_dir "$run_dir/eval_hog" 2>&1 | tee "$run_dir/eval_hog.log"
start=$(date +%s)
"$PYTHON" train.py "${config[@]}" --train.save_initial true "${overwrite[@]}"  # writes $run_dir/train.log itself
trained=$(date +%s)
"$PYTHON" eval.py "${config[@]}" --eval.checkpoint "$run_dir/checkpoints/network_init.ckpt" \
  --output_dir "$run_dir/eval_untrained" 2>&1 | tee "$run_dir/eval_untrained.log"
"$PYTHON" eval.py "${config[@]}" --eval.checkpoint "$run_dir/checkpoints/network_last.ckpt" \
  --output_dir "$run_dir/eval_trained" 2>&1 | tee "$run_dir/eval_trained.log"
"$PYTHON" export.py "${config[@]}" --export.checkpoint "$run_dir/checkpoints/network_last.ckpt"  # and export.log
echo
echo "demo finished: training took $((trained - start)) s; $data_dir, all-search single-shot, mean of the trials:"
echo "               rank1    rank5   rank10   rank20      mAP     mINP  (in %)"
for which in untrained trained hog; do
  printf '  %-10s%s\n' "$which" "$(grep '^  mean' "$run_dir/eval_$which.log" | sed 's/^  mean//')"
done
"$PYTHON" - "$run_dir" <<'EOF'
import json, sys
from src.retired_directions import results_as_now
means = {which: results_as_now(json.load(open(f"{sys.argv[1]}/eval_{which}/eval_results.json")))["t2v"]["mean"]
         for which in ("trained", "hog")}
print("  trained / HOG floor: Rank-1 {:.2f}x, mAP {:.2f}x".format(
    means["trained"]["rank1"] / means["hog"]["rank1"], means["trained"]["mAP"] / means["hog"]["mAP"]))
EOF
