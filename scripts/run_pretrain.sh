#!/usr/bin/env bash
# Pretrain one encoder on a large synthetic set of its own identities (the stand-in for
# ImageNet that this machine can make) and write it as a backbone checkpoint that
# --backbone.pretrained OUT.ckpt loads into every encoder.
#   usage: bash scripts/run_pretrain.sh OUT.ckpt [--key value ...]   (overrides of configs/pretrain.yaml)
# PRETRAIN_DATA (default data/synthetic_pretrain), PRETRAIN_IDS (1200), PRETRAIN_SEED (1000)
# and PRETRAIN_STYLE (mixed) choose the synthetic set, written if absent; RUN_DIR the run
# folder (default: a fresh runs/pretrain_<time>). About 15-30 minutes on 2 CPU cores.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage="bash scripts/run_pretrain.sh OUT.ckpt [--key value ...]"
[[ $# -ge 1 && "$1" != --* ]] || die_with_usage "missing OUT.ckpt, the backbone checkpoint to write" "$usage"
[[ "$1" == *.ckpt ]] || die_with_usage "OUT.ckpt must end in .ckpt (got '$1')" "$usage"
out="$(absolute "$1")"; shift
mkdir -p "$(dirname "$out")"
cd "$REPO_ROOT"

data_dir="${PRETRAIN_DATA:-data/synthetic_pretrain}"
if [[ ! -d "$data_dir" ]]; then
  "$PYTHON" -m tools.synthetic_dataset --layout sysu --out "$data_dir" --ids "${PRETRAIN_IDS:-1200}" \
    --seed "${PRETRAIN_SEED:-1000}" --style "${PRETRAIN_STYLE:-mixed}"
else
  echo "using the existing dataset $data_dir (PRETRAIN_IDS, PRETRAIN_SEED and PRETRAIN_STYLE apply only to a new one)"
fi
run_dir="$(make_run_dir pretrain)"
start=$(date +%s)
"$PYTHON" train.py --config_path configs/pretrain.yaml --data.data_path "$data_dir" --output_dir "$run_dir" "$@"
"$PYTHON" tools/extract_backbone.py "$run_dir" "$out"
echo "pretraining took $(( $(date +%s) - start )) s; train with --backbone.pretrained $out"
