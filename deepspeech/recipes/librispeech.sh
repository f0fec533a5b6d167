#!/usr/bin/env bash
# LibriSpeech 960 h Deep Speech 2 recipe: numbered, restartable stages; each writes a .done marker.
# Usage (from deepspeech/): make reproduce [STAGE=n]   (env: PY, DATA, RUN, NGPU, STAGE, CONFIG, LM_ORDER, WORKERS)
set -euo pipefail
PY=${PY:-../.venv/bin/python}; DATA=${DATA:-../data}; RUN=${RUN:-../runs/ds2_librispeech}
NGPU=${NGPU:-1}; STAGE=${STAGE:-1}; CONFIG=${CONFIG:-configs/ds2_librispeech.json}
LM_ORDER=${LM_ORDER:-4}; WORKERS=${WORKERS:-$(nproc)}
LM=$RUN/lm_${LM_ORDER}gram.arpa
M=$DATA/manifests
mkdir -p "$RUN"
log() { echo "$(date '+%F %T') [stage $1] $2"; }
stage() { # stage N NAME COMMAND...: run unless before STAGE or already done
  local n=$1 name=$2; shift 2
  if (( n < STAGE )) || [[ -f $RUN/.stage$n.done ]]; then log "$n" "$name: skipped"; return; fi
  log "$n" "$name"; "$@"; touch "$RUN/.stage$n.done"
}
TRAIN_SETS="train-clean-100 train-clean-360 train-other-500"
merge() { cat $(for s in $TRAIN_SETS; do echo "$M/librispeech_$s.jsonl"; done) > "$M/librispeech_train-960.jsonl"
          cat "$M/librispeech_dev-clean.jsonl" "$M/librispeech_dev-other.jsonl" > "$M/librispeech_dev.jsonl"; }
lm() { # modified Kneser-Ney of the LibriSpeech LM corpus (librispeech-lm-norm.txt.gz, OpenSLR 11, ~800 M words):
  # counts stream through sorted files in $RUN/lm_tmp (tens of GB of disk, bounded memory)
  "$PY" -m deepspeech.lm_corpus --root "$DATA"
  mkdir -p "$RUN/lm_tmp"
  # a fixed glibc mmap threshold keeps the resident size flat (see deepspeech/kneser_ney.py)
  MALLOC_MMAP_THRESHOLD_=65536 "$PY" -m deepspeech.ngram --text "$DATA/librispeech-lm/librispeech-lm-norm.txt.gz" --order "$LM_ORDER" \
    --out "$LM" --tmpdir "$RUN/lm_tmp"; }
ckpt() { # the checkpoint with the best dev WER (train/best.pt), else the newest one
  if [[ -f $RUN/train/best.pt ]]; then echo "$RUN/train/best.pt"; else echo "$RUN/train"; fi; }
train() { # re-running resumes from the newest checkpoint in $RUN/train; max_steps = epochs x utterances / global
  # batch (printed at start), so any NGPU trains the config's epochs
  local launcher=("$PY"); (( NGPU > 1 )) && launcher=("$PY" -m torch.distributed.run --nproc_per_node="$NGPU")
  "${launcher[@]}" train.py -c "$CONFIG" --run-dir "$RUN/train" \
    data.train_manifest="$M/librispeech_train-960.jsonl" data.val_manifest="$M/librispeech_dev-clean.jsonl"; }
tune() { deepspeech-tune --manifest "$M/librispeech_dev-other.jsonl" --checkpoint "$(ckpt)" \
    --lm "$LM" --device cuda --workers "$WORKERS" | tee "$RUN/tune.txt"; }
evaluate() {
  for s in test-clean test-other; do
    deepspeech-eval --manifest "$M/librispeech_$s.jsonl" --checkpoint "$(ckpt)" --device cuda \
      --report "$RUN/eval_${s}_greedy.json" | tee "$RUN/eval_${s}_greedy.txt"
    read -r A B < <(sed -n 's/^best: alpha=\([^ ]*\) beta=\([^ ]*\).*/\1 \2/p' "$RUN/tune.txt")
    deepspeech-eval --manifest "$M/librispeech_$s.jsonl" --checkpoint "$(ckpt)" --device cuda \
      --lm "$LM" --alpha "$A" --beta "$B" --beam 500 --workers "$WORKERS" \
      --report "$RUN/eval_${s}_lm.json" | tee "$RUN/eval_${s}_lm.txt"
  done; }
stage 1 "download + manifests (all 7 subsets)" "$PY" -m ninerepro.data.prepare librispeech --root "$DATA" \
  --subsets $TRAIN_SETS dev-clean dev-other test-clean test-other
stage 2 "merge training/dev manifests" merge
stage 3 "${LM_ORDER}-gram LM from the LibriSpeech LM corpus" lm
stage 4 "train DS2 on $NGPU GPU(s)" train
stage 5 "alpha/beta grid search on dev-other" tune
stage 6 "evaluate test-clean/test-other, greedy and LM" evaluate
log 7 "done: results in $RUN/eval_*.txt"
