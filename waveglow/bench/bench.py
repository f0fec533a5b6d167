"""Synthesis speed (kHz = output samples per second) and training-step time: ours vs the official WaveGlow.

    python bench/bench.py [--official /path/to/NVIDIA/waveglow] [--config configs/ljs_256.json]
                          [--seconds 10] [--batch-sizes 1 8] [--results bench/RESULTS.md]

Same weights, same mel: the official ``glow.WaveGlow`` is imported at run time from ``--official`` (nothing
of it is copied here), given random weights (its zero-initialised end layers included, so every coupling
does work), saved exactly as the official train.py saves a checkpoint, and loaded into ours through
``waveglow.load_checkpoint`` (the conversion path users take). Both run on one random mel; at sigma 0 their
outputs must agree, which is checked and printed before any timing. Without ``--official`` ours is timed alone.

CPU shim (documented, run time only): the official ``infer`` allocates its noise with
``torch.cuda.FloatTensor`` / ``torch.cuda.HalfTensor``, which fail without a GPU. On CPU, while the official
model runs, those two names are pointed at CPU allocators and restored afterwards; the official source is
not edited. The official model cannot run in bf16 (its noise dtype is chosen from the fp32/fp16 names only),
so bf16 rows are ours alone.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import tempfile
from pathlib import Path

import torch

from ninerepro.atomic import atomic_write_text
from ninerepro.bench_report import BenchFigure, BenchReport
from ninerepro.envinfo import describe
from ninerepro.timing import median_seconds
from ninerepro.train import load_config
from ninerepro.train.distributed import pick_device
from ninerepro.viz import markdown_table
from waveglow import load_checkpoint
from waveglow.config import WaveGlowConfig
from waveglow.convert import convert_official
from waveglow.loss import WaveGlowLoss
from waveglow.model import WaveGlow

HERE = Path(__file__).resolve().parent
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


# ---- the official implementation, imported from the user's clone ----------------------------------------
def import_official(path: Path):
    """The official ``glow`` module from a clone of NVIDIA/waveglow (its folder goes first on sys.path)."""
    if not (path / "glow.py").is_file():
        raise FileNotFoundError(f"{path}/glow.py not found; pass --official the root of a NVIDIA/waveglow clone")
    sys.path.insert(0, str(path))
    return importlib.import_module("glow")


@contextlib.contextmanager
def cpu_noise_shim(device: torch.device):
    """On CPU, let the official ``infer`` allocate its noise (see module docstring); a no-op on CUDA."""
    if device.type == "cuda":
        yield
        return
    saved = {name: getattr(torch.cuda, name) for name in ("FloatTensor", "HalfTensor")}
    torch.cuda.FloatTensor = lambda *size: torch.empty(*size, dtype=torch.float32)  # type: ignore[assignment]
    torch.cuda.HalfTensor = lambda *size: torch.empty(*size, dtype=torch.float16)  # type: ignore[assignment]
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(torch.cuda, name, value)


def official_model(glow, cfg: WaveGlowConfig, seed: int):
    """The official model with every parameter random (end layers included), weight norm on, fp32 CPU."""
    m = cfg.model
    torch.manual_seed(seed)
    model = glow.WaveGlow(m.n_mel_channels, m.n_flows, m.n_group, m.n_early_every, m.n_early_size,
                          {"n_layers": m.wn.n_layers, "n_channels": m.wn.n_channels, "kernel_size": m.wn.kernel_size})
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0, 0.01)
            wn.end.bias.normal_(0, 0.01)
    return model


def save_official_checkpoint(model, folder: Path) -> Path:
    """``{"model": <pickled glow.WaveGlow>, "iteration": 0}``, as the official train.py writes it."""
    path = folder / "official_random.pt"
    torch.save({"model": model, "iteration": 0, "learning_rate": 1e-4}, path)
    return path


# ---- timing -----------------------------------------------------------------------------------------------


def synthesis_rows(ours: WaveGlow, official, mel: torch.Tensor, args, device: torch.device) -> list[dict]:
    """kHz of ours (and the official model) per dtype and batch size, with the ratio ours / official."""
    hop = ours.cfg.upsample_stride
    dtypes = args.dtypes or (["fp32", "fp16", "bf16"] if device.type == "cuda" else ["fp32"])
    rows = []
    for dtype_name in dtypes:
        dtype = DTYPES[dtype_name]
        ours_cast = ours.for_inference().to(dtype)  # the inference object, built once (weights precomputed)
        official_cast = cast_official(official, dtype) if official is not None and dtype_name != "bf16" else None
        for batch in args.batch_sizes:
            spect = mel.expand(batch, -1, -1).contiguous().to(device=device, dtype=dtype)
            n_out = batch * spect.shape[2] * hop
            fns = {"ours": lambda s=spect, m=ours_cast: m.infer(s, sigma=0.6)}
            if official_cast is not None:
                def official_infer(s=spect, m=official_cast):
                    with cpu_noise_shim(device):
                        return m.infer(s, sigma=0.6)

                fns["official"] = official_infer
            with torch.no_grad():  # the two alternate call by call, so machine load hits both alike
                seconds = median_seconds(fns, device, repeats=args.repeats)
            t_ours, t_off = seconds["ours"], seconds.get("official")
            row = {"what": "synthesis", "dtype": dtype_name, "batch": batch, "ours_khz": n_out / t_ours / 1e3,
                   "official_khz": n_out / t_off / 1e3 if t_off else "-",
                   "ratio": t_off / t_ours if t_off else "-"}
            print(row, flush=True)
            rows.append(row)
    if official is not None:
        cast_official(official, torch.float32)
    return rows


def cast_official(official, dtype: torch.dtype):
    """Cast the official model; its cached ``W_inverse`` (a plain attribute, not a buffer) is dropped so the
    next ``infer`` rebuilds it in the new dtype, as a fresh official process would."""
    for conv in official.convinv:
        if hasattr(conv, "W_inverse"):
            del conv.W_inverse
    return official.to(dtype)


def check_same_output(ours: WaveGlow, official, mel: torch.Tensor, device: torch.device) -> float:
    """Max |ours - official| at sigma 0 (no noise) in fp32 on a 1-second mel: the weights really are shared."""
    short = mel[:, :, :86].to(device)
    with torch.no_grad(), cpu_noise_shim(device):
        diff = (ours.infer(short, sigma=0.0) - official.infer(short, sigma=0.0)).abs().max().item()
    return diff


def training_rows(cfg: WaveGlowConfig, checkpoint: Path | None, official_train, args, device) -> list[dict]:
    """Seconds per optimizer step (forward, NLL, backward, Adam) on one fixed batch, fp32."""
    if checkpoint is not None:
        model_cfg, state, _ = convert_official(checkpoint)
        ours = WaveGlow(model_cfg)
        ours.load_state_dict(state)  # weight norm kept: this is the training graph
    else:
        torch.manual_seed(args.seed)
        ours = WaveGlow(cfg.model)
    ours.to(device).train()
    g = torch.Generator().manual_seed(args.seed)
    audio = (0.1 * torch.randn(args.train_batch, args.segment, generator=g)).to(device)
    mel = torch.randn(args.train_batch, cfg.model.n_mel_channels, 1 + args.segment // 256, generator=g).to(device) - 5
    ours_loss = WaveGlowLoss(1.0)
    impls = [("ours", ours, lambda m: ours_loss(m(mel, audio)))]
    if official_train is not None:
        glow, off = official_train
        off_loss = glow.WaveGlowLoss(1.0)
        impls.append(("official", off.to(device).train(), lambda m: off_loss(m((mel, audio)))))
    steps = {}
    for name, model, loss_fn in impls:
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)

        def step(model=model, loss_fn=loss_fn, opt=opt) -> None:
            opt.zero_grad(set_to_none=True)
            loss_fn(model).backward()
            opt.step()

        steps[name] = step
    seconds = median_seconds(steps, device, repeats=args.repeats)
    row = {"what": "train step", "dtype": "fp32", "batch": f"{args.train_batch}x{args.segment}",
           "ours_s": seconds["ours"], "official_s": seconds.get("official", "-"),
           "ratio": seconds["official"] / seconds["ours"] if "official" in seconds else "-"}
    print(row, flush=True)
    return [row]


# ---- reporting --------------------------------------------------------------------------------------------
def run_header(device: torch.device, args, mel_seconds: float, frames: int, with_official: bool,
               extra: dict[str, str]) -> dict:
    """Where and how the numbers were measured: ``ninerepro.envinfo.describe`` plus this run's settings.

    Taken at the end of the run, so the load average says whether other jobs shared the cores meanwhile.
    """
    env = describe(str(device))
    header = {"date": env["date"].split(" ")[0], "machine": env["device"], "torch": env["torch"],
              "python": env["python"], "git": env["git"]}
    if device.type == "cuda":
        header["CUDA"] = str(torch.version.cuda)
    header |= {"config": f"{args.config.name} {' '.join(args.overrides)}".strip(),
               "mel": f"{frames} frames ({mel_seconds:.1f} s)",
               "official": "yes" if with_official else "no (ours alone)", "repeats": args.repeats, **extra,
               "load average at the end": env["load"]}
    return header


def append_results(path: Path, header: dict, synth: list[dict], train: list[dict]) -> None:
    """Append one dated section to RESULTS.md (created with a title if missing), atomically."""
    old = path.read_text(encoding="utf-8") if path.is_file() else "# WaveGlow benchmark results\n"
    lines = [f"\n## {header['date']} · {header['machine']}\n",
             "; ".join(f"{k}: {v}" for k, v in header.items() if k not in ("date", "machine")), "",
             markdown_table(synth, ["what", "dtype", "batch", "ours_khz", "official_khz", "ratio"], floatfmt=".3f"), ""]
    if train:
        columns = ["what", "dtype", "batch", "ours_s", "official_s", "ratio"]
        lines += [markdown_table(train, columns, floatfmt=".3f"), ""]
    atomic_write_text(path, old.rstrip("\n") + "\n" + "\n".join(lines))


def json_report(device: torch.device, args, synth: list[dict], train: list[dict]) -> BenchReport:
    """The same rows as :func:`append_results`, as figures for ``make gpu-check`` (target: 2x official fp16)."""
    report = BenchReport("waveglow", str(device), official_source=str(args.official) if args.official else None,
                         settings={"config": args.config.name, "overrides": args.overrides, "seconds": args.seconds,
                                   "repeats": args.repeats})
    for row in synth:
        official = row["official_khz"] if row["official_khz"] != "-" else None
        report.add(BenchFigure(f"synthesis {row['dtype']} batch {row['batch']}", "kHz", row["ours_khz"], official,
                               target=2.0 if row["dtype"] == "fp16" else None))
    for row in train:
        official = row["official_s"] if row["official_s"] != "-" else None
        report.add(BenchFigure(f"train step {row['dtype']} batch {row['batch']}", "s", row["ours_s"], official,
                               higher_is_better=False))
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--official", type=Path, help="root of a NVIDIA/waveglow clone (omit to time ours alone)")
    p.add_argument("--config", type=Path, default=HERE.parent / "configs" / "ljs_256.json")
    p.add_argument("--seconds", type=float, default=10.0, help="mel length in seconds of audio (default 10)")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    p.add_argument("--dtypes", nargs="+", choices=sorted(DTYPES), help="default: fp32 on CPU, all three on CUDA")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per setting (median reported)")
    p.add_argument("--train-batch", type=int, default=None, help="training batch (default: 12 on CUDA, 1 on CPU)")
    p.add_argument("--segment", type=int, default=16000, help="training crop in samples (default 16000)")
    p.add_argument("--no-train", action="store_true", help="skip the training-step timing")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--results", type=Path, help="append the results to this markdown file (e.g. bench/RESULTS.md)")
    p.add_argument("--json", type=Path, help="also write the figures as a ninerepro.bench_report JSON file")
    p.add_argument("overrides", nargs="*", help="config overrides key=value (e.g. model.wn.n_channels=64)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = pick_device(args.device)
    args.train_batch = args.train_batch or (12 if device.type == "cuda" else 1)
    cfg = load_config(WaveGlowConfig, args.config, args.overrides)
    frames = max(1, round(args.seconds * cfg.data.sampling_rate / cfg.data.hop_length))
    mel = torch.randn(1, cfg.model.n_mel_channels, frames, generator=torch.Generator().manual_seed(args.seed)) - 5
    official = official_train = checkpoint = None
    extra: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.official is not None:
            glow = import_official(args.official)
            checkpoint = save_official_checkpoint(official_model(glow, cfg, args.seed), Path(tmp))
            official = glow.WaveGlow.remove_weightnorm(official_model(glow, cfg, args.seed)).to(device).eval()
            official_train = (glow, official_model(glow, cfg, args.seed)) if not args.no_train else None
            ours = load_checkpoint(checkpoint, device=device)
            diff = check_same_output(ours, official, mel, device)
            print(f"same weights: max |ours - official| at sigma 0 = {diff:.2e}")
            extra["max |ours - official| at sigma 0"] = f"{diff:.1e}"
        else:
            torch.manual_seed(args.seed)
            ours = WaveGlow(cfg.model).to(device).prepare_for_inference()
        synth = synthesis_rows(ours, official, mel.to(device), args, device)
        train = [] if args.no_train else training_rows(cfg, checkpoint, official_train, args, device)
    header = run_header(device, args, frames * cfg.data.hop_length / cfg.data.sampling_rate, frames,
                        official is not None, extra)
    if args.results:
        append_results(args.results, header, synth, train)
        print(f"appended to {args.results}")
    if args.json:
        json_report(device, args, synth, train).write(args.json)
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
