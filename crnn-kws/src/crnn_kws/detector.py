"""A trained CRNN as a streaming detector: checkpoint -> per-hop keyword posteriors over any length of audio.

This is the sliding-window form that a bidirectional model needs: every ``eval.hop_frames`` frames (80 ms)
the last 1.5 s of audio is featurised and scored afresh, exactly as in training. Checkpoints are checked
against the features the caller expects, so a model trained on log-mel is never fed PCEN.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from crnn_kws.config import FeatureConfig, KwsConfig
from crnn_kws.features import stream_window_features, window_features
from crnn_kws.model import CRNN, build_model
from ninerepro.audio import AudioFileError, load_wav
from ninerepro.train.checkpoint import CheckpointError, find_latest_valid, load_checkpoint, load_model_state
from ninerepro.train.config import ConfigError, from_dict


def read_mono(path: str | os.PathLike, cfg: FeatureConfig, min_samples: int = 0) -> np.ndarray:
    """A mono file at the model's rate; stereo, other rates and too-short clips are refused by name."""
    wav, _ = load_wav(path, cfg.sample_rate, mono=False)  # SampleRateError names the file and the fix
    if wav.shape[1] != 1:
        raise AudioFileError(f"{path}: {wav.shape[1]} channels, but the detector takes mono audio; downmix it "
                             f"first (e.g. `sox {path} -c 1 mono.wav`)")
    if len(wav) < min_samples:
        raise AudioFileError(f"{path}: {len(wav) / cfg.sample_rate:.2f} s is shorter than one "
                             f"{cfg.window_s} s decision window; pad it or use a longer recording")
    return wav[:, 0]


def checkpoint_state(path: str | os.PathLike) -> tuple[Path, dict]:
    """(file, state) of a checkpoint file, or of the newest valid checkpoint in a run folder."""
    p = Path(path)
    if p.is_dir():
        found = find_latest_valid(p)
        if found is None:
            raise CheckpointError(f"{p}: no readable ckpt_*.pt checkpoint in this folder; train first "
                                  "(crnn-kws-train) or pass a checkpoint file")
        return found
    return p, load_checkpoint(p)


def check_features(saved: FeatureConfig, expected: FeatureConfig, source: str) -> None:
    """Refuse a checkpoint trained with other features, listing every differing key."""
    diff = {k: (v, getattr(expected, k)) for k, v in asdict(saved).items() if getattr(expected, k) != v}
    if diff:
        text = ", ".join(f"features.{k}: checkpoint {a!r} vs config {b!r}" for k, (a, b) in diff.items())
        raise CheckpointError(f"{source} was trained with other features ({text}); use the config it was "
                              "trained with (its config.json) or retrain")


class Detector:
    """Scores audio with a CRNN; ``scores(wav)`` gives one keyword posterior per hop."""

    def __init__(self, model: CRNN, cfg: KwsConfig, device: str | torch.device = "cpu") -> None:
        self.cfg, self.device = cfg, torch.device(device)
        self.model = model.to(self.device).eval()

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str = "cpu",
                        expect_features: FeatureConfig | None = None) -> Detector:
        file, state = checkpoint_state(path)
        try:
            cfg = from_dict(KwsConfig, state.get("config") or {})
        except (ConfigError, ValueError) as e:
            raise CheckpointError(f"{file}: its saved config does not load ({e})") from None
        if expect_features is not None:
            check_features(cfg.features, expect_features, str(file))
        model = build_model(cfg)
        load_model_state(model, state["model"], str(file))
        return cls(model, cfg, device)

    @property
    def hop_s(self) -> float:
        """Seconds between decisions."""
        return self.cfg.eval.hop_frames * self.cfg.features.hop_s

    @torch.no_grad()
    def posteriors(self, features: torch.Tensor) -> np.ndarray:
        """Keyword posteriors of features [B, n_mels, n_frames] in float64.

        Softmax in float64: a trained model's posteriors sit within 1e-7 of 1 (logits > 16), where float32
        rounds them all to exactly 1.0 and no threshold can separate them.
        """
        logits = self.model(features.to(self.device)).double()
        return torch.softmax(logits, dim=-1)[:, 1].cpu().numpy()

    def score_windows(self, windows: np.ndarray, batch: int = 256) -> np.ndarray:
        """Keyword posteriors of [n, window_samples] windows (each featurised on its own)."""
        out = [self.posteriors(window_features(torch.from_numpy(np.ascontiguousarray(windows[i:i + batch])),
                                               self.cfg.features)) for i in range(0, len(windows), batch)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float64)

    def scores(self, wav: np.ndarray, batch: int = 256) -> np.ndarray:
        """One posterior per hop over a stream (none when it is shorter than one window).

        Equal to ``score_windows`` of every window (tested), with the stream's STFT frames computed once.
        """
        feats, hop_frames = self.cfg.features, self.cfg.eval.hop_frames
        step = hop_frames * feats.hop
        out = []
        for first in range(0, max(0, (len(wav) - feats.window_samples) // step + 1), batch):
            chunk = wav[first * step:(first + batch - 1) * step + feats.window_samples]
            out.append(self.posteriors(stream_window_features(chunk, feats, hop_frames)))
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float64)
