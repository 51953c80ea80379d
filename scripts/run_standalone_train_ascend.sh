#!/usr/bin/env bash
# Train on Ascend (standalone).  usage: bash scripts/run_standalone_train_ascend.sh (DATASET DATA_PATH [CONFIG] | --resume RUN) [--key value ...]
exec bash "$(dirname "${BASH_SOURCE[0]}")/launch_train.sh" standalone Ascend "$@"
