#!/usr/bin/env bash
# AISHELL-1 (178 h Mandarin) Deep Speech 2 recipe: numbered, restartable stages; each writes a .done marker.
# Usage (from deepspeech/): make reproduce LANG=cmn [STAGE=n]   (env: PY, DATA, RUN, NGPU, STAGE, WORKERS)
# Expected cost (derived, not measured): stage 1 downloads 15 GB; stage 3 is 20 epochs of 178 h, about 3 GPU-hours
# on one H200 (~1,200 audio-s/s at this model size), a day on one older card; stages 5-6 decode on CPU with the
# pure-Python character-LM beam search in WORKERS processes (see README "Mandarin" for the measured speed).
set -euo pipefail
PY=${PY:-../.venv/bin/python}; DATA=${DATA:-../data}; RUN=${RUN:-../runs/ds2_aishell}
NGPU=${NGPU:-1}; STAGE=${STAGE:-1}; CONFIG=${CONFIG:-configs/ds2_aishell.json}; WORKERS=${WORKERS:-$(nproc)}
BIN=$(dirname "$PY"); M=$DATA/manifests; DEVICE=$( ((NGPU > 0)) && echo cuda || echo cpu)
mkdir -p "$RUN"
log() { echo "$(date '+%F %T') [stage $1] $2"; }
stage() { # stage N NAME COMMAND...: run unless before STAGE or already done
  local n=$1 name=$2; shift 2
  if (( n < STAGE )) || [[ -f $RUN/.stage$n.done ]]; then log "$n" "$name: skipped"; return; fi
  log "$n" "$name"; "$@"; touch "$RUN/.stage$n.done"
}
train() { # re-running resumes from the newest checkpoint in $RUN/train
  local launcher=("$PY"); (( NGPU > 1 )) && launcher=("$PY" -m torch.distributed.run --nproc_per_node="$NGPU")
  "${launcher[@]}" -m deepspeech.mandarin.train -c "$CONFIG" --run-dir "$RUN/train" \
    model.vocab="file:$M/aishell_vocab.txt" data.train_manifest="$M/aishell_train.jsonl" \
    data.val_manifest="$M/aishell_dev.jsonl"; }
tune() { # alpha/beta on 2,000 dev utterances (the whole 14,326 would take the Python decoder too long)
  head -n 2000 "$M/aishell_dev.jsonl" > "$RUN/dev_tune.jsonl"
  "$BIN/deepspeech-tune" --lang cmn --manifest "$RUN/dev_tune.jsonl" --checkpoint "$RUN/train" --lm "$RUN/lm_char5.arpa" \
    --beam 64 --alphas 0.5,1,1.5,2,2.5 --betas 0,1,2,3,5 --workers "$WORKERS" --device "$DEVICE" | tee "$RUN/tune.txt"; }
evaluate() {
  "$BIN/deepspeech-eval" --lang cmn --manifest "$M/aishell_test.jsonl" --checkpoint "$RUN/train" --device "$DEVICE" \
    --report "$RUN/eval_test_greedy.json" | tee "$RUN/eval_test_greedy.txt"
  read -r A B < <(sed -n 's/^best: alpha=\([^ ]*\) beta=\([^ ]*\).*/\1 \2/p' "$RUN/tune.txt")
  "$BIN/deepspeech-eval" --lang cmn --manifest "$M/aishell_test.jsonl" --checkpoint "$RUN/train" --device "$DEVICE" \
    --lm "$RUN/lm_char5.arpa" --alpha "$A" --beta "$B" --beam 64 --workers "$WORKERS" \
    --report "$RUN/eval_test_lm.json" | tee "$RUN/eval_test_lm.txt"; }
stage 1 "download (md5-checked, resumable) + unpack + manifests + vocabulary" "$PY" -m deepspeech.mandarin.aishell --root "$DATA"
stage 2 "character 5-gram LM from the training transcripts (DS2 §3.8)" "$PY" -m deepspeech.mandarin.lm \
  --manifest "$M/aishell_train.jsonl" --order 5 --out "$RUN/lm_char5.arpa"
stage 3 "train DS2 (Mandarin characters) on $NGPU GPU(s)" train
stage 4 "alpha/beta grid search on dev (CER)" tune
stage 5 "evaluate test, greedy and character LM (CER)" evaluate
log 6 "done: results in $RUN/eval_test_*.txt"
