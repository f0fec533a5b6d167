"""Ours vs NVIDIA/mellotron on the same weights: a teacher-forced training step and free-running inference.

    python bench/bench.py [--official /path/to/mellotron] [--config configs/mellotron.json | --tiny]
                          [--device auto|cpu|cuda] [--batch B] [--frames N] [--repeats R]
                          [--precision fp32|bf16|fp16] [--threads T] [--results bench/RESULTS.md] [--json report.json]

Both models are built at the same sizes and the official one gets our random weights (``load_state_dict``: the
key names are the same). Training step = forward + Tacotron 2 loss + backward + Adam step on one batch of ``B``
utterances of decreasing length (longest ``N`` frames), with the official always-on prenet dropout in both.
Inference = ``N`` free-running frames of one utterance (gate threshold 1.1, so both decode exactly ``N`` steps),
prenet dropout off in both; before timing, both outputs are compared (max abs difference printed). Timings
alternate ours/official (``ninerepro.timing.median_seconds``, CUDA-synchronised). Ratios above 1 mean ours is faster.

The official code runs unmodified; on CPU three things are patched from outside at run time: its
``get_mask_from_lengths`` (which allocates a CUDA tensor) by a CPU one, ``torch.Tensor.cuda`` by a no-op, and its
module-level ``drop_rate`` (0 for the inference comparison). Its ``hparams.py`` imports TensorFlow, so its
hparams are a namespace of our config's values (the same names).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import shlex
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import torch

from mellotron.config import MellotronConfig, MellotronModelConfig
from mellotron.model import Mellotron
from ninerepro import envinfo
from ninerepro.bench_report import BenchFigure, BenchReport, results_markdown
from ninerepro.timing import median_seconds
from ninerepro.train import load_config
from ninerepro.train.config import from_dict
from ninerepro.train.precision import autocast, make_grad_scaler
from ninerepro.tts.loss import gate_targets, tacotron2_loss

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TINY_HPARAMS = ROOT / "tests" / "fixtures" / "official_tiny_hparams.json"
BASELINE = "official NVIDIA/mellotron"


def build_config(args: argparse.Namespace) -> MellotronModelConfig:
    if args.tiny:
        return from_dict(MellotronModelConfig, json.loads(TINY_HPARAMS.read_text()))
    return load_config(MellotronConfig, args.config).model


# ---- the official model, loaded at run time ---------------------------------------------------------------
def load_official(path: Path, cfg: MellotronModelConfig, device: torch.device) -> tuple[ModuleType, torch.nn.Module]:
    """Import the official model.py from ``path`` and build it at ``cfg``'s sizes (patches: module docstring)."""
    if not (path / "model.py").is_file() or not (path / "modules.py").is_file():
        raise SystemExit(f"bench: --official {path} holds no NVIDIA/mellotron model.py/modules.py; pass the clone")
    sys.path.insert(0, str(path))
    import model as official  # the official module exists only at run time

    if device.type == "cpu":
        def cpu_mask(lengths: torch.Tensor) -> torch.Tensor:
            ids = torch.arange(int(lengths.max()), device=lengths.device)
            return ids[None, :] < lengths[:, None]

        official.get_mask_from_lengths = cpu_mask
        torch.Tensor.cuda = lambda self, *a, **k: self  # type: ignore[method-assign]
    hparams = SimpleNamespace(**{k: getattr(cfg, k) for k in cfg.__dataclass_fields__}, fp16_run=False)
    return official, official.Tacotron2(hparams).to(device)


# ---- inputs -----------------------------------------------------------------------------------------------
def make_batch(cfg: MellotronModelConfig, batch: int, frames: int, device: torch.device) -> dict[str, torch.Tensor]:
    """Lengths decrease (the official packs sorted sequences); ~1 symbol per 3 frames; F0 70 % voiced."""
    g = torch.Generator().manual_seed(0)
    mel_lengths = torch.tensor([max(8, frames - i * frames // (5 * max(batch, 1))) for i in range(batch)])
    text_lengths = torch.clamp(mel_lengths // 3, min=4)
    text = torch.zeros(batch, int(text_lengths[0]), dtype=torch.long)
    mel = torch.zeros(batch, cfg.n_mel_channels, frames)
    f0 = torch.zeros(batch, 1, frames)
    for b in range(batch):
        text[b, : text_lengths[b]] = torch.randint(1, cfg.n_symbols, (int(text_lengths[b]),), generator=g)
        mel[b, :, : mel_lengths[b]] = torch.randn(cfg.n_mel_channels, int(mel_lengths[b]), generator=g) - 4
        voiced = torch.rand(int(mel_lengths[b]), generator=g) < 0.7
        f0[b, 0, : mel_lengths[b]] = voiced * (100 + 200 * torch.rand(int(mel_lengths[b]), generator=g))
    speakers = torch.arange(batch) % cfg.n_speakers
    out = {"text": text, "text_lengths": text_lengths, "mel": mel, "mel_lengths": mel_lengths, "f0": f0,
           "speakers": speakers, "gate": gate_targets(mel_lengths, frames)}
    return {k: v.to(device) for k, v in out.items()}


def train_step_fn(model: torch.nn.Module, x: dict[str, torch.Tensor], official: bool, precision: str,
                  device: torch.device):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6)
    scaler = make_grad_scaler(precision, device)
    max_len = int(x["text_lengths"].max())

    def step() -> float:
        model.train()
        with autocast(precision, device):
            if official:
                with contextlib.redirect_stdout(io.StringIO()):  # its encoder prints "here" per utterance
                    out = model((x["text"], x["text_lengths"], x["mel"], max_len, x["mel_lengths"],
                                 x["speakers"], x["f0"]))
            else:
                out = model(x["text"], x["text_lengths"], x["mel"], x["mel_lengths"], x["speakers"], x["f0"])
            loss = tacotron2_loss(out[0].float(), out[1].float(), out[2].float(), x["mel"], x["gate"]).total
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return float(loss.detach())

    return step


def inference_fn(model: torch.nn.Module, x: dict[str, Any], official: bool, precision: str,
                 device: torch.device, frames: int):
    text, ref, spk, f0 = x["text"][:1, : int(x["text_lengths"][0])], x["mel"][:1], x["speakers"][:1], x["f0"][:1]

    @torch.no_grad()
    def run() -> torch.Tensor:
        model.eval()
        with autocast(precision, device):
            if official:
                model.decoder.gate_threshold, model.decoder.max_decoder_steps = 1.1, frames
                with contextlib.redirect_stdout(io.StringIO()):  # its "Reached max decoder steps" print
                    out = model.inference((text, ref, spk, f0))
            else:
                out = model.inference(text, ref, spk, f0, gate_threshold=1.1, max_decoder_steps=frames)
        return out[1]

    return run


# ---- report -----------------------------------------------------------------------------------------------
def results_section(report: BenchReport, env: dict[str, str], command: str, diff: float | None) -> str:
    s = report.settings
    title = (f"{s['config']} · batch {s['batch']} · {s['frames']} frames · {s['precision']} · "
             f"{s['threads']} thread(s)")
    notes = [] if diff is None else [f"Inference outputs, ours vs official: max abs difference {diff:.2e}."]
    return results_markdown(report, env, command, title, notes)


def main(argv: list[str] | None = None) -> BenchReport:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--official", type=Path, help="a clone of NVIDIA/mellotron (omit: time ours only)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--config", default=str(ROOT / "configs" / "mellotron.json"))
    p.add_argument("--tiny", action="store_true", help="the parity fixture's sizes (seconds on a CPU)")
    p.add_argument("--batch", type=int, default=None, help="training batch (default 4 on CPU, 32 on CUDA)")
    p.add_argument("--frames", type=int, default=None, help="mel frames (default 100 on CPU, 400 on CUDA)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads (default 1 on CPU: on a shared box more threads oversubscribe the cores and "
                        "time the contention, not the code)")
    p.add_argument("--results", type=Path, help="append a markdown section to this file")
    p.add_argument("--json", type=Path, help="write a ninerepro.bench_report JSON here")
    args = p.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench: --device cuda but no CUDA device is visible; use --device cpu")
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    if args.precision == "fp16" and device.type == "cpu":
        raise SystemExit("bench: fp16 autocast needs CUDA; use --precision bf16 on a CPU")
    batch = args.batch or (2 if args.tiny else 4 if device.type == "cpu" else 32)
    frames = args.frames or (24 if args.tiny else 100 if device.type == "cpu" else 400)
    if batch < 1 or frames < 8 or args.repeats < 1:
        raise SystemExit("bench: --batch >= 1, --frames >= 8 and --repeats >= 1 are required")
    threads = args.threads or (1 if device.type == "cpu" else torch.get_num_threads())
    torch.set_num_threads(threads)
    logging.getLogger("mellotron.model").setLevel(logging.ERROR)  # "reached max_decoder_steps" is the point here

    cfg = build_config(args)
    torch.manual_seed(0)
    ours = Mellotron(cfg).to(device)
    models = {"ours": ours}
    official_mod = None
    if args.official:
        official_mod, models["official"] = load_official(args.official.resolve(), cfg, device)
        models["official"].load_state_dict(ours.state_dict())
    x = make_batch(cfg, batch, frames, device)

    # inference: deterministic in both, same output first
    ours.prenet_dropout = False
    if official_mod is not None:
        official_mod.drop_rate = 0.0
    infer = {k: inference_fn(m, x, k == "official", args.precision, device, frames) for k, m in models.items()}
    diff = None
    if official_mod is not None:
        a, b = infer["ours"](), infer["official"]()
        diff = float((a.float() - b.float()).abs().max())
        print(f"inference output, ours vs official: shapes {tuple(a.shape)} {tuple(b.shape)}, max abs diff "
              f"{diff:.2e}")
        if a.shape != b.shape:
            raise SystemExit("bench: ours and the official decoded different frame counts; not comparable")
    t_inf = median_seconds(infer, device, repeats=args.repeats, warmup=1)

    # training: the official always-on prenet dropout in both
    ours.prenet_dropout = True
    if official_mod is not None:
        official_mod.drop_rate = 0.5
    train = {k: train_step_fn(m, x, k == "official", args.precision, device) for k, m in models.items()}
    t_train = median_seconds(train, device, repeats=args.repeats, warmup=1)

    official_source = None
    if args.official:
        official_source = f"{args.official} @ {envinfo.git_hash(args.official)}"
    config_name = "tiny" if args.tiny else Path(args.config).name
    report = BenchReport("mellotron", envinfo.device_name(str(device)), official_source=official_source,
                         settings={"config": config_name, "batch": batch, "frames": frames,
                                   "precision": args.precision, "repeats": args.repeats, "threads": threads,
                                   "inference_max_abs_diff": diff})
    report.add(BenchFigure(f"training step ({config_name}, batch {batch}, {frames} frames, {args.precision})",
                           "s", t_train["ours"], t_train.get("official"), higher_is_better=False, target=2.0,
                           baseline=BASELINE))
    report.add(BenchFigure(f"inference ({config_name}, {frames} frames, {args.precision})", "frames/s",
                           frames / t_inf["ours"], frames / t_inf["official"] if "official" in t_inf else None,
                           higher_is_better=True, target=3.0, baseline=BASELINE))
    for f in report.figures:
        ratio = "" if f.ratio is None else f"  ratio {f.ratio:.2f}x (target {f.target:g}x)"
        off = "" if f.official is None else f"  official {f.official:.4g}"
        print(f"{f.name}: ours {f.ours:.4g} {f.unit}{off}{ratio}")
    command = "python bench/bench.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    if args.results:
        with open(args.results, "a", encoding="utf-8") as fh:
            fh.write(results_section(report, envinfo.describe(str(device)), command, diff))
    if args.json:
        report.write(args.json)
    return report


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore::SyntaxWarning")
    main()
