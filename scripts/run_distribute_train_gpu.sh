#!/usr/bin/env bash
# Train on GPU (distribute).  usage: bash scripts/run_distribute_train_gpu.sh N DATASET DATA_PATH [CONFIG] [--key value ...]
exec bash "$(dirname "${BASH_SOURCE[0]}")/launch_train.sh" distribute GPU "$@"
