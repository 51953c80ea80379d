#!/usr/bin/env bash
# Train and evaluate rows of Table 3 on one preset and budget, several seeds each, and tabulate.
#   usage: bash scripts/run_ablation.sh DATASET DATA_PATH [--rows 6,9,12] [--seeds 3] [--preset FILE] [--key value ...]
# Runs go to runs/ablation_<DATASET>/rowNN/seedS (or --output_root DIR); the table to
# ablation_table.md and ablation_table.json there. Repeating the command reuses finished runs.
# Every option: python tools/run_ablation.py --help.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage="bash scripts/run_ablation.sh DATASET DATA_PATH [--rows 6,9,12] [--seeds 3] [--preset FILE] [--key value ...]"
[[ $# -ge 2 ]] || die_with_usage "missing arguments" "$usage"
check_dataset "$1" "$usage"
check_dir "$2" "DATA_PATH" "$usage"
exec "$PYTHON" "$REPO_ROOT/tools/run_ablation.py" "$@"
