"""Hop-by-hop streaming for the unidirectional CRNN: carried PCEN and GRU state, one 10 ms hop per call.

A bidirectional GRU reads each window backwards too, so it cannot carry state and must rescore the whole
1.5 s window at every decision (``detector.Detector``, the sliding-window form). A forward-only model can
stream: each 10 ms hop adds one mel frame (PCEN with its smoother state carried), every ``stride_t`` frames
the convolution yields one column from its buffer of the last ``kernel_t`` frames, the GRU advances one
step from its carried state, and the dense layer reads a ring buffer of the last T' recurrent outputs.

From a stream's start this equals the window model on the first window exactly (the buffers start with the
"same" padding's zeros; ``flush`` supplies the trailing ones), which a test checks. Later decisions differ
from rescoring each window: the GRU state remembers audio before the window. The mel frame of a hop needs
the samples up to 20 ms after its centre (``lookahead``), so decisions lag the audio by that much.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np
import torch
import torch.nn.functional as F

from crnn_kws.config import KwsConfig
from crnn_kws.features import energies, make_pcen
from crnn_kws.model import CRNN


class StreamingDetector:
    """``push(hop_samples)`` -> the keyword posterior when a decision is due, else None."""

    def __init__(self, model: CRNN, cfg: KwsConfig) -> None:
        if model.recurrent.rnn.bidirectional or cfg.model.rnn != "gru":
            raise ValueError("streaming with carried state needs a unidirectional GRU model "
                             "(configs/arik2017_unidirectional.json); bidirectional models use the sliding window")
        self.model, self.cfg, self.feats = model.eval(), cfg, cfg.features
        self.pcen = make_pcen(cfg.features) if cfg.features.kind == "pcen" else None
        front = model.front
        self.kernel_t, self.stride_t = cfg.model.kernel_t, cfg.model.stride_t
        self.pad_f, (self.pad_before, self.pad_after) = front.pad[:2], front.pad[2:]
        self.steps = front.out_steps
        hop = self.feats.hop
        self.lookahead = -(-(self.feats.n_fft // 2) // hop) * hop  # samples a frame needs past its centre
        self.reset()

    def reset(self) -> None:
        """Start a new stream: zero audio history, fresh smoother, zero GRU state, empty output ring."""
        n_mels = self.feats.n_mels
        self.audio = np.zeros(self.lookahead, dtype=np.float32)  # the samples "before" the stream are silence
        self.smoother: torch.Tensor | None = None
        self.frames: deque[torch.Tensor] = deque([torch.zeros(n_mels)] * self.pad_before, maxlen=self.kernel_t)
        self.seen = self.pad_before  # frames in the conv's (padded) input so far
        self.hidden: torch.Tensor | None = None
        self.outputs: deque[torch.Tensor] = deque(maxlen=self.steps)

    def _mel_frame(self) -> torch.Tensor:
        """Energies [n_mels] of the frame centred ``lookahead`` samples before the newest sample."""
        window = torch.from_numpy(self.audio)  # [2 * lookahead]: the frame's whole STFT window lies inside
        return energies(window, self.feats)[:, self.lookahead // self.feats.hop]

    def _normalise(self, e: torch.Tensor) -> torch.Tensor:
        if self.pcen is None:
            return torch.log(e.clamp_min(1.0))
        previous = e if self.smoother is None else self.smoother
        pair = torch.stack([previous, e], dim=-1)  # PCEN's smoother starts from its first frame: M = previous
        self.smoother = self.pcen.smooth(pair)[:, 1]
        return self.pcen(pair)[:, 1]

    @torch.no_grad()
    def push_frame(self, frame: torch.Tensor) -> float | None:
        """Advance by one feature frame [n_mels]; a posterior once a conv column completes a full ring."""
        self.frames.append(frame)
        self.seen += 1
        if self.seen < self.kernel_t or (self.seen - self.kernel_t) % self.stride_t:
            return None
        x = torch.stack(list(self.frames))[None, None]  # [1, 1, kernel_t, n_mels]
        column = F.relu(self.model.front.conv(F.pad(x, (*self.pad_f, 0, 0))))  # [1, C, 1, F']
        step = column.permute(0, 2, 1, 3).flatten(2)  # [1, 1, C * F']
        out, self.hidden = self.model.recurrent(step, self.hidden)  # [1, 1, N_R]
        self.outputs.append(out[0, 0])
        if len(self.outputs) < self.steps:
            return None
        logits = self.model.classifier(torch.stack(list(self.outputs))[None])  # [1, n_classes]
        return float(torch.softmax(logits.double(), dim=-1)[0, 1])  # float64, as Detector.posteriors

    def flush(self) -> list[float]:
        """The trailing "same" padding: the decisions the last frames still owe."""
        scores = [self.push_frame(torch.zeros(self.feats.n_mels)) for _ in range(self.pad_after)]
        return [s for s in scores if s is not None]

    def push(self, hop: np.ndarray) -> float | None:
        """Advance by one hop of audio (``features.hop`` samples in [-1, 1])."""
        if len(hop) != self.feats.hop:
            raise ValueError(f"push: expected {self.feats.hop} samples per hop, got {len(hop)}")
        self.audio = np.concatenate([self.audio[-(2 * self.lookahead - self.feats.hop):],
                                     np.asarray(hop, dtype=np.float32)])
        if len(self.audio) < 2 * self.lookahead:
            return None
        return self.push_frame(self._normalise(self._mel_frame()))

    def scores(self, wav: np.ndarray) -> np.ndarray:
        """Posteriors of a whole stream, hop by hop (a fresh stream each call)."""
        self.reset()
        hop = self.feats.hop
        out = [self.push(wav[i:i + hop]) for i in range(0, len(wav) - hop + 1, hop)]
        return np.array([s for s in out if s is not None], dtype=np.float32)


def time_per_hop_streaming(det: StreamingDetector, seconds: float = 5.0, seed: int = 0) -> dict[str, float]:
    """Mean and 99th-percentile milliseconds per 10 ms hop of carried-state streaming."""
    hop = det.feats.hop
    wav = (np.random.default_rng(seed).standard_normal(int(seconds * det.feats.sample_rate)) * 0.05)
    wav = wav.astype(np.float32)
    det.reset()
    times = []
    for i in range(0, len(wav) - hop + 1, hop):
        start = time.perf_counter()
        det.push(wav[i:i + hop])
        times.append(time.perf_counter() - start)
    ms = 1e3 * np.array(times[len(times) // 10:])  # skip the warm-up tenth
    return {"mean_ms": float(ms.mean()), "p99_ms": float(np.percentile(ms, 99))}
