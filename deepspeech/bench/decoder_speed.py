"""Decoding speed and accuracy: flashlight-text (with and without score pruning) vs our reference decoder.

    OMP_NUM_THREADS=1 python bench/decoder_speed.py --checkpoint out/demo-deepspeech/run \
        --manifest out/demo-deepspeech/manifests/librispeech_test-clean.jsonl \
        --lm out/demo-deepspeech/lm_3gram.arpa [--beams 16,128,500] [--thresholds 0,50,25] \
        [--reference-utts 20,5,2] [--alpha A --beta B] [--json out.json]

Posteriors are computed once; each decoder then decodes them in this one process on one thread, so the figures
are per core. Speed = audio seconds decoded per CPU second of decoding (x real time; CPU time, so that other
jobs on a shared machine do not count against it; wall time is printed beside it).

Table 1, per beam and ``beam_threshold`` (flashlight's score pruning, 0 = off, the exact beam): flashlight's
speed, its WER/CER on all utterances, and how many top-1 texts equal the unpruned (threshold 0) run at the same
beam, so a threshold is judged by whether it changes any answer, not only the WER.

Table 2, per beam: the reference decoder (slow at wide beams, so only the first ``--reference-utts``
utterances) against unpruned flashlight on the same utterances; every difference is explained
(objective.explain: the reference's text has a word outside the lexicon, or one decoder's answer scores
higher under the exact objective, so the other made a search error). ``--reference-utts 0`` skips it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import torch

from deepspeech.data import load_eval_utterances
from deepspeech.decoding import DecoderSpec, build_decoder
from deepspeech.evaluate import posteriors_of, score
from deepspeech.infer import Transcriber
from deepspeech.lm_files import arpa_unigrams
from deepspeech.ngram import NGramLM
from deepspeech.objective import explain
from ninerepro import envinfo
from ninerepro.text.ctc import CharVocab


def timed(decoder, posts) -> tuple[list[str], float, float]:
    """Texts, CPU seconds and wall seconds of decoding ``posts`` one after the other."""
    cpu, wall = time.process_time(), time.perf_counter()
    texts = [decoder.decode(lp) for lp in posts]
    return texts, time.process_time() - cpu, time.perf_counter() - wall


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()]


def threshold_rows(spec: DecoderSpec, posts, seconds: list[float], refs: list[str], beams: list[int],
                   thresholds: list[float]) -> tuple[list[dict], dict[int, list[str]]]:
    """Table 1's rows, and the unpruned texts per beam (threshold 0 is always run first, as the baseline)."""
    thresholds = [0.0] + [t for t in thresholds if t != 0.0]
    rows, exact = [], {}
    audio = sum(seconds)
    for beam in beams:
        for thr in thresholds:
            texts, cpu, wall = timed(build_decoder(DecoderSpec(**{**spec.__dict__, "beam_width": beam,
                                                                  "beam_threshold": thr})), posts)
            if thr == 0.0:
                exact[beam] = texts
            s = score(refs, texts)
            rows.append({"beam": beam, "beam_threshold": thr, "x_real_time_cpu": audio / cpu,
                         "x_real_time_wall": audio / wall, "wer": s["wer"], "cer": s["cer"],
                         "same_as_unpruned": sum(a == b for a, b in zip(texts, exact[beam])), "utts": len(posts)})
    return rows, exact


def reference_rows(spec: DecoderSpec, posts, seconds, refs, exact: dict[int, list[str]], n_refs: list[int],
                   lm: NGramLM, lexicon: set[str], vocab: CharVocab) -> list[dict]:
    """Table 2's rows: the reference on the first n utterances vs unpruned flashlight on the same ones."""
    rows = []
    for (beam, fl_texts), n in zip(exact.items(), n_refs):
        if n <= 0:
            continue
        ref_texts, cpu, _ = timed(build_decoder(DecoderSpec(**{**spec.__dict__, "kind": "reference",
                                                               "beam_width": beam})), posts[:n])
        reasons = Counter(explain(lp, a, b, vocab, lm, spec.alpha, spec.beta, lexicon).reason
                          for lp, a, b in zip(posts, fl_texts, ref_texts) if a != b)
        rows.append({"beam": beam, "utts": n, "x_real_time_cpu": sum(seconds[:n]) / cpu,
                     "same_top1": sum(a == b for a, b in zip(fl_texts, ref_texts)),
                     "wer_flashlight": score(refs[:n], fl_texts[:n])["wer"],
                     "wer_reference": score(refs[:n], ref_texts)["wer"], "reasons": dict(reasons)})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--lm", required=True)
    p.add_argument("--beams", default="16,128,500")
    p.add_argument("--thresholds", default="0,50,25", help="flashlight beam_threshold values (0 = off, always run)")
    p.add_argument("--reference-utts", default="20,5,2", help="utterances the reference decodes, per beam (0: none)")
    p.add_argument("--alpha", type=float, default=0.5)
    p.add_argument("--beta", type=float, default=3.0)
    p.add_argument("--cutoff-prob", type=float, default=0.99)
    p.add_argument("--limit", type=int, default=0, help="decode only the first N utterances (0 = all)")
    p.add_argument("--json", default=None, help="also write the rows here")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    t = Transcriber.from_checkpoint(args.checkpoint)
    utts = load_eval_utterances(args.manifest, t.vocab)
    if args.limit:
        utts = utts[:args.limit]
    t.model.eval()
    posts = posteriors_of(t.model, t.cfg, utts)
    seconds, refs = [u.duration for u in utts], [u.text for u in utts]
    load_before = envinfo.load_average()
    spec = DecoderSpec(t.cfg.model.vocab, args.lm, "flashlight", 16, args.alpha, args.beta, 40, args.cutoff_prob)
    rows, exact = threshold_rows(spec, posts, seconds, refs, _ints(args.beams), _floats(args.thresholds))
    print("| beam | beam_threshold | flashlight x real time, CPU (wall) | WER | CER | same top-1 as unpruned |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['beam']} | {r['beam_threshold']:g} | {r['x_real_time_cpu']:.0f}x ({r['x_real_time_wall']:.0f}x) "
              f"| {r['wer']:.3f} | {r['cer']:.3f} | {r['same_as_unpruned']}/{r['utts']} |", flush=True)
    lm = NGramLM.load(args.lm)
    lexicon = {w.lower() for w, _ in arpa_unigrams(args.lm)}
    ref_rows = reference_rows(spec, posts, seconds, refs, exact, _ints(args.reference_utts), lm, lexicon,
                              t.vocab)
    if ref_rows:
        fl_speed = {r["beam"]: r["x_real_time_cpu"] for r in rows if r["beam_threshold"] == 0.0}
        print("\n| beam | reference x real time, CPU (utts) | unpruned flashlight speed-up | same top-1 | "
              "WER flashlight / reference (those utts) | differences explained |")
        print("|---:|---:|---:|---:|---:|---|")
        for r in ref_rows:
            why = ", ".join(f"{k} {v}" for k, v in Counter(r["reasons"]).most_common()) or "-"
            print(f"| {r['beam']} | {r['x_real_time_cpu']:.2f}x ({r['utts']}) | "
                  f"{fl_speed[r['beam']] / r['x_real_time_cpu']:.0f}x | {r['same_top1']}/{r['utts']} | "
                  f"{r['wer_flashlight']:.3f} / {r['wer_reference']:.3f} | {why} |", flush=True)
    env = envinfo.describe("cpu")
    footer = (f"{env['device']}; load average {load_before} before, {envinfo.load_average()} after; torch "
              f"{env['torch']}, git {env['git']}, {env['date']}; {len(posts)} utterances, {sum(seconds):.0f} s of "
              f"audio; alpha {args.alpha}, beta {args.beta}, cutoff_top_n 40, cutoff_prob {args.cutoff_prob}")
    print("\n" + footer)
    if args.json:
        Path(args.json).write_text(json.dumps({"flashlight": rows, "reference": ref_rows, "env": footer}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
