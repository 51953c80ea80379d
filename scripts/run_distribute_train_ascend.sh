#!/usr/bin/env bash
# Train on Ascend (distribute).  usage: bash scripts/run_distribute_train_ascend.sh N DATASET DATA_PATH [CONFIG] [--key value ...]
exec bash "$(dirname "${BASH_SOURCE[0]}")/launch_train.sh" distribute Ascend "$@"
