#!/bin/bash
# A Slurm job array that runs experiments/sharded/batch-config.yaml in 4 shards, one task each.
# Submit it from the project's folder, then merge once every task has succeeded:
#
#   jobid=$(sbatch --parsable docs/examples/slurm-array.sh)
#   sbatch --dependency=afterok:$jobid --wrap "npx scenario-lab merge shards/task-* --output experiments/sharded-merged"
#
# `--shard auto` reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT: task
# 1 of --array=1-4 runs shard 1/4 (--array=0-3 works the same). Every shard gets the same --seed
# (merge checks it) and budget_limit x its share of the runs. Each task writes into a folder of
# its own on the shared filesystem (--output shards/task-N), with --resume: a task that is
# requeued continues its shard (no run paid twice) instead of starting it over.
# tests/node/shards.test.mjs runs this script with these variables.
#SBATCH --job-name=scenario-lab-sharded
#SBATCH --array=1-4
#SBATCH --cpus-per-task=1
#SBATCH --time=02:00:00
set -euo pipefail
cd "$SLURM_SUBMIT_DIR"
npx scenario-lab run experiments/sharded/batch-config.yaml --shard auto --seed 42 --resume --output "shards/task-$SLURM_ARRAY_TASK_ID"
