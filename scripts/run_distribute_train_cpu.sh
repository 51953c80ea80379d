#!/usr/bin/env bash
# Train on CPU (distribute).  usage: bash scripts/run_distribute_train_cpu.sh N DATASET DATA_PATH [CONFIG] [--key value ...]
exec bash "$(dirname "${BASH_SOURCE[0]}")/launch_train.sh" distribute CPU "$@"
