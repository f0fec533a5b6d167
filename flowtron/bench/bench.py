"""Ours vs NVIDIA/flowtron on the same weights: free-running inference (mel frames/s) and a training step.

    python bench/bench.py [--official /path/to/flowtron] [--config configs/ljs.json | --tiny]
                          [--device auto|cpu|cuda] [--frames N] [--text-len L] [--batch B] [--repeats R]
                          [--precision fp32|bf16|fp16] [--threads T] [--results bench/RESULTS.md] [--json report.json]

Both models are built at the same sizes and the official one gets our random weights (``load_state_dict``: same
key names; the zero-initialised output convs are randomised first so the flows are not the identity). Inference =
``N`` frames (400 by default, the issue's setting) from one z with the gate disabled (threshold 1.0) so both
produce exactly ``N`` frames; the outputs are compared before timing (max abs difference printed). Training step
= forward + the Flowtron loss (NLL + gate + attention CTC) + backward + RAdam step on a padded batch. Timings
alternate ours/official (``ninerepro.timing.median_seconds``, CUDA-synchronised). Ratios above 1 mean ours is faster.

The official code runs unmodified; on CPU two things are patched from outside at run time: its
``get_mask_from_lengths`` (which allocates a CUDA tensor) and ``torch.cuda.FloatTensor`` (its inference zero
frame). Its "Hitting gate limit" print is silenced.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shlex
import sys
from pathlib import Path
from types import ModuleType

import torch

from flowtron.config import FlowtronConfig, ModelConfig
from flowtron.loss import flowtron_losses
from flowtron.model import Flowtron
from ninerepro import envinfo
from ninerepro.bench_report import BenchFigure, BenchReport, results_markdown
from ninerepro.timing import median_seconds
from ninerepro.train import load_config
from ninerepro.train.precision import autocast, make_grad_scaler

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASELINE = "official NVIDIA/flowtron"
TINY = dict(n_speakers=3, n_speaker_dim=16, n_text_dim=32, n_attn_channels=24, n_hidden=48)


def load_official(path: Path, cfg: ModelConfig, device: torch.device) -> tuple[ModuleType, torch.nn.Module]:
    if not (path / "flowtron.py").is_file():
        raise SystemExit(f"bench: --official {path} holds no NVIDIA/flowtron flowtron.py; pass the clone")
    sys.path.insert(0, str(path))
    ours_pkg = {k: sys.modules.pop(k) for k in list(sys.modules) if k == "flowtron" or k.startswith("flowtron.")}
    try:
        import flowtron as official  # the official module exists only at run time
    finally:
        sys.path.remove(str(path))
        official_module = sys.modules.pop("flowtron")
        sys.modules.update(ours_pkg)
    if device.type == "cpu":
        def cpu_mask(lengths: torch.Tensor) -> torch.Tensor:
            return torch.arange(int(lengths.max()), device=lengths.device)[None, :] < lengths[:, None]

        official_module.get_mask_from_lengths = cpu_mask
        torch.cuda.FloatTensor = lambda *s: torch.zeros(*s)  # type: ignore[assignment,misc]
    return official, official.Flowtron(**{k: getattr(cfg, k) for k in cfg.__dataclass_fields__}).to(device)


def randomise_output_convs(model: Flowtron) -> None:
    with torch.no_grad():
        for flow in model.flows:
            step = getattr(flow, "ar_step", flow)
            step.conv.weight.normal_(0, 0.02)
            step.conv.bias.normal_(0, 0.02)


def make_batch(cfg: ModelConfig, batch: int, frames: int, text_len: int, device: torch.device) -> dict:
    g = torch.Generator().manual_seed(0)
    in_lens = torch.tensor([max(2, text_len - 3 * i) for i in range(batch)])
    out_lens = torch.tensor([max(4, frames - 10 * i) for i in range(batch)])
    text = torch.zeros(batch, text_len, dtype=torch.long)
    mel = torch.zeros(batch, cfg.n_mel_channels, frames)
    gate = torch.zeros(batch, frames)
    for b in range(batch):
        text[b, : in_lens[b]] = torch.randint(1, cfg.n_text, (int(in_lens[b]),), generator=g)
        mel[b, :, : out_lens[b]] = torch.randn(cfg.n_mel_channels, int(out_lens[b]), generator=g) - 5
        gate[b, out_lens[b] - 1:] = 1
    spk = torch.randint(0, cfg.n_speakers, (batch,), generator=g)
    z = torch.randn(1, cfg.n_mel_channels, frames, generator=g) * 0.5
    return {k: v.to(device) for k, v in dict(text=text, in_lens=in_lens, out_lens=out_lens, mel=mel, gate=gate,
                                             spk=spk, z=z).items()}


def inference_fn(model, x: dict, official: bool, precision: str, device: torch.device):
    text, spk = x["text"][:1, : int(x["in_lens"][0])], x["spk"][:1]

    @torch.no_grad()
    def run() -> torch.Tensor:
        model.eval()
        with autocast(precision, device), contextlib.redirect_stdout(io.StringIO()):
            if official:
                return model.infer(x["z"], spk[:, None], text, gate_threshold=1.0)[0]
            return model.infer(x["z"], spk, text, gate_threshold=1.0)[0]

    return run


def train_step_fn(model, x: dict, official: bool, precision: str, device: torch.device, official_mod):
    opt = torch.optim.RAdam(model.parameters(), lr=1e-4, weight_decay=1e-6)
    scaler = make_grad_scaler(precision, device)
    criterion = official_mod.FlowtronLoss(1.0, False, True, True, 0.01, -8) if official else None

    def step() -> float:
        model.train()
        with autocast(precision, device):
            out = model(x["mel"], x["spk"], x["text"], x["in_lens"], x["out_lens"])
            if official:
                nll, gate, ctc = criterion(out, x["gate"], x["in_lens"], x["out_lens"])
            else:
                losses = flowtron_losses(out, x["gate"], x["in_lens"], x["out_lens"])
                nll, gate, ctc = losses.nll, losses.gate, losses.ctc
            loss = (nll + gate + 0.01 * ctc).sum()
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return float(loss.detach())

    return step


def main(argv: list[str] | None = None) -> BenchReport:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--official", type=Path, help="a clone of NVIDIA/flowtron (omit: time ours only)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--config", default=str(ROOT / "configs" / "ljs.json"))
    p.add_argument("--tiny", action="store_true", help="the parity fixture's sizes (seconds on a CPU)")
    p.add_argument("--frames", type=int, default=None, help="inference frames (default 400; 100 on CPU)")
    p.add_argument("--text-len", type=int, default=40)
    p.add_argument("--batch", type=int, default=None, help="training batch (default 2 on CPU, 6 on CUDA)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default 1 on CPU: a shared box)")
    p.add_argument("--results", type=Path, help="append a markdown section to this file")
    p.add_argument("--json", type=Path, help="write a ninerepro.bench_report JSON here")
    args = p.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench: --device cuda but no CUDA device is visible; use --device cpu")
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    if args.precision == "fp16" and device.type == "cpu":
        raise SystemExit("bench: fp16 autocast needs CUDA; use --precision bf16 on a CPU")
    frames = args.frames or (400 if device.type == "cuda" or args.tiny else 100)
    batch = args.batch or (6 if device.type == "cuda" else 2)
    threads = args.threads or (1 if device.type == "cpu" else torch.get_num_threads())
    torch.set_num_threads(threads)
    cfg = ModelConfig(**TINY) if args.tiny else load_config(FlowtronConfig, args.config).model
    torch.manual_seed(0)
    ours = Flowtron(cfg).to(device)
    randomise_output_convs(ours)
    models, official_mod = {"ours": ours}, None
    if args.official:
        official_mod, models["official"] = load_official(args.official.resolve(), cfg, device)
        models["official"].load_state_dict(ours.state_dict())
    x = make_batch(cfg, batch, frames, min(args.text_len, frames // 2), device)
    infer = {k: inference_fn(m, x, k == "official", args.precision, device) for k, m in models.items()}
    diff = None
    if official_mod is not None:
        a, b = infer["ours"](), infer["official"]()
        diff = float((a.float() - b.float()).abs().max())
        print(f"inference output, ours vs official: shapes {tuple(a.shape)} {tuple(b.shape)}, max abs diff {diff:.2e}")
    t_inf = median_seconds(infer, device, repeats=args.repeats, warmup=1)
    train = {k: train_step_fn(m, x, k == "official", args.precision, device, official_mod)
             for k, m in models.items()}
    t_train = median_seconds(train, device, repeats=args.repeats, warmup=1)
    official_source = f"{args.official} @ {envinfo.git_hash(args.official)}" if args.official else None
    name = "tiny" if args.tiny else Path(args.config).name
    report = BenchReport("flowtron", envinfo.device_name(str(device)), official_source=official_source,
                         settings={"config": name, "batch": batch, "frames": frames, "precision": args.precision,
                                   "repeats": args.repeats, "threads": threads, "inference_max_abs_diff": diff})
    report.add(BenchFigure(f"inference ({name}, {frames} frames, {args.precision})", "frames/s",
                           frames / t_inf["ours"], frames / t_inf["official"] if "official" in t_inf else None,
                           higher_is_better=True, target=3.0, baseline=BASELINE))
    report.add(BenchFigure(f"training step ({name}, batch {batch}, {frames} frames, {args.precision})", "s",
                           t_train["ours"], t_train.get("official"), higher_is_better=False, target=1.0,
                           baseline=BASELINE))
    for f in report.figures:
        ratio = "" if f.ratio is None else f"  ratio {f.ratio:.2f}x (target {f.target:g}x)"
        off = "" if f.official is None else f"  official {f.official:.4g}"
        print(f"{f.name}: ours {f.ours:.4g} {f.unit}{off}{ratio}")
    command = "python bench/bench.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    if args.results:
        title = f"{name} · batch {batch} · {frames} frames · {args.precision} · {threads} thread(s)"
        notes = [] if diff is None else [f"Inference outputs, ours vs official: max abs difference {diff:.2e}."]
        with open(args.results, "a", encoding="utf-8") as fh:
            fh.write(results_markdown(report, envinfo.describe(str(device)), command, title, notes))
    if args.json:
        report.write(args.json)
    return report


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore::SyntaxWarning")
    main()
