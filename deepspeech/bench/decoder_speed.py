"""Decoding speed: flashlight-text vs our reference prefix beam search, same posteriors, same LM.

    python bench/decoder_speed.py --checkpoint out/demo-deepspeech/run \
        --manifest out/demo-deepspeech/manifests/librispeech_test-clean.jsonl \
        --lm out/demo-deepspeech/lm_3gram.arpa [--beams 16,128,500] [--reference-utts 80,20,5]

Posteriors are computed once; each decoder then decodes them in one process on one thread (so the figure
is per core). Speed = audio seconds decoded per second of decoding (x real time). The reference decoder
is slow at wide beams, so it decodes only the first ``--reference-utts`` utterances per beam; top-1
agreement is counted on those, and every difference is explained (objective.explain: the reference's text
has a word outside the lexicon, or one decoder's answer scores higher under the exact objective, so the other
made a search error). alpha/beta are the demo's defaults unless given.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import torch

from deepspeech.data import load_eval_utterances
from deepspeech.decoding import DecoderSpec, build_decoder
from deepspeech.evaluate import posteriors_of, score
from deepspeech.infer import Transcriber
from deepspeech.lm_files import arpa_unigrams
from deepspeech.ngram import NGramLM
from deepspeech.objective import explain
from repro import envinfo


def _time(decoder, posts) -> tuple[list[str], float]:
    start = time.perf_counter()
    texts = [decoder.decode(lp) for lp in posts]
    return texts, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--lm", required=True)
    p.add_argument("--beams", default="16,128,500")
    p.add_argument("--reference-utts", default="80,20,5", help="utterances the reference decodes, per beam")
    p.add_argument("--alpha", type=float, default=0.5)
    p.add_argument("--beta", type=float, default=3.0)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    t = Transcriber.from_checkpoint(args.checkpoint)
    utts = load_eval_utterances(args.manifest, t.vocab)
    t.model.eval()
    posts = posteriors_of(t.model, t.cfg, utts)
    seconds = [u.duration for u in utts]
    refs = [u.text for u in utts]
    load_before = envinfo.load_average()
    lm = NGramLM.load(args.lm)
    lexicon = {w.lower() for w, _ in arpa_unigrams(args.lm)}
    print("| beam | flashlight x real time (utts) | reference x real time (utts) | speed-up | same top-1 | "
          "WER flashlight / reference (on the reference's utts) | differences explained |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for beam, n_ref in zip(map(int, args.beams.split(",")), map(int, args.reference_utts.split(","))):
        spec = DecoderSpec(t.cfg.model.vocab, args.lm, "flashlight", beam, args.alpha, args.beta, 40, 0.99)
        fl_texts, fl_s = _time(build_decoder(spec), posts)
        ref_dec = build_decoder(DecoderSpec(**{**spec.__dict__, "kind": "reference"}))
        ref_texts, ref_s = _time(ref_dec, posts[:n_ref])
        fl_rt, ref_rt = sum(seconds) / fl_s, sum(seconds[:n_ref]) / ref_s
        same = sum(a == b for a, b in zip(fl_texts, ref_texts))
        w_fl = score(refs[:n_ref], fl_texts[:n_ref])["wer"]
        w_ref = score(refs[:n_ref], ref_texts)["wer"]
        reasons = Counter(explain(lp, a, b, t.vocab, lm, args.alpha, args.beta, lexicon).reason
                          for lp, a, b in zip(posts, fl_texts, ref_texts) if a != b)
        why = ", ".join(f"{k} {v}" for k, v in reasons.most_common()) or "-"
        print(f"| {beam} | {fl_rt:.0f}x ({len(posts)}) | {ref_rt:.2f}x ({n_ref}) | {fl_rt / ref_rt:.0f}x | "
              f"{same}/{n_ref} | {w_fl:.3f} / {w_ref:.3f} | {why} |", flush=True)
    env = envinfo.describe("cpu")
    print(f"\n{env['device']}; load average {load_before} before, {envinfo.load_average()} after; torch "
          f"{env['torch']}, git {env['git']}, {env['date']}; {len(posts)} utterances, {sum(seconds):.0f} s of audio")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
