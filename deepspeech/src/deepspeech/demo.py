"""The CPU demo: synthesise a LibriSpeech-like corpus, train the tiny DS2, decode held-out sentences.

Stages (each skipped when its output exists, so a re-run resumes): corpus (repro.data.synth, several
voices, speeds and background noise; dev/test sentences never appear in training), manifests, an ARPA
3-gram LM from the synthesiser's *training* sentence pool only, training, alpha/beta tuning on dev,
greedy and LM evaluation on test, figures. Results land in ``<out>/results.json`` and are printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from deepspeech.config import DeepSpeechConfig
from deepspeech.data import load_utterances
from deepspeech.decode import BeamSearchDecoder
from deepspeech.evaluate import posteriors_of, score
from deepspeech.infer import Transcriber
from deepspeech.ngram import NGramLM, build_arpa
from deepspeech.train import build_trainer, output_frames_per_second
from repro.atomic import atomic_write_text
from repro.data.datasets.librispeech import prepare_librispeech
from repro.data.synth.cli import build
from repro.data.synth.text_source import librispeech_transcript, sentences
from repro.train import load_config
from repro.viz import plot_alignment, plot_loss_curves

log = logging.getLogger(__name__)
SUBSETS = ("train-clean-100", "dev-clean", "test-clean")


def make_corpus(out: Path, n: int, seed: int) -> dict[str, Path]:
    corpus = out / "LibriSpeech"
    if not corpus.is_dir():
        build("librispeech", corpus, n, seed, workers=2)
    manifests = out / "manifests"
    if not (manifests / "librispeech_test-clean.jsonl").is_file():
        prepare_librispeech(corpus, SUBSETS, manifests)
    return {s: manifests / f"librispeech_{s}.jsonl" for s in SUBSETS}


def make_lm(out: Path) -> Path:
    """3-gram over the synthesiser's training sentence pool (held-out sentences are never in it)."""
    arpa = out / "lm_3gram.arpa"
    if not arpa.is_file():
        text = "\n".join(librispeech_transcript(s).lower() for s in sentences("train"))
        atomic_write_text(out / "lm_text.txt", text + "\n")
        build_arpa(out / "lm_text.txt", arpa, order=3)
    return arpa


def tune(posts: list[np.ndarray], refs: list[str], t: Transcriber, lm: NGramLM, beam: int) -> tuple[float, float]:
    best = (float("inf"), 0.0, 0.0)
    for alpha in (0.5, 1.0):
        for beta in (0.5, 1.5, 3.0):
            dec = BeamSearchDecoder(t.vocab, lm, beam, alpha, beta, 40, 0.99)
            w = score(refs, [dec.decode(lp) for lp in posts])["wer"]
            log.info("dev alpha=%.2f beta=%.2f WER %.4f", alpha, beta, w)
            best = min(best, (w, alpha, beta))
    return best[1], best[2]


def run(out: Path, n: int, seed: int, config: Path, overrides: list[str], beam: int) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    manifests = make_corpus(out, n, seed)
    arpa = make_lm(out)
    cfg = load_config(DeepSpeechConfig, config, [f"data.train_manifest={manifests['train-clean-100']}", *overrides])
    train_start = time.time()
    trainer = build_trainer(cfg, out / "run")
    trainer.fit()
    train_seconds = time.time() - train_start
    t = Transcriber.from_checkpoint(out / "run")
    fps = output_frames_per_second(t.model, t.cfg)
    dev, test = (load_utterances(manifests[s], t.vocab, fps) for s in ("dev-clean", "test-clean"))
    dev_posts, test_posts = posteriors_of(t.model, t.cfg, dev), posteriors_of(t.model, t.cfg, test)
    lm = NGramLM.load(arpa)
    alpha, beta = tune(dev_posts, [u.text for u in dev], t, lm, beam)
    refs = [u.text for u in test]
    greedy = score(refs, [t.decode(lp) for lp in test_posts])
    dec = BeamSearchDecoder(t.vocab, lm, beam, alpha, beta, 40, 0.99)
    with_lm = score(refs, [dec.decode(lp) for lp in test_posts])
    plot_loss_curves(out / "run" / "metrics.jsonl", out / "loss.png", keys=["loss"])
    plot_alignment(np.exp(test_posts[0]).T, out / "posteriorgram.png",
                   title=f"CTC posteriors (classes x frames): {refs[0][:60]}")
    results = {
        "test_utterances": len(test), "train_utterances": n - len(dev) - len(test),
        "greedy": {"wer": greedy["wer"], "cer": greedy["cer"]},
        "lm": {"wer": with_lm["wer"], "cer": with_lm["cer"], "alpha": alpha, "beta": beta, "beam": beam},
        "train_steps": cfg.train.max_steps, "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.time() - started, 1),
        "examples": [{"ref": r["reference"], "greedy": r["hypothesis"]} for r in greedy["utterances"][-3:]],
    }
    atomic_write_text(out / "results.json", json.dumps(results, indent=1))
    return results


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(description="Deep Speech 2 CPU demo on a synthetic LibriSpeech-like corpus.")
    p.add_argument("--out", type=Path, default=Path("out/demo-deepspeech"))
    p.add_argument("--n", type=int, default=400, help="utterances to synthesise (80 %% train, 10 %% dev, 10 %% test)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", type=Path, default=Path(__file__).resolve().parents[2] / "configs" / "tiny.json")
    p.add_argument("--beam", type=int, default=16)
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. train.max_steps=100")
    args = p.parse_args(argv)
    r = run(args.out, args.n, args.seed, args.config, args.overrides, args.beam)
    print(f"held-out test ({r['test_utterances']} utterances, sentences never trained on):")
    print(f"  greedy     CER {r['greedy']['cer']:.3f}  WER {r['greedy']['wer']:.3f}")
    print(f"  beam + LM  CER {r['lm']['cer']:.3f}  WER {r['lm']['wer']:.3f}  (alpha {r['lm']['alpha']}, "
          f"beta {r['lm']['beta']}, beam {r['lm']['beam']})")
    print(f"  trained {r['train_steps']} steps in {r['train_seconds']:.0f} s; whole demo {r['total_seconds']:.0f} s")
    print(f"  figures: {args.out / 'loss.png'}, {args.out / 'posteriorgram.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
