"""Synthesis from mels: ``waveglow-infer -c CKPT -f FILES... -o OUTDIR --sigma 0.6``.

Inputs (``-f``, any mix): mel tensors saved as ``.pt`` / ``.npy`` ([n_mel, frames], natural-log mel as
Tacotron 2 produces it), wav/flac files (their mel is computed with the checkpoint's data settings, for
copy synthesis), or text filelists of such paths (first ``|`` field per line, as in the Tacotron 2 lists).

Mels are sorted by length and synthesised in batches: the shorter mels of a batch are padded with the
log-mel floor (silence) and each output is cut back to ``frames * hop`` samples. The padding reaches the
last few thousand samples of a shorter item through the coupling networks' receptive field, so a batch of
1 is the reference when bit-exact output per file matters. Outputs are 16-bit wavs, clipped to [-1, 1]
(the official script does not clip), written atomically.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from repro.audio import load_wav, save_wav
from repro.audio.mel import LOG_CLAMP
from repro.data.filelists import DataFormatError, numbered_lines
from repro.train.distributed import pick_device
from waveglow.config import WaveGlowConfig, WaveGlowDataConfig
from waveglow.data import build_mel_extractor
from waveglow.model import WaveGlow

log = logging.getLogger(__name__)
WAV_SUFFIXES = {".wav", ".flac"}
MEL_SUFFIXES = {".pt", ".npy"}
SILENCE = math.log(LOG_CLAMP)  # the log-mel value of an empty band: what padded frames hold
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


@dataclass
class Utterance:
    """One thing to synthesise: its output name, its mel [n_mel, frames], and where it came from."""

    name: str
    mel: torch.Tensor
    source: Path


def expand_inputs(files: list[str | os.PathLike]) -> list[Path]:
    """Wav and mel paths from ``files``; any other file is read as a filelist (first ``|`` field)."""
    out: list[Path] = []
    for item in map(Path, files):
        if item.suffix.lower() in WAV_SUFFIXES | MEL_SUFFIXES:
            out.append(item)
            continue
        listed = [Path(line.split("|", 1)[0].strip()) for _, line in numbered_lines(item)]
        for number, path in enumerate(listed, start=1):
            if path.suffix.lower() not in WAV_SUFFIXES | MEL_SUFFIXES:
                raise DataFormatError(f"{item}: entry {number} ({path}) is neither audio ({sorted(WAV_SUFFIXES)}) nor "
                                      f"a mel file ({sorted(MEL_SUFFIXES)})")
        if not listed:
            raise DataFormatError(f"{item}: the filelist is empty; list at least one mel (.pt/.npy) or wav file")
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
    return mel.float()


def collect_inputs(files: list[str | os.PathLike], model: WaveGlow, data: WaveGlowDataConfig) -> list[Utterance]:
    """Every input as a mel on CPU; wavs must be at the checkpoint's sampling rate (no silent resampling)."""
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
        name = path.stem
        if name in seen:
            raise ValueError(f"{path} and {seen[name]} would both be written as {name}.wav; rename one")
        seen[name] = path
        utterances.append(Utterance(name, mel, path))
    return utterances


def pad_batch(mels: list[torch.Tensor]) -> torch.Tensor:
    """[n_mel, F_i] mels -> [B, n_mel, max F], padded with the log-mel floor (silence)."""
    longest = max(m.shape[1] for m in mels)
    batch = torch.full((len(mels), mels[0].shape[0], longest), SILENCE)
    for i, mel in enumerate(mels):
        batch[i, :, : mel.shape[1]] = mel
    return batch


@torch.no_grad()
def synthesize(model: WaveGlow, mels: list[torch.Tensor], sigma: float, *, batch_size: int = 1,
               dtype: torch.dtype = torch.float32, generator: torch.Generator | None = None, denoiser=None,
               denoiser_strength: float = 0.0, progress: bool = False) -> list[np.ndarray]:
    """Audio (float32 numpy, ``frames * hop`` samples each) for every mel, in the input order.

    ``model`` must be prepared for inference (``load_checkpoint`` does that) and on its target device;
    ``denoiser`` is a ``waveglow.denoiser.Denoiser`` applied with ``denoiser_strength`` when that is > 0.
    """
    if not sigma >= 0:
        raise ValueError(f"sigma must be >= 0 (0.6 is the official default), got {sigma}")
    if batch_size < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_size}")
    device = next(model.parameters()).device
    hop = model.cfg.upsample_stride
    order = sorted(range(len(mels)), key=lambda i: -mels[i].shape[1])  # similar lengths share a batch
    out: list[np.ndarray | None] = [None] * len(mels)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    for idx in tqdm(batches, desc="waveglow", unit="batch", disable=not progress):
        mel = pad_batch([mels[i] for i in idx]).to(device=device, dtype=dtype)
        audio = model.infer(mel, sigma=sigma, generator=generator)  # [B, max F * hop]
        if denoiser is not None and denoiser_strength > 0:
            audio = denoiser(audio.float(), strength=denoiser_strength)
        audio = audio.float().cpu()
        for row, i in enumerate(idx):
            out[i] = audio[row, : mels[i].shape[1] * hop].numpy()
    return out  # type: ignore[return-value]


def prepare_model(checkpoint: str | os.PathLike, device: torch.device,
                  dtype: torch.dtype) -> tuple[WaveGlow, WaveGlowDataConfig]:
    """Load (our or official format), move and cast; also the data settings the checkpoint was trained with.

    The 1x1-conv inverses stay fp32-accurate (fast.py). The file is read once: ``load_checkpoint`` returns
    the saved config too (for official files, the official data settings).
    """
    from waveglow.checkpoint import load_checkpoint

    if dtype == torch.float16 and device.type != "cuda":
        raise ValueError("--half (fp16) needs a CUDA device; on CPU use --dtype fp32 or --dtype bf16")
    model, cfg = load_checkpoint(checkpoint, device=device, with_config=True)
    return model.to(dtype), (cfg or WaveGlowConfig()).data


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="waveglow-infer", description="Synthesise audio from mels with WaveGlow.")
    p.add_argument("-c", "--checkpoint", required=True, help="our checkpoint or an official NVIDIA one")
    p.add_argument("-f", "--files", nargs="+", required=True,
                   help="mel files (.pt/.npy, [n_mel, frames]), wav files, or filelists of them")
    p.add_argument("-o", "--output-dir", required=True, type=Path, help="folder for the wavs (created)")
    p.add_argument("--sigma", type=float, default=0.6, help="std of z at synthesis (default 0.6; 0 = no noise)")
    p.add_argument("--denoiser-strength", type=float, default=0.0,
                   help="remove the model's bias spectrum (0 = off; 0.01-0.1 typical)")
    p.add_argument("--half", action="store_true", help="fp16 weights and activations (CUDA only)")
    p.add_argument("--dtype", choices=sorted(DTYPES), default=None, help="fp32 (default), fp16 or bf16")
    p.add_argument("--batch-size", type=int, default=1, help="mels synthesised together (default 1)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise z")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; input problems end with one ``error: ...`` line naming the file (exit status 2)."""
    from repro.train.checkpoint import CheckpointError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        return run(args)
    except (ValueError, FileNotFoundError, CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    """Load, read inputs, synthesise, write; raises on bad input (``main`` turns that into a message)."""
    if args.sigma < 0:
        raise ValueError(f"--sigma must be >= 0 (0.6 is the official default), got {args.sigma}")
    if args.denoiser_strength < 0:
        raise ValueError(f"--denoiser-strength must be >= 0, got {args.denoiser_strength}")
    dtype = DTYPES["fp16" if args.half else (args.dtype or "fp32")]
    device = pick_device(args.device)
    model, data = prepare_model(args.checkpoint, device, dtype)
    utterances = collect_inputs(args.files, model, data)
    denoiser = None
    if args.denoiser_strength > 0:
        from waveglow.denoiser import Denoiser

        denoiser = Denoiser(model).to(device)
    generator = torch.Generator(device=device).manual_seed(args.seed)
    start = time.perf_counter()
    audio = synthesize(model, [u.mel for u in utterances], args.sigma, batch_size=args.batch_size, dtype=dtype,
                       generator=generator, denoiser=denoiser, denoiser_strength=args.denoiser_strength,
                       progress=True)
    seconds = time.perf_counter() - start
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for utt, wav in zip(utterances, audio):
        save_wav(args.output_dir / f"{utt.name}.wav", wav, data.sampling_rate)
    n_samples = sum(len(a) for a in audio)
    print(f"wrote {len(audio)} wavs to {args.output_dir}: {n_samples / data.sampling_rate:.1f} s of audio in "
          f"{seconds:.1f} s ({n_samples / seconds / 1000:.0f} kHz)")
    return 0
