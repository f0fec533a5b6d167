"""The CPU demo: synthesise a wake-phrase corpus, train the paper's CRNN for a fixed number of steps, then
report FRR at 0.5 FA/h at 5/10/20 dB, the DET curves, latency per 10 ms hop, ONNX parity and model size.

Every run starts fresh (the output folder is replaced), and training runs a FIXED number of steps
(``configs/demo.json``), so the numbers do not depend on the machine's speed or load. Synthetic eSpeak
speech makes this a smoke test of the whole pipeline, not the paper's number.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import shutil
import time
from pathlib import Path

import torch

from crnn_kws.cli import run_guarded
from crnn_kws.config import KwsConfig
from crnn_kws.corpus import write_corpus
from crnn_kws.data import SplitAudio
from crnn_kws.detector import Detector
from crnn_kws.evaluate import PAPER_ACCURACY, evaluate_condition
from crnn_kws.export import export_onnx
from crnn_kws.latency import latency_report
from crnn_kws.model import build_model, count_parameters
from crnn_kws.streaming import StreamingDetector
from crnn_kws.train import build_trainer
from ninerepro import envinfo
from ninerepro.atomic import atomic_write_text
from ninerepro.train import load_config
from ninerepro.viz import markdown_table, plot_det_curves

log = logging.getLogger(__name__)
CONFIGS = Path(__file__).resolve().parents[2] / "configs"
MARKER = "demo-report.json"
CLAIM = ("the ~230k-parameter CRNN on PCEN features keeps a low FRR at 0.5 false alarms per hour, and its "
         "accuracy falls as the SNR falls (paper: 99.30 / 98.71 / 97.71 % at 20 / 10 / 5 dB)")


def fresh(out: Path) -> None:
    """Replace ``out`` if it is an earlier demo's folder (never a folder this demo did not make)."""
    if out.exists():
        if any(out.iterdir()) and not (out / MARKER).is_file() and not (out / "corpus").is_dir():
            raise FileExistsError(f"{out} exists and is not a demo output folder; pass another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)


def claim_held(results: list[dict]) -> tuple[bool, str]:
    """The claim holds when every SNR has an operating point and accuracy does not rise as SNR falls."""
    if any(r["accuracy"] is None for r in results):
        return False, "no threshold met 0.5 FA/h at some SNR"
    by_snr = sorted(results, key=lambda r: r["snr_db"])
    ordered = all(a["accuracy"] <= b["accuracy"] + 1e-9 for a, b in itertools.pairwise(by_snr))
    return ordered, ("accuracy is ordered by SNR" if ordered else "accuracy is not ordered by SNR")


def report_markdown(rep: dict) -> str:
    rows = [{"SNR (dB)": r["snr_db"], "paper accuracy (%)": PAPER_ACCURACY.get(r["snr_db"]),
             "ours accuracy (%)": None if r["accuracy"] is None else 100 * r["accuracy"],
             "threshold (logit)": r["threshold_logit"], "negatives (h)": r["negative_hours"],
             "positives": r["positives"]}
            for r in rep["conditions"]]
    lat = rep["latency_ms_per_hop"]
    hours, target = rep["conditions"][0]["negative_hours"], rep["target_fa_per_hour"]
    return "\n".join([
        "# crnn-kws demo report", "",
        f"Claim shown: {CLAIM}. Held: **{'yes' if rep['claim_held'] else 'no'}** ({rep['claim_reason']}).", "",
        "Synthetic eSpeak speech makes this a smoke test of the pipeline, not the paper's number: the voices, "
        f"noise and negatives are generated. FA/h resolution: {hours:.2f} h of negatives per SNR, so one alarm is "
        f"{1 / hours:.2f} FA/h and {target:g} FA/h allows {math.floor(target * hours + 1e-9)} alarm(s). "
        "Thresholds come from a grid even on the logit scale (posteriors in float64).", "",
        markdown_table(rows, floatfmt=".2f"), "",
        f"- model: {rep['parameters']:,} parameters, {rep['size_mb_fp32']:.2f} MB fp32; trained "
        f"{rep['train_steps']} steps in {rep['train_seconds']:.0f} s",
        f"- latency per 10 ms hop, one CPU thread: sliding window (bidirectional) "
        f"{lat['sliding_window_bidirectional']['mean_ms']:.3f} ms; carried state (unidirectional, untrained "
        f"weights: cost only) {lat['carried_state_unidirectional']['mean_ms']:.3f} ms mean, "
        f"{lat['carried_state_unidirectional']['p99_ms']:.3f} ms p99",
        f"- ONNX: max |onnxruntime - torch| = {rep['onnx_max_abs_error']:.1e}",
        f"- DET curves: {rep['det_png']}",
        f"- wall time {rep['wall_seconds']:.0f} s; {', '.join(f'{k} {v}' for k, v in rep['environment'].items())}", ""])


def run(out: Path, steps: int | None, negative_minutes: float, n_positive: int, seed: int) -> dict:
    started = time.time()
    fresh(out)
    corpus = write_corpus(out / "corpus", "talk type", n_positive=n_positive, n_confusable=n_positive,
                          n_speech=200, seed=seed)
    overrides = [f"data.corpus={corpus}", f"train.seed={seed}"] + ([f"train.max_steps={steps}"] if steps else [])
    cfg = load_config(KwsConfig, CONFIGS / "demo.json", overrides)
    t0 = time.time()
    trainer = build_trainer(cfg, out / "run")
    state = trainer.fit()
    train_seconds = time.time() - t0
    det = Detector.from_checkpoint(out / "run", expect_features=cfg.features)
    test = SplitAudio.load(corpus, "test", cfg.features.sample_rate)
    conditions = [evaluate_condition(det, test, snr, 60 * negative_minutes, seed) for snr in cfg.eval.snrs_db]
    det_png = plot_det_curves({f"{r['snr_db']:g} dB": (r["det"]["frr"], r["det"]["fa_per_hour"])
                               for r in conditions}, out / "det.png", title="CRNN on synthetic speech (smoke test)",
                              mark_fa_per_hour=cfg.eval.target_fa_per_hour)
    uni_cfg = load_config(KwsConfig, CONFIGS / "arik2017_unidirectional.json")
    latency = latency_report(det, StreamingDetector(build_model(uni_cfg), uni_cfg))
    onnx_err = export_onnx(det.model, cfg.features, out / "crnn.onnx")
    held, reason = claim_held(conditions)
    params = count_parameters(det.model)
    rep = {"claim": CLAIM, "claim_held": held, "claim_reason": reason, "parameters": params,
           "target_fa_per_hour": cfg.eval.target_fa_per_hour,
           "size_mb_fp32": params * 4 / 2**20, "train_steps": state.step, "train_seconds": train_seconds,
           "conditions": [{k: v for k, v in r.items() if k != "det"} for r in conditions],
           "latency_ms_per_hop": latency, "onnx_max_abs_error": onnx_err, "det_png": str(det_png),
           "environment": envinfo.describe("cpu")}
    rep["wall_seconds"] = time.time() - started
    atomic_write_text(out / "det_points.json", json.dumps([r["det"] for r in conditions]) + "\n")
    atomic_write_text(out / "report.md", report_markdown(rep))
    atomic_write_text(out / MARKER, json.dumps(rep, indent=1) + "\n")
    return rep


def _main(argv: list[str] | None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("out/demo-crnn-kws"), help="output folder (replaced)")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: configs/demo.json)")
    p.add_argument("--negative-minutes", type=float, default=120.0,
                   help="keyword-free audio per SNR (120: one alarm = 0.5 FA/h)")
    p.add_argument("--positives", type=int, default=500, help="wake-phrase clips (80 %% train, 20 %% test)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    rep = run(args.out, args.steps, args.negative_minutes, args.positives, args.seed)
    print(report_markdown(rep))
    print(f"demo finished in {rep['wall_seconds']:.0f} s ({rep['wall_seconds'] / 60:.1f} min); "
          f"report in {args.out / 'report.md'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_guarded(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
