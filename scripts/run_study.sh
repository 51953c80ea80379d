#!/usr/bin/env bash
# Table 3 in the paper's regime (configs/study.yaml): pretrained encoders, data that does not
# saturate, five seeds. Pretrains the encoder first if its checkpoint is absent
# (scripts/run_pretrain.sh, 15-30 minutes) and writes the study set if absent, then trains and
# evaluates the rows through tools/run_ablation.py (reusing finished runs when repeated).
#   usage: bash scripts/run_study.sh [--rows 1-12] [--seeds 5] [--output_root runs/study] [--key value ...]
# PRETRAINED (default pretrained/synthetic_resnet10_w32.ckpt) names the encoder checkpoint;
# STUDY_DATA (default data/synthetic_sysu_surveillance_seed9_400: the surveillance rendering,
# which the pretraining never saw, 400 ids, seed 9) the SYSU-MM01-layout set, written if absent with STUDY_IDS, STUDY_SEED, STUDY_STYLE.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO_ROOT"

pretrained="${PRETRAINED:-pretrained/synthetic_resnet10_w32.ckpt}"
data_dir="${STUDY_DATA:-data/synthetic_sysu_surveillance_seed9_400}"
defaults=()
[[ " $* " == *" --seeds "* ]] || defaults+=(--seeds 5)
[[ " $* " == *" --output_root "* ]] || defaults+=(--output_root runs/study)

if [[ ! -f "$pretrained" ]]; then
  echo "no pretrained encoder at $pretrained: pretraining it first"
  bash scripts/run_pretrain.sh "$pretrained"
fi
if [[ ! -d "$data_dir" ]]; then
  "$PYTHON" -m tools.synthetic_dataset --layout sysu --out "$data_dir" --ids "${STUDY_IDS:-400}" \
    --seed "${STUDY_SEED:-9}" --style "${STUDY_STYLE:-surveillance}"
fi
exec "$PYTHON" tools/run_ablation.py sysu "$data_dir" --preset configs/study.yaml \
  --backbone.pretrained "$pretrained" "${defaults[@]}" "$@"
