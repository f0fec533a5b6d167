"""Inference API: a trained checkpoint turned into text.

``Transcriber`` is the one object the CLI, evaluation and the Batch Dispatch server use, so its surface
is kept small and stable: ``from_checkpoint(path, device)``, ``transcribe_batch(wavs) -> list[str]``,
``posteriors(wavs)`` for LM tuning and timings, and ``sample_rate``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from deepspeech.config import DecoderConfig, DeepSpeechConfig
from deepspeech.convert_dsp import load_dsp_as_trained, looks_like_dsp, retarget_hint
from deepspeech.decode import greedy_decode
from deepspeech.decoding import DecoderSpec, build_decoder
from deepspeech.features import compute_features, make_vocab, pad_features, prepare_audio
from deepspeech.model import build_model
from ninerepro.train.checkpoint import CheckpointError, find_latest_valid, load_checkpoint, load_model_state
from ninerepro.train.config import ConfigError, from_dict

log = logging.getLogger(__name__)


def load_trained(path: str | os.PathLike) -> tuple[DeepSpeechConfig, dict]:
    """(config, model state) from a checkpoint file or a run folder (its newest valid checkpoint)."""
    p = Path(path)
    if p.is_dir():
        found = find_latest_valid(p)
        if found is None:
            raise CheckpointError(f"{p}: no readable checkpoint (ckpt_*.pt) in this run folder")
        p, state = found
    elif looks_like_dsp(p):  # a deepspeech.pytorch Lightning .ckpt: converted on the fly (convert_dsp.py)
        return load_dsp_as_trained(p)
    else:
        try:
            state = load_checkpoint(p)
        except CheckpointError as e:
            raise CheckpointError(retarget_hint(str(e))) from None
    if not isinstance(state.get("config"), dict) or "model" not in state:
        raise CheckpointError(f"{p}: holds no DeepSpeech config/model; was it written by deepspeech-train?")
    try:
        cfg = from_dict(DeepSpeechConfig, state["config"])
    except (ConfigError, TypeError, ValueError) as e:
        raise CheckpointError(f"{p}: its config is not a DeepSpeech config ({e})") from None
    return cfg, state["model"]


class Transcriber:
    """A model in eval mode plus its feature settings, vocabulary and (optional) LM beam decoder."""

    def __init__(self, model: torch.nn.Module, cfg: DeepSpeechConfig, device: str | torch.device = "cpu",
                 decoder=None) -> None:
        self.cfg = cfg
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.vocab = make_vocab(cfg.model.vocab)
        self.decoder = decoder

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str | torch.device = "cpu",
                        lm_path: str | None = None, decoder_cfg: DecoderConfig | None = None) -> Transcriber:
        """Load a deepspeech-train checkpoint (file or run folder). With ``lm_path`` (ARPA), decode by
        beam search with that LM (``decoder.kind``: flashlight-text by default); ``decoder_cfg``
        overrides the checkpoint's beam/alpha/beta."""
        cfg, state = load_trained(path)
        model = build_model(cfg, len(make_vocab(cfg.model.vocab)))
        load_model_state(model, state, str(path))
        dcfg = decoder_cfg or cfg.decoder
        if lm_path is not None:
            dcfg = replace(dcfg, lm_path=str(lm_path))
        decoder = build_decoder(DecoderSpec.from_config(dcfg, cfg.model.vocab)) if dcfg.lm_path else None
        return cls(model, cfg, device, decoder)

    @property
    def sample_rate(self) -> int:
        return self.cfg.features.sample_rate

    def frame_seconds(self) -> float:
        """Seconds per output frame (10 ms hop times the model's time stride)."""
        probe = torch.tensor([1000])
        stride = 1000 / float(self.model.output_lengths(probe)[0])
        return self.cfg.features.window_stride * stride

    @torch.inference_mode()
    def posteriors(self, wavs: list[np.ndarray], sample_rate: int | None = None,
                   allow_resample: bool = False) -> list[np.ndarray]:
        """Per-utterance CTC log-probabilities [T'_i, C] (float32) for one padded batch."""
        if not wavs:
            return []
        sr = sample_rate or self.sample_rate
        feats = [
            compute_features(prepare_audio(w, sr, self.cfg.features, f"audio #{i}", allow_resample),
                             self.cfg.features, self.cfg.model.arch)
            for i, w in enumerate(wavs)
        ]
        x, lengths = pad_features(feats)
        log_probs, out_lengths = self.model(x.to(self.device), lengths.to(self.device))
        log_probs = log_probs.float().cpu().numpy()
        return [log_probs[i, : int(n)] for i, n in enumerate(out_lengths.cpu())]

    def decode(self, log_probs: np.ndarray) -> str:
        """Text of one utterance's posteriors: LM beam search when a decoder is set, else greedy."""
        if self.decoder is not None:
            return self.decoder.decode(log_probs)
        return greedy_decode(log_probs, self.vocab)

    def transcribe_batch(self, wavs: list[np.ndarray], sample_rate: int | None = None,
                         allow_resample: bool = False) -> list[str]:
        """Transcribe float32 mono waveforms (16 kHz unless ``sample_rate`` says otherwise) in one batch."""
        return [self.decode(lp) for lp in self.posteriors(wavs, sample_rate, allow_resample)]
