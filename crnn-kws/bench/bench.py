"""Ours vs a plain PyTorch CRNN (same weights): training throughput and streaming latency, side by side.

    python bench/bench.py [--device auto|cpu|cuda] [--tiny] [--results PATH] [--json PATH]
    make bench DEVICE=cuda   (from crnn-kws/; writes out/bench/crnn-kws.json)

Training: the paper's model (configs/arik2017.json) on a batch of PCEN features, forward + cross-entropy +
backward + Adam, ours (crnn_kws.model.CRNN) and the baseline (bench/plain_crnn.py, an nn.Sequential with copies
of our weights, checked equal first) in alternation through ninerepro.timing.median_seconds; fp32, plus bf16
autocast on CUDA. Throughput = windows per second. Streaming: 1 s of audio hop by hop; ours is the
unidirectional model with carried PCEN/GRU state (crnn_kws.streaming), the baseline rescores the whole 1.5 s
window of the same unidirectional model at every 80 ms decision (features included for both), ms per 10 ms
hop. Ratios > 1 mean ours is better. The paper has no official code, so the baseline stands in for it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # plain_crnn.py sits beside this script

from plain_crnn import from_ours  # noqa: E402

from crnn_kws.config import KwsConfig  # noqa: E402
from crnn_kws.features import sliding_windows, window_features  # noqa: E402
from crnn_kws.model import build_model, count_parameters  # noqa: E402
from crnn_kws.streaming import StreamingDetector  # noqa: E402
from ninerepro import envinfo  # noqa: E402
from ninerepro.atomic import atomic_write_text  # noqa: E402
from ninerepro.bench_report import BenchFigure, BenchReport  # noqa: E402
from ninerepro.timing import median_seconds  # noqa: E402
from ninerepro.train import load_config  # noqa: E402
from ninerepro.train.precision import autocast  # noqa: E402

CONFIGS = HERE.parent / "configs"
BASELINE = "plain PyTorch CRNN"
SETTINGS = {  # (config, batch, stream seconds, repeats, warmup)
    "tiny": ("tiny", 4, 0.6, 1, 1),
    "cpu": ("arik2017", 64, 1.0, 5, 1),
    "cuda": ("arik2017", 256, 1.0, 20, 5),
}


def train_fn(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, precision: str):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with autocast(precision, x.device):
            logits = model(x)
        torch.nn.functional.cross_entropy(logits.float(), y).backward()
        opt.step()

    return step


def time_training(cfg: KwsConfig, batch: int, precision: str, device: torch.device, repeats: int,
                  warmup: int) -> dict[str, float]:
    """{ours, baseline: windows per second} for one training step on the same batch."""
    torch.manual_seed(0)
    ours = build_model(cfg).to(device)
    plain = from_ours(ours)
    x = torch.rand(batch, cfg.features.n_mels, cfg.features.n_frames, device=device) * 2
    with torch.no_grad():
        torch.testing.assert_close(plain(x), ours(x), rtol=1e-4, atol=1e-5)  # same function before timing
    y = torch.randint(0, 2, (batch,), device=device)
    t = median_seconds({"ours": train_fn(ours, x, y, precision), "baseline": train_fn(plain, x, y, precision)},
                       device, repeats=repeats, warmup=warmup)
    return {k: batch / v for k, v in t.items()}


def time_streaming(cfg: KwsConfig, seconds: float, device: torch.device, repeats: int,
                   warmup: int) -> dict[str, float]:
    """{ours, baseline: ms per 10 ms hop} over ``seconds`` of audio after one window of warm history."""
    torch.manual_seed(0)
    model = build_model(cfg).eval()  # streaming runs on the CPU host loop; the model stays on CPU
    plain = from_ours(model).eval()
    feats, hop = cfg.features, cfg.features.hop
    wav = (np.random.default_rng(0).standard_normal(feats.window_samples + int(seconds * feats.sample_rate))
           * 0.05).astype(np.float32)
    stream = StreamingDetector(model, cfg)

    def ours() -> None:
        stream.reset()
        for i in range(0, len(wav) - hop + 1, hop):
            stream.push(wav[i:i + hop])

    windows = sliding_windows(wav, feats, cfg.eval.hop_frames)

    def baseline() -> None:
        with torch.no_grad():
            for w in windows:
                torch.softmax(plain(window_features(w, feats)), -1)

    t = median_seconds({"ours": ours, "baseline": baseline}, "cpu", repeats=repeats, warmup=warmup)
    total_hops = (len(wav) - hop) // hop + 1
    return {k: 1e3 * v / total_hops for k, v in t.items()}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--tiny", action="store_true", help="a seconds-long run on the tiny config (tests)")
    p.add_argument("--results", default=str(HERE / "RESULTS.md"), help="markdown file the run is appended to")
    p.add_argument("--json", default=None, help="also write a ninerepro.bench_report JSON here")
    return p


def main(argv: list[str] | None = None) -> BenchReport:
    args = build_parser().parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is visible; use --device cpu or auto")
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    name, batch, seconds, repeats, warmup = SETTINGS["tiny" if args.tiny else device.type]
    cfg = load_config(KwsConfig, CONFIGS / f"{name}.json")
    uni = load_config(KwsConfig, CONFIGS / f"{name}.json", ["model.bidirectional=false"])
    env = envinfo.describe(str(device))
    report = BenchReport("crnn-kws", env["device"], settings={
        "config": f"configs/{name}.json", "batch": batch, "stream_seconds": seconds, "repeats": repeats,
        "parameters": count_parameters(build_model(cfg)), **env})
    for precision in ("fp32", "bf16") if device.type == "cuda" else ("fp32",):
        rate = time_training(cfg, batch, precision, device, repeats, warmup)
        report.add(BenchFigure(f"training {precision} batch {batch}", "windows/s", rate["ours"], rate["baseline"],
                               higher_is_better=True, baseline=BASELINE))
    lat = time_streaming(uni, seconds, device, repeats, warmup)
    report.add(BenchFigure("streaming latency per 10 ms hop (CPU host loop)", "ms", lat["ours"], lat["baseline"],
                           higher_is_better=False, baseline=BASELINE,
                           notes="ours: carried GRU/PCEN state; baseline: rescore the window every 80 ms"))
    text = results_block(report)
    print(text)
    path = Path(args.results)
    atomic_write_text(path, (path.read_text(encoding="utf-8") if path.is_file() else "") + text)
    if args.json:
        report.write(args.json)
    return report


def results_block(report: BenchReport) -> str:
    s = report.settings
    lines = [f"\n## {s['date']} · {report.device} · torch {s['torch']} · git {s['git']} · load {s['load']}\n",
             f"{s['config']}, {s['parameters']:,} parameters, batch {s['batch']}, median of {s['repeats']}\n",
             "| figure | unit | ours | plain PyTorch CRNN | ratio (>1 = ours better) |", "|---|---|---:|---:|---:|"]
    for f in report.figures:
        lines.append(f"| {f.name} | {f.unit} | {f.ours:.3f} | {f.official:.3f} | {f.ratio:.2f}x |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
