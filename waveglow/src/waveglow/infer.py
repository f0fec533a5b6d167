"""Synthesis from mels: ``waveglow-infer -c CKPT -f FILES... -o OUTDIR --sigma 0.6``.

Inputs (``-f``, any mix): mel tensors saved as ``.pt`` / ``.npy`` ([n_mel, frames], natural-log mel as
Tacotron 2 produces it), wav/flac files (their mel is computed with the checkpoint's data settings, for
copy synthesis), or text filelists of such paths (first ``|`` field per line, as in the Tacotron 2 lists).
A filelist may be ``-`` (stdin) or a pipe, as in the official README's ``-f <(ls mels/*.pt)``.

Mels are sorted by length and synthesised in batches. Shorter mels are padded with the log-mel floor and
masked inside the flows (``WaveGlowInference.reverse(..., lengths)``), and each item's noise is drawn on its
own in input order, so every output equals what a batch of 1 gives: the batch size changes the speed only.
Each wav is written atomically (16-bit, clipped to [-1, 1]; the official script does not clip) as soon as
its batch is done, so an interrupted run keeps what it finished and ``--skip-existing`` resumes it.

Official checkpoints carry no audio settings and are assumed to be the published 22050 Hz / fmax 8000
models; ``--sampling-rate``, ``--mel-fmax`` ... or ``--data-config JSON`` set others (with a warning when
they differ from the checkpoint's own), and every wav is written at the rate in use.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ninerepro.audio import load_wav, save_wav
from ninerepro.audio.mel import LOG_CLAMP
from ninerepro.data.filelists import DataFormatError, numbered_lines
from waveglow.config import WaveGlowConfig, WaveGlowDataConfig
from waveglow.data import build_mel_extractor
from waveglow.data_settings import apply_overrides, differences, read_settings_json
from waveglow.inference_model import WaveGlowInference
from waveglow.model import WaveGlow

log = logging.getLogger(__name__)
WAV_SUFFIXES = {".wav", ".flac"}
MEL_SUFFIXES = {".pt", ".npy"}
SILENCE = math.log(LOG_CLAMP)  # the log-mel value of an empty band: what padded frames hold
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
STDIN = "-"


@dataclass
class Utterance:
    """One thing to synthesise: its output name, its mel [n_mel, frames], and where it came from."""

    name: str
    mel: torch.Tensor
    source: Path


def _filelist_lines(item: Path) -> list[str]:
    """Non-blank lines of a filelist: a file, ``-`` (stdin) or a pipe such as ``<(ls mels/*.pt)``."""
    if str(item) == STDIN:
        return [line for line in sys.stdin.read().splitlines() if line.strip()]
    if item.is_file():
        return [line for _, line in numbered_lines(item)]
    if not item.exists():
        raise FileNotFoundError(f"{item}: no such file (expected a mel, a wav or a filelist)")
    try:  # a FIFO or /dev/fd/N from process substitution: readable once, not a regular file
        with open(item, encoding="utf-8") as handle:
            return [line.rstrip("\r\n") for line in handle if line.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise DataFormatError(f"{item}: cannot be read as a filelist ({e})") from None


def expand_inputs(files: list[str | os.PathLike]) -> list[Path]:
    """Wav and mel paths from ``files``; any other file is read as a filelist (first ``|`` field)."""
    out: list[Path] = []
    for item in map(Path, files):
        if item.suffix.lower() in WAV_SUFFIXES | MEL_SUFFIXES:
            out.append(item)
            continue
        listed = [Path(line.split("|", 1)[0].strip()) for line in _filelist_lines(item)]
        name = "stdin" if str(item) == STDIN else str(item)
        for number, path in enumerate(listed, start=1):
            if path.suffix.lower() not in WAV_SUFFIXES | MEL_SUFFIXES:
                raise DataFormatError(f"{name}: entry {number} ({path}) is neither audio ({sorted(WAV_SUFFIXES)}) nor "
                                      f"a mel file ({sorted(MEL_SUFFIXES)})")
        if not listed:
            raise DataFormatError(f"{name}: the filelist is empty; list at least one mel (.pt/.npy) or wav file")
        out.extend(listed)
    if not out:
        raise ValueError("no inputs: pass mel files, wav files or filelists with -f")
    return out


def load_mel_file(path: Path, n_mel: int) -> torch.Tensor:
    """A saved mel as float32 [n_mel, frames]; [1, n_mel, frames] is accepted too."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: mel file not found")
    try:
        if path.suffix.lower() == ".npy":
            mel = torch.from_numpy(np.load(path, allow_pickle=False))
        else:
            mel = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # numpy and torch raise many types for a corrupt file
        raise DataFormatError(f"{path}: cannot read the mel ({type(e).__name__}: {e})") from None
    if not isinstance(mel, torch.Tensor):
        raise DataFormatError(f"{path}: expected a tensor [n_mel, frames], found a {type(mel).__name__}")
    if mel.dim() == 3 and mel.shape[0] == 1:
        mel = mel[0]
    if mel.dim() != 2 or mel.shape[0] != n_mel:
        hint = " (it looks transposed: save mel.T)" if mel.dim() == 2 and mel.shape[1] == n_mel else ""
        raise DataFormatError(f"{path}: mel has shape {tuple(mel.shape)} but this model needs [{n_mel}, frames]"
                              f"{hint}; compute it with the same mel settings as the vocoder's training data")
    if mel.shape[1] < 1 or not torch.isfinite(mel).all():
        raise DataFormatError(f"{path}: mel has no frames or holds NaN/inf values")
    if not mel.is_floating_point():
        raise DataFormatError(f"{path}: mel has dtype {mel.dtype}; save it as float32")
    return mel.float()


def collect_inputs(files: list[str | os.PathLike], model: WaveGlow | WaveGlowInference,
                   data: WaveGlowDataConfig, name_template: str = "{stem}.wav") -> list[Utterance]:
    """Every input as a mel on CPU; wavs must be at ``data.sampling_rate`` (no silent resampling)."""
    from waveglow.validate import check_mel_values

    extractor = None
    utterances: list[Utterance] = []
    seen: dict[str, Path] = {}
    for path in expand_inputs(files):
        if path.suffix.lower() in WAV_SUFFIXES:
            extractor = extractor or build_mel_extractor(data, model.cfg)
            wav, _ = load_wav(path, sr=data.sampling_rate)
            if len(wav) < data.filter_length // 2 + 1:
                raise DataFormatError(f"{path}: {len(wav)} samples is too short for a mel frame")
            with torch.no_grad():
                mel = extractor.mel_spectrogram(torch.from_numpy(wav))
        else:
            mel = load_mel_file(path, model.cfg.n_mel_channels)
            try:
                check_mel_values(mel)
            except ValueError as e:
                raise DataFormatError(f"{path}: {e}") from None
        name = output_name(name_template, path)
        if name in seen:
            raise ValueError(f"{path} and {seen[name]} would both be written as {name}; rename one")
        seen[name] = path
        utterances.append(Utterance(name, mel, path))
    return utterances


def output_name(template: str, path: Path) -> str:
    """The wav name for ``path``: ``template`` with ``{stem}`` (official inference.py: ``{stem}_synthesis.wav``)."""
    try:
        name = template.format(stem=path.stem)
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(f"--name-template {template!r}: only {{stem}} may be used ({e})") from None
    if not name.endswith(".wav") or "/" in name or name in (".wav", ""):
        raise ValueError(f"--name-template {template!r} must give a file name ending in .wav, e.g. '{{stem}}.wav'")
    return name


def pad_batch(mels: list[torch.Tensor]) -> torch.Tensor:
    """[n_mel, F_i] mels -> [B, n_mel, max F], padded with the log-mel floor (silence)."""
    longest = max(m.shape[1] for m in mels)
    batch = torch.full((len(mels), mels[0].shape[0], longest), SILENCE)
    for i, mel in enumerate(mels):
        batch[i, :, : mel.shape[1]] = mel
    return batch


@torch.no_grad()
def synthesize(model: WaveGlow | WaveGlowInference, mels: list[torch.Tensor], sigma: float, *, batch_size: int = 1,
               dtype: torch.dtype = torch.float32, generator: torch.Generator | None = None, denoiser=None,
               denoiser_strength: float = 0.0, progress: bool = False,
               on_ready: Callable[[int, np.ndarray], None] | None = None) -> list[np.ndarray]:
    """Audio (float32 numpy, ``frames * hop`` samples each) for every mel, in the input order.

    ``model`` is a ``WaveGlow`` (its inference form is built once here) or a ``WaveGlowInference``, on its
    target device. Each item's noise is drawn in input order from ``generator``, and padding is masked, so
    the result does not depend on ``batch_size``. ``denoiser`` (a ``waveglow.denoiser.Denoiser``) is applied
    per item with ``denoiser_strength`` when that is > 0. ``on_ready(index, audio)`` is called for each item
    as soon as its batch is done (the CLI writes the wav there).
    """
    if not sigma >= 0:
        raise ValueError(f"sigma must be >= 0 (0.6 is the official default), got {sigma}")
    if batch_size < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_size}")
    engine = model.for_inference()
    device = engine.weight_ref.device
    cfg = engine.cfg
    groups_per_frame = cfg.upsample_stride // cfg.n_group
    noise = [sigma * torch.randn(cfg.n_group, m.shape[1] * groups_per_frame, generator=generator, device=device)
             for m in mels]  # drawn in input order, whatever the batching
    order = sorted(range(len(mels)), key=lambda i: -mels[i].shape[1])  # similar lengths share a batch
    out: list[np.ndarray | None] = [None] * len(mels)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    for idx in tqdm(batches, desc="waveglow", unit="batch", disable=not progress):
        mel = pad_batch([mels[i] for i in idx]).to(device=device, dtype=dtype)
        z = torch.zeros(len(idx), cfg.n_group, mel.shape[2] * groups_per_frame, device=device)
        for row, i in enumerate(idx):
            z[row, :, : noise[i].shape[1]] = noise[i]
        lengths = [mels[i].shape[1] for i in idx]
        audio = engine.reverse(mel, z.to(dtype), lengths)  # [B, max F * hop]
        for row, i in enumerate(idx):
            item = audio[row : row + 1, : lengths[row] * cfg.upsample_stride].float()
            if denoiser is not None and denoiser_strength > 0:
                item = denoiser(item, strength=denoiser_strength)[:, 0]
            out[i] = item[0].cpu().numpy()
            if on_ready is not None:
                on_ready(i, out[i])
    return out  # type: ignore[return-value]


def prepare_model(checkpoint: str | os.PathLike, device: torch.device,
                  dtype: torch.dtype) -> tuple[WaveGlowInference, WaveGlowDataConfig]:
    """Load (our or official format) as an inference object on ``device`` in ``dtype``, and the data settings.

    The 1x1-conv inverses stay fp32 (inference_model.py). The file is read once: ``load_checkpoint``
    returns the saved config too (for official files, the official data settings).
    """
    from waveglow.checkpoint import load_checkpoint

    if dtype == torch.float16 and device.type != "cuda":
        raise ValueError("--half (fp16) needs a CUDA device; on CPU use --dtype fp32 or --dtype bf16")
    model, cfg = load_checkpoint(checkpoint, device=device, with_config=True)
    return model.for_inference().to(dtype), (cfg or WaveGlowConfig()).data


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="waveglow-infer", description="Synthesise audio from mels with WaveGlow.")
    p.add_argument("-c", "-w", "--checkpoint", required=True,
                   help="our checkpoint or an official NVIDIA one (-w as in the official inference.py)")
    p.add_argument("-f", "--files", nargs="+", required=True,
                   help="mel files (.pt/.npy, [n_mel, frames]), wav files, or filelists of them ('-' = stdin)")
    p.add_argument("-o", "--output-dir", required=True, type=Path, help="folder for the wavs (created)")
    p.add_argument("-s", "--sigma", type=float, default=0.6, help="std of z at synthesis (default 0.6; 0 = no noise)")
    p.add_argument("-d", "--denoiser-strength", type=float, default=0.0,
                   help="remove the model's bias spectrum (0 = off; 0.01-0.1 typical)")
    p.add_argument("--half", "--is_fp16", action="store_true", help="fp16 weights and activations (CUDA only)")
    p.add_argument("--dtype", choices=sorted(DTYPES), default=None, help="fp32 (default), fp16 or bf16")
    p.add_argument("--batch-size", type=int, default=1, help="mels synthesised together (default 1; same output)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise z")
    p.add_argument("--skip-existing", action="store_true", help="leave inputs whose wav already exists")
    p.add_argument("--name-template", default="{stem}.wav",
                   help="output name per input (default '{stem}.wav'; the official script: '{stem}_synthesis.wav')")
    audio = p.add_argument_group("audio settings (official checkpoints assume 22050 Hz, fmax 8000)")
    audio.add_argument("--data-config", type=Path, help="JSON of audio settings: our config, the official "
                       "config.json (data_config) or a flat object")
    audio.add_argument("--sampling-rate", "--sampling_rate", type=int, help="Hz, written into every wav")
    audio.add_argument("--mel-fmin", type=float)
    audio.add_argument("--mel-fmax", type=float)
    audio.add_argument("--filter-length", type=int)
    audio.add_argument("--hop-length", type=int)
    audio.add_argument("--win-length", type=int)
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; any problem ends with one ``error: ...`` line naming the file or option (exit status 2)."""
    from ninerepro.train.checkpoint import CheckpointError
    from waveglow.convert import one_line

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        return run(args)
    except (ValueError, TypeError, OSError, RuntimeError, CheckpointError) as e:
        if args.debug:
            raise
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2


def check_output_dir(folder: Path) -> None:
    """Fail before any work if ``folder`` cannot be created or written (nothing is created here)."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"-o {folder}: exists and is not a folder; choose another output folder")
    parent = folder
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"-o {folder}: {parent} is not a writable folder; choose another output folder")


def data_settings(args: argparse.Namespace, trained: WaveGlowDataConfig, model_cfg) -> WaveGlowDataConfig:
    """The checkpoint's audio settings with ``--data-config`` and the flags applied; warns on differences."""
    overrides = read_settings_json(args.data_config) if args.data_config else {}
    flags = {k: getattr(args, k) for k in ("sampling_rate", "mel_fmin", "mel_fmax", "filter_length", "hop_length",
                                            "win_length")}
    data = apply_overrides(trained, overrides, model_cfg, source=f"--data-config {args.data_config}")
    data = apply_overrides(data, flags, model_cfg, source="audio flags")
    changed = differences(trained, data)
    if changed:
        log.warning("audio settings differ from what the checkpoint says it was trained with (%s); the mels must "
                    "match the vocoder's training data or the audio degrades", "; ".join(changed))
    return data


def run(args: argparse.Namespace) -> int:
    """Check options and output folder, load, read inputs, synthesise, write each wav when ready."""
    from waveglow.checkpoint import resolve_device

    if not args.sigma >= 0:
        raise ValueError(f"--sigma must be >= 0 (0.6 is the official default), got {args.sigma}")
    if not args.denoiser_strength >= 0:
        raise ValueError(f"--denoiser-strength must be >= 0, got {args.denoiser_strength}")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    output_name(args.name_template, Path("x.pt"))
    check_output_dir(args.output_dir)
    dtype = DTYPES["fp16" if args.half else (args.dtype or "fp32")]
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else \
        resolve_device(args.device)
    model, trained = prepare_model(args.checkpoint, device, dtype)
    data = data_settings(args, trained, model.cfg)
    utterances = collect_inputs(args.files, model, data, args.name_template)
    if args.skip_existing:
        before = len(utterances)
        utterances = [u for u in utterances if not (args.output_dir / u.name).exists()]
        log.info("--skip-existing: %d of %d outputs exist already", before - len(utterances), before)
    denoiser = None
    if args.denoiser_strength > 0:
        from waveglow.denoiser import Denoiser

        denoiser = Denoiser(model).to(device)
    generator = torch.Generator(device=device).manual_seed(args.seed)
    args.output_dir.mkdir(parents=True, exist_ok=True)

    def write(i: int, wav: np.ndarray) -> None:
        save_wav(args.output_dir / utterances[i].name, wav, data.sampling_rate)

    start = time.perf_counter()
    audio = synthesize(model, [u.mel for u in utterances], args.sigma, batch_size=args.batch_size, dtype=dtype,
                       generator=generator, denoiser=denoiser, denoiser_strength=args.denoiser_strength,
                       progress=True, on_ready=write)
    seconds = max(time.perf_counter() - start, 1e-9)
    n_samples = sum(len(a) for a in audio)
    print(f"wrote {len(audio)} wavs to {args.output_dir} at {data.sampling_rate} Hz: "
          f"{n_samples / data.sampling_rate:.1f} s of audio in {seconds:.1f} s ({n_samples / seconds / 1000:.0f} kHz)")
    return 0


__all__ = ["Utterance", "collect_inputs", "expand_inputs", "load_mel_file", "main", "pad_batch", "prepare_model",
           "synthesize"]
