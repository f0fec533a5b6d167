"""Scoring vocoded audio against the real recordings: STOI (``pystoi``), MCD and log-spectral distance.

STOI (short-time objective intelligibility, Taal et al. 2011) correlates the short-time envelopes of
one-third-octave bands of the two signals: about 0.95 for Griffin-Lim from a good mel, near 0.4 for noise
with roughly the right loudness. It says whether the words survive; MCD and LSD (``ninerepro.metrics``) say how
close the spectra are.

Used by the demo and by the recipe's last stage (``python -m waveglow.cli score``). Vocoded audio from a mel
of the real clip is sample-aligned with it (the mel has 1 + T // hop frames and the vocoder returns
frames * hop samples, cut back to T), so both distances compare frame t with frame t; no DTW is needed.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import torch

from ninerepro.atomic import atomic_write_text
from ninerepro.audio import TacotronSTFT, load_wav
from ninerepro.metrics import lsd, mcd, mel_cepstrum_from_mel
from ninerepro.viz import markdown_table
from waveglow.config import WaveGlowDataConfig, WaveGlowModelConfig
from waveglow.data import build_mel_extractor
from waveglow.infer import expand_inputs

log = logging.getLogger(__name__)


def stoi_score(real: torch.Tensor, fake: torch.Tensor, sampling_rate: int) -> float:
    """STOI of ``fake`` against ``real`` ([T] each, same length), in [0, 1]; higher is more intelligible."""
    from pystoi import stoi

    return float(stoi(real.double().numpy(), fake.double().numpy(), sampling_rate, extended=False))


def distances(extractor: TacotronSTFT, real: torch.Tensor, fake: torch.Tensor,
              sampling_rate: int | None = None) -> dict[str, float]:
    """MCD (dB, 13 mel-cepstra without c0), LSD (dB, STFT magnitude) and, given ``sampling_rate``, STOI of
    ``fake`` against ``real`` ([T])."""
    fake = fake[: len(real)].clamp(-1, 1)
    if len(fake) < len(real):
        fake = torch.nn.functional.pad(fake, (0, len(real) - len(fake)))
    with torch.no_grad():
        mel_real, mel_fake = extractor.mel_spectrogram(real), extractor.mel_spectrogram(fake)
        spec_real = extractor.stft_fn.magnitude_frames(real).T  # [bins, frames]
        spec_fake = extractor.stft_fn.magnitude_frames(fake).T
    scores = {
        "mcd_db": mcd(mel_cepstrum_from_mel(mel_real.numpy()), mel_cepstrum_from_mel(mel_fake.numpy())),
        "lsd_db": lsd(spec_real.numpy(), spec_fake.numpy(), power=False),
    }
    if sampling_rate is not None:
        scores["stoi"] = stoi_score(real, fake, sampling_rate)
    return scores


def score_folder(references: list[Path], synth_dir: Path, data: WaveGlowDataConfig) -> list[dict]:
    """Per-clip distances of ``synth_dir/<stem>.wav`` against each reference wav (a missing one is an error)."""
    extractor = build_mel_extractor(data, WaveGlowModelConfig())
    rows = []
    for ref in references:
        fake_path = synth_dir / f"{ref.stem}.wav"
        if not fake_path.is_file():
            raise FileNotFoundError(f"{fake_path}: no synthesised audio for reference {ref}; run the synthesis stage")
        real, _ = load_wav(ref, sr=data.sampling_rate)
        fake, _ = load_wav(fake_path, sr=data.sampling_rate)
        rows.append({"clip": ref.stem, **distances(extractor, torch.from_numpy(real), torch.from_numpy(fake),
                                                   data.sampling_rate)})
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m waveglow.cli score -f TEST_FILELIST -s SYNTH_DIR -o report.md``."""
    p = argparse.ArgumentParser(prog="waveglow score", description="STOI/MCD/LSD of vocoded wavs vs the real ones.")
    p.add_argument("-f", "--files", nargs="+", required=True, help="reference wavs or filelists of them")
    p.add_argument("-s", "--synth-dir", type=Path, required=True, help="folder with <stem>.wav per reference")
    p.add_argument("-o", "--output", type=Path, required=True, help="report (.md); a .json beside it")
    p.add_argument("--title", default="WaveGlow copy synthesis vs real audio")
    args = p.parse_args(argv)
    rows = score_folder(expand_inputs(args.files), args.synth_dir, WaveGlowDataConfig())
    means = {k: float(np.mean([r[k] for r in rows])) for k in ("stoi", "mcd_db", "lsd_db")}
    table = markdown_table([{"clips": len(rows), **means}], ["clips", "stoi", "mcd_db", "lsd_db"])
    atomic_write_text(args.output, f"# {args.title}\n\n{table}\n\nPer clip: {args.output.with_suffix('.json').name}\n")
    atomic_write_text(args.output.with_suffix(".json"), json.dumps({"mean": means, "clips": rows}, indent=2) + "\n")
    print(table)
    return 0
