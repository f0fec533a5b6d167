#!/usr/bin/env bash
# Full ReProver recipe on LeanDojo Benchmark 4, in numbered stages (ESPnet style):
#   bash reproduce.sh [--stage N] [--stop-stage M]        (or: make -C leandojo reproduce STAGE=N STOP_STAGE=M)
#   DRY_RUN=1 bash reproduce.sh                            prints every stage's commands, runs and writes nothing
# Environment: PY (python), DATA (data folder, default ../data = <repo>/data, where `make data-leandojo` puts the
# release), SPLIT (random | novel_premises), RUNS (run folder), WORKERS (proving actors), GPUS (default: all seen).
# The script runs from leandojo/, so relative paths (configs/, DATA, RUNS) are relative to leandojo/.
# Each finished stage leaves $RUNS/.done-<N>; rerunning skips finished stages, and training stages resume from
# their newest checkpoint (ninerepro.train). Time and memory: not yet measured (the paper reports ~5 days on one
# A100 80 GB for the generator and ~2 days on 8 V100s for evaluation).
set -euo pipefail
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$SELF")"
PY=${PY:-../.venv/bin/python}
DATA=${DATA:-../data}
SPLIT=${SPLIT:-random}          # random | novel_premises: one model set per split strategy (paper Sec. 6)
RUNS=${RUNS:-runs/reproduce/$SPLIT}
WORKERS=${WORKERS:-8}
GPUS=${GPUS:-$( (nvidia-smi -L 2>/dev/null || true) | wc -l)}
DRY_RUN=${DRY_RUN:-0}
STAGE=1; STOP_STAGE=100
while [[ $# -gt 0 ]]; do
  case $1 in
    --stage) STAGE=$2; shift 2 ;;
    --stop-stage) STOP_STAGE=$2; shift 2 ;;
    -h|--help) sed -n 2,10p "$SELF"; exit 0 ;;
    *) echo "unknown option $1 (use --stage N --stop-stage M)" >&2; exit 2 ;;
  esac
done
BENCH=$DATA/leandojo_benchmark_4   # python -m reprover.data.download --root DATA extracts the release here
RETRIEVER=$RUNS/retriever/best     # train.py exports the best model on validation to <run>/best
GENERATOR=$RUNS/generator/best
GENERATOR_NORET=$RUNS/generator_noret/best
if (( GPUS > 1 )); then             # one DDP process per GPU (ninerepro.train reads the torchrun environment)
  TRAIN=("$PY" -m torch.distributed.run --standalone --nproc_per_node "$GPUS" train.py)
else
  TRAIN=("$PY" train.py)
fi
REPROVER=("$PY" -m reprover.cli)

run() {  # one command: printed shell-quoted after "+ " (the dry-run output), then run unless DRY_RUN=1
  printf '+'; printf ' %q' "$@"; printf '\n'
  if [[ $DRY_RUN != 1 ]]; then "$@"; fi
}

stage() {  # stage <number> <name>: true when this stage should run now
  local n=$1 name=$2
  if (( n < STAGE || n > STOP_STAGE )); then return 1; fi
  if [[ $DRY_RUN != 1 && -f $RUNS/.done-$n ]]; then
    echo "$(date -Is) stage $n ($name): done before, skipping"; return 1
  fi
  echo "$(date -Is) stage $n ($name)"
}

done_stage() { if [[ $DRY_RUN != 1 ]]; then touch "$RUNS/.done-$1"; fi; }

[[ $DRY_RUN == 1 ]] || mkdir -p "$RUNS"

if stage 1 download; then
  run "$PY" -m reprover.data.download --root "$DATA"
  done_stage 1
fi
if stage 2 check-data; then
  run "${REPROVER[@]}" check-data --data "$BENCH"
  done_stage 2
fi
if stage 3 train-retriever; then
  run "${TRAIN[@]}" retriever -c configs/retriever_byt5_small.json --run-dir "$RUNS/retriever" \
    "data.data_path=$BENCH" "data.split=$SPLIT"
  done_stage 3
fi
if stage 4 eval-retrieval; then   # BM25 baseline and ours, test subset, 100 premises per state
  run "${REPROVER[@]}" retrieve-eval --data "$BENCH" --split "$SPLIT" --subset test --retriever bm25 \
    --output "$RUNS/retrieval_bm25_test.json"
  run "${REPROVER[@]}" retrieve-eval --data "$BENCH" --split "$SPLIT" --subset test --retriever "$RETRIEVER" \
    --output "$RUNS/retrieval_test.json"
  done_stage 4
fi
if stage 5 train-generator; then  # retrieval-augmented: premises from the stage-3 retriever
  run "${TRAIN[@]}" generator -c configs/generator_byt5_small.json --run-dir "$RUNS/generator" \
    "data.data_path=$BENCH" "data.split=$SPLIT" "data.retriever=$RETRIEVER"
  done_stage 5
fi
if stage 6 prove; then
  run "${REPROVER[@]}" prove --data "$BENCH" --split "$SPLIT" --subset test --env lean \
    --generator "$GENERATOR" --retriever "$RETRIEVER" --num-workers "$WORKERS" --num-gpus "$GPUS" \
    --output "$RUNS/pass1_test.json"
  done_stage 6
fi
if stage 7 train-generator-noret; then  # the paper's "ReProver w/o retrieval" row
  run "${TRAIN[@]}" generator -c configs/generator_byt5_small.json --run-dir "$RUNS/generator_noret" \
    "data.data_path=$BENCH" "data.split=$SPLIT"
  done_stage 7
fi
if stage 8 prove-noret; then
  run "${REPROVER[@]}" prove --data "$BENCH" --split "$SPLIT" --subset test --env lean \
    --generator "$GENERATOR_NORET" --num-workers "$WORKERS" --num-gpus "$GPUS" \
    --output "$RUNS/pass1_noret_test.json"
  done_stage 8
fi
echo "$(date -Is) finished stages $STAGE..$STOP_STAGE; results in $RUNS/*.json"
