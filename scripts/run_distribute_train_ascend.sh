#!/usr/bin/env bash
# Train on Ascend (distribute).  usage: bash scripts/run_distribute_train_ascend.sh N (DATASET DATA_PATH [CONFIG] | --resume RUN) [--key value ...]
# Several servers: NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT in the environment (see launch_train.sh).
exec bash "$(dirname "${BASH_SOURCE[0]}")/launch_train.sh" distribute Ascend "$@"
