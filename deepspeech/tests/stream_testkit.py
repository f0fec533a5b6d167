"""A tiny DS2 trained on tone 'speech' (ds_testkit.tone_utterance), for tests that need real transcripts.

``train_tone_model`` made ``fixtures/tone_tiny.pt`` (see fixtures/README.md); the slow test in
test_streaming.py trains it again from scratch and repeats the streaming checks on the fresh model.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from ds_testkit import tiny_config, tone_utterance

from deepspeech.features import compute_features, make_vocab, pad_features
from deepspeech.loss import ctc_loss
from deepspeech.model import build_model
from ninerepro.atomic import atomic_save
from ninerepro.train.checkpoint import FORMAT, FORMAT_VERSION, versions

LETTERS = "abcde"


def tone_texts(n: int, seed: int) -> list[str]:
    """``n`` phrases of 1-3 words of 1-3 letters from ``LETTERS``."""
    rng = np.random.default_rng(seed)
    return [" ".join("".join(rng.choice(list(LETTERS), rng.integers(1, 4))) for _ in range(rng.integers(1, 4)))
            for _ in range(n)]


def train_tone_model(out: Path, steps: int = 250, seed: int = 0) -> Path:
    """Train the tiny test DS2 (bidirectional GRU 2 x 16) on 48 tone phrases with Adam; save our checkpoint."""
    torch.manual_seed(seed)
    cfg = tiny_config()
    vocab = make_vocab(cfg.model.vocab)
    model = build_model(cfg, len(vocab))
    texts = tone_texts(48, seed)
    feats = [compute_features(tone_utterance(t, i), cfg.features, "ds2") for i, t in enumerate(texts)]
    targets = [vocab.encode(t) for t in texts]
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        idx = rng.choice(len(texts), 8, replace=False)
        x, lengths = pad_features([feats[i] for i in idx])
        loss = ctc_loss(*model(x, lengths), [targets[i] for i in idx]).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions(),
               "model": model.state_dict(), "config": asdict(cfg), "step": steps}
    return atomic_save(out, lambda f: torch.save(payload, f))
