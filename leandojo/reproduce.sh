#!/usr/bin/env bash
# Full ReProver recipe on LeanDojo Benchmark 4, in numbered stages (ESPnet style):
#   bash reproduce.sh [--stage N] [--stop-stage M]
# Each finished stage leaves runs/reproduce/<split>/.done-<N>; rerunning skips finished stages, and training
# stages resume from their newest checkpoint (repro.train). Time and memory: not yet measured (the paper
# reports ~5 days on one A100 80 GB for the generator and ~2 days on 8 V100s for evaluation).
set -euo pipefail
PY=${PY:-../.venv/bin/python}
DATA=${DATA:-../data}
SPLIT=${SPLIT:-random}          # random | novel_premises: one model pair per split strategy (paper Sec. 6)
WORKERS=${WORKERS:-8}
GPUS=${GPUS:-$( (nvidia-smi -L 2>/dev/null || true) | wc -l)}
STAGE=1; STOP_STAGE=100
while [[ $# -gt 0 ]]; do
  case $1 in
    --stage) STAGE=$2; shift 2 ;;
    --stop-stage) STOP_STAGE=$2; shift 2 ;;
    -h|--help) sed -n 2,6p "$0"; exit 0 ;;
    *) echo "unknown option $1 (use --stage N --stop-stage M)" >&2; exit 2 ;;
  esac
done
BENCH=$DATA/leandojo_benchmark_4
RUNS=runs/reproduce/$SPLIT
mkdir -p "$RUNS"

stage() {  # stage <number> <name> <command...>
  local n=$1 name=$2; shift 2
  if (( n < STAGE || n > STOP_STAGE )); then return; fi
  if [[ -f $RUNS/.done-$n ]]; then echo "$(date -Is) stage $n ($name): done before, skipping"; return; fi
  echo "$(date -Is) stage $n ($name): $*"
  "$@"
  touch "$RUNS/.done-$n"
}

stage 1 download      "$PY" -m reprover.data.download --root "$DATA"
stage 2 check-data    "$PY" -m reprover.cli check-data --data "$BENCH"
stage 3 train-retriever "$PY" train.py retriever -c configs/retriever_lean4.json --run-dir "$RUNS/retriever" \
  data.root="$BENCH" data.split="$SPLIT"
stage 4 eval-retrieval "$PY" -m reprover.cli retrieve-eval --data "$BENCH" --split "$SPLIT" --subset test \
  --retriever "$RUNS/retriever/best" --output "$RUNS/retrieval_test.json"
stage 5 train-generator "$PY" train.py generator -c configs/generator_lean4.json --run-dir "$RUNS/generator" \
  data.root="$BENCH" data.split="$SPLIT" retriever="$RUNS/retriever/best"
stage 6 prove         "$PY" -m reprover.cli prove --data "$BENCH" --split "$SPLIT" --subset test --env lean \
  --generator "$RUNS/generator/best" --retriever "$RUNS/retriever/best" --num-workers "$WORKERS" \
  --num-gpus "$GPUS" --output "$RUNS/pass1_test.json"
echo "$(date -Is) finished: $RUNS/retrieval_test.json, $RUNS/pass1_test.json"
