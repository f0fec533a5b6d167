"""Ours vs deepspeech.pytorch: training throughput and inference real-time factor at the same size and batch.

    python bench/bench.py [--official /path/to/deepspeech.pytorch] [--config configs/ds2_dsp.json]
                          [--device auto|cpu|cuda] [--batch B] [--seconds S] [--steps N] [--warmup W]
    make bench OFFICIAL=/path/to/deepspeech.pytorch   (from deepspeech/)

Both models get the same padded spectrogram batch ([B, 161, T], utterances of decreasing length so the
packed-sequence paths do real work) and the same random character targets. One training step is forward
+ CTC (sum over utterances, as deepspeech.pytorch) + backward + gradient clipping at 400 + AdamW step;
for deepspeech.pytorch the forward and loss are its own ``training_step``. Throughput = audio seconds in
the batch / median step time. Inference: eval mode, ``torch.inference_mode``, forward only (features
excluded for both); RTF = median forward time / audio seconds (lower is faster). AMP = torch.autocast
(bf16 on CPU; fp16 with GradScaler and bf16 on CUDA) around both models alike. Ratios > 1 mean ours is faster.
Without ``--official`` only ours is timed. Each run is appended to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from deepspeech.config import DeepSpeechConfig
from deepspeech.features import compute_features, make_vocab, pad_features
from deepspeech.loss import ctc_loss
from deepspeech.model import build_model, count_parameters
from deepspeech.serving.loadtest import synthetic_utterance
from ninerepro import envinfo
from ninerepro.atomic import atomic_write_text
from ninerepro.bench_report import BenchFigure, BenchReport
from ninerepro.timing import median_seconds
from ninerepro.train import load_config
from ninerepro.train.precision import autocast, make_grad_scaler

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # dsp_official.py sits beside this script

DEFAULTS = {  # (batch, seconds, steps, warmup, precisions): CPU kept small enough for a shared 2-core box
    "cpu": (2, 1.0, 2, 1, ("fp32", "bf16")),
    "cuda": (32, 8.0, 20, 5, ("fp32", "fp16", "bf16")),
}


@dataclass
class Batch:
    x: torch.Tensor  # [B, F, T] padded features
    lengths: torch.Tensor  # [B] valid frames
    labels: list[list[int]]  # per-utterance character ids (no blank)
    flat_labels: torch.Tensor  # their concatenation, deepspeech.pytorch's target layout
    label_lengths: torch.Tensor  # [B]
    audio_seconds: float  # total audio in the batch


def make_batch(cfg: DeepSpeechConfig, size: int, seconds: float, device: torch.device) -> Batch:
    """``size`` synthetic utterances from ``seconds`` down to ~0.8x that, ~14 characters per second."""
    rng = np.random.default_rng(0)
    n_classes = len(make_vocab(cfg.model.vocab))
    durations = [seconds * (1.0 - 0.2 * i / max(size - 1, 1)) for i in range(size)]
    sr = cfg.features.sample_rate
    feats = [compute_features(synthetic_utterance(d, sr, seed=i), cfg.features, cfg.model.arch)
             for i, d in enumerate(durations)]
    x, lengths = pad_features(feats)
    labels = [rng.integers(1, n_classes, size=max(1, int(14 * d))).tolist() for d in durations]
    flat = torch.tensor([c for seq in labels for c in seq], dtype=torch.int32)
    return Batch(x.to(device), lengths.to(device), labels, flat.to(device),
                 torch.tensor([len(s) for s in labels], dtype=torch.int32, device=device),
                 sum(int(d * sr) for d in durations) / sr)


def train_step(model: torch.nn.Module, loss_fn: Callable[[], torch.Tensor], precision: str,
               device: torch.device) -> Callable[[], None]:
    """forward + loss under autocast, scaled backward, clip 400, AdamW (dsp's default optimiser) step."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1.5e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-5)
    scaler = make_grad_scaler(precision, device)

    def step() -> None:
        model.train()
        optimizer.zero_grad(set_to_none=True)
        with autocast(precision, device):
            loss = loss_fn()
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 400.0)
        scaler.step(optimizer)
        scaler.update()

    return step


def infer_step(model: torch.nn.Module, forward: Callable[[], object], precision: str,
               device: torch.device) -> Callable[[], None]:
    def step() -> None:
        model.eval()
        with torch.inference_mode(), autocast(precision, device):
            forward()

    return step


def time_models(models: dict, batch: Batch, precision: str, device: torch.device, warmup: int,
                steps: int) -> dict[str, tuple[float, float]]:
    """{name: (training audio-seconds per second, inference real-time factor)} at one precision."""
    # ours and the official model take turns call by call, so machine load hits both alike
    train = median_seconds({n: train_step(m, loss_fn, precision, device) for n, (m, loss_fn, _) in models.items()},
                           device, repeats=steps, warmup=warmup)
    infer = median_seconds({n: infer_step(m, fwd, precision, device) for n, (m, _, fwd) in models.items()},
                           device, repeats=steps, warmup=warmup)
    return {n: (batch.audio_seconds / train[n], infer[n] / batch.audio_seconds) for n in models}


def check_mirrorable(cfg: DeepSpeechConfig, config_path: str) -> None:
    """deepspeech.pytorch has one architecture (2 x 32-channel 2D convs, no extra dense layer): refuse
    a config it cannot build, so the comparison is never between two different model sizes."""
    m = cfg.model
    problems = [msg for bad, msg in [
        (m.arch != "ds2", f"model.arch={m.arch!r} (needs 'ds2')"),
        (m.conv != "2d-2", f"model.conv={m.conv!r} (needs '2d-2')"),
        (bool(m.conv_channels) and list(m.conv_channels) != [32, 32],
         f"model.conv_channels={m.conv_channels} (needs [] or [32, 32])"),
        (m.fc_hidden != 0, f"model.fc_hidden={m.fc_hidden} (needs 0)"),
    ] if bad]
    if problems:
        raise SystemExit(f"{config_path}: deepspeech.pytorch cannot build this model: {'; '.join(problems)}. "
                         f"Use configs/ds2_dsp.json or override these keys (e.g. model.conv_channels=[]).")


def build_pair(cfg: DeepSpeechConfig, official: str | None, device: torch.device, batch: Batch):
    """{name: (model, loss_fn, forward)} for ours and, when given, deepspeech.pytorch at the same size."""
    n_classes = len(make_vocab(cfg.model.vocab))
    ours = build_model(cfg, n_classes).to(device)

    def ours_loss() -> torch.Tensor:
        log_probs, out_lengths = ours(batch.x, batch.lengths)
        return ctc_loss(log_probs, out_lengths, batch.labels, reduction="sum").loss

    models = {"ours": (ours, ours_loss, lambda: ours(batch.x, batch.lengths))}
    if official:
        import dsp_official

        check_mirrorable(cfg, "--config")

        m = cfg.model
        theirs = dsp_official.build_official(official, m.rnn_type, m.hidden, m.n_layers, m.bidirectional,
                                             m.lookahead, cfg.features.window_size).to(device)
        models["deepspeech.pytorch"] = (
            theirs,
            lambda: dsp_official.official_train_loss(theirs, batch.x, batch.lengths, batch.flat_labels,
                                                     batch.label_lengths),
            lambda: dsp_official.official_infer(theirs, batch.x, batch.lengths),
        )
    return models


def fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def results_table(rows: list[dict]) -> str:
    lines = ["| precision | ours train (audio s/s) | dsp train (audio s/s) | train ratio | ours RTF | dsp RTF | "
             "inference ratio |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        train_ratio = r["ours_train"] / r["dsp_train"] if r.get("dsp_train") else None
        infer_ratio = r["dsp_rtf"] / r["ours_rtf"] if r.get("dsp_rtf") else None
        lines.append(f"| {r['precision']} | {fmt(r['ours_train'], '.2f')} | {fmt(r.get('dsp_train'), '.2f')} | "
                     f"{fmt(train_ratio, '.2f')}{'x' if train_ratio else ''} | {fmt(r['ours_rtf'], '.4f')} | "
                     f"{fmt(r.get('dsp_rtf'), '.4f')} | {fmt(infer_ratio, '.2f')}{'x' if infer_ratio else ''} |")
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--official", default=None, help="folder of a deepspeech.pytorch clone (omit: ours only)")
    p.add_argument("--config", default=str(HERE.parent / "configs" / "ds2_dsp.json"), help="model size")
    p.add_argument("--device", default="auto", help="auto (cuda when present) / cpu / cuda")
    p.add_argument("--batch", type=int, default=None, help="utterances per batch (cpu 2, cuda 32)")
    p.add_argument("--seconds", type=float, default=None, help="longest utterance in seconds (cpu 1, cuda 8)")
    p.add_argument("--steps", type=int, default=None, help="timed steps (cpu 2, cuda 20)")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps first (cpu 1, cuda 5)")
    p.add_argument("--precisions", default=None, help="comma list of fp32,bf16,fp16 (default per device)")
    p.add_argument("--results", default=str(HERE / "RESULTS.md"), help="markdown file the run is appended to")
    p.add_argument("--json", default=None, help="also write the figures as a ninerepro.bench_report JSON file")
    p.add_argument("overrides", nargs="*", help="config overrides key=value (e.g. model.hidden=256)")
    return p


def main(argv: list[str] | None = None) -> list[dict]:
    args = build_parser().parse_args(argv)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    size, seconds, steps, warmup, precisions = DEFAULTS["cuda" if device.type == "cuda" else "cpu"]
    size, seconds = args.batch or size, args.seconds or seconds
    steps, warmup = args.steps or steps, args.warmup if args.warmup is not None else warmup
    precisions = tuple(args.precisions.split(",")) if args.precisions else precisions
    torch.manual_seed(0)
    cfg = load_config(DeepSpeechConfig, args.config, args.overrides)
    batch = make_batch(cfg, size, seconds, device)
    models = build_pair(cfg, args.official, device, batch)
    params = {name: count_parameters(m[0]) for name, m in models.items()}
    print(f"config {args.config}: parameters " + ", ".join(f"{k} {v / 1e6:.2f} M" for k, v in params.items()))
    rows = []
    for precision in precisions:
        row = {"precision": precision}
        for name, (train_aps, rtf) in time_models(models, batch, precision, device, warmup, steps).items():
            key = "ours" if name == "ours" else "dsp"
            row[f"{key}_train"], row[f"{key}_rtf"] = train_aps, rtf
        rows.append(row)
        print(results_table([row]).splitlines()[-1], flush=True)
    record(args, cfg, device, batch, params, rows, size, steps, warmup)
    if args.json:
        json_report(args, device, rows, size, seconds).write(args.json)
        print(f"figures written to {args.json}")
    return rows


def json_report(args, device: torch.device, rows: list[dict], size: int, seconds: float) -> BenchReport:
    """The table's rows as figures for ``make gpu-check``; training carries the issue's 1.3x target."""
    report = BenchReport("deepspeech", str(device), official_source=args.official,
                         settings={"config": Path(args.config).name, "overrides": args.overrides, "batch": size,
                                   "seconds": seconds})
    for r in rows:
        report.add(BenchFigure(f"training {r['precision']} batch {size}", "audio s/s", r["ours_train"],
                               r.get("dsp_train"), target=1.3, baseline="deepspeech.pytorch"))
        report.add(BenchFigure(f"inference RTF {r['precision']} batch {size}", "RTF", r["ours_rtf"],
                               r.get("dsp_rtf"), higher_is_better=False, baseline="deepspeech.pytorch"))
    return report


def record(args, cfg, device, batch: Batch, params: dict, rows: list[dict], size: int, steps: int,
           warmup: int) -> None:
    """Print the table and append it, with where and how it was measured, to ``--results``."""
    env = envinfo.describe(str(device))
    import dsp_official

    shims = f"; stand-ins for missing imports: {', '.join(dsp_official.SHIMMED)}" if dsp_official.SHIMMED else ""
    m = cfg.model
    block = (f"\n### {env['date']} · {env['device']}\n\n"
             f"torch {env['torch']}, Python {env['python']}, git {env['git']}, 1-min load average at the end "
             f"{env['load']}; config `{Path(args.config).name}` "
             f"({m.conv} conv, {m.n_layers}x{m.hidden} {m.rnn_type}, "
             f"{'bi' if m.bidirectional else 'uni'}directional); parameters "
             + ", ".join(f"{k} {v / 1e6:.2f} M" for k, v in params.items())
             + f"; batch {size} utterances, {batch.audio_seconds:.1f} s of audio, median of {steps} steps "
             f"after {warmup} warm-up, the models taking turns step by step; "
             f"official: {args.official or 'not run'}{shims}.\n\n" + results_table(rows))
    print(block)
    path = Path(args.results)
    head = path.read_text(encoding="utf-8") if path.is_file() else RESULTS_HEADER
    atomic_write_text(path, head + block)
    print(f"appended to {path}")


RESULTS_HEADER = """# deepspeech benchmarks: ours vs deepspeech.pytorch

Written by `make bench OFFICIAL=/path/to/deepspeech.pytorch` (= `python bench/bench.py --official ...`); each
run appends one block. Train = audio seconds per wall second for forward + CTC + backward + clip + AdamW
step (higher is better); RTF = inference forward time / audio seconds (lower is better). Ratios > 1 mean
ours is faster. Method and the stand-ins used to import deepspeech.pytorch: see the docstrings of
`bench/bench.py` and `bench/dsp_official.py`.
"""


if __name__ == "__main__":
    main()
