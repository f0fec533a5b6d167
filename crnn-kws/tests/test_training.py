"""Corpus -> windows -> a few training steps -> detector -> evaluation, on a tiny synthetic corpus."""

from __future__ import annotations

import numpy as np
import pytest
from kws_testkit import config

from crnn_kws.data import SplitAudio, WindowDataset
from crnn_kws.detector import Detector
from crnn_kws.evaluate import evaluate_condition
from crnn_kws.train import build_trainer


def test_windows_are_balanced_in_range_and_the_positive_lies_inside(tiny_corpus):
    cfg = config("tiny", f"data.corpus={tiny_corpus}")
    ds = WindowDataset(SplitAudio.load(tiny_corpus, "train", 16000), cfg.data, cfg.features)
    items = [ds[i] for i in range(200)]
    labels = np.array([y for _, y in items])
    assert 0.35 < labels.mean() < 0.65
    assert all(x.shape == (cfg.features.window_samples,) and float(x.abs().max()) <= 1.0 for x, _ in items)


def test_a_few_steps_train_resume_and_the_checkpoint_scores_streams(tiny_corpus, tmp_path):
    cfg = config("tiny", f"data.corpus={tiny_corpus}", "train.max_steps=2")
    state = build_trainer(cfg, tmp_path / "run").fit()
    assert state.step == 2
    more = config("tiny", f"data.corpus={tiny_corpus}", "train.max_steps=3")
    assert build_trainer(more, tmp_path / "run").fit().step == 3  # resumed, not restarted
    det = Detector.from_checkpoint(tmp_path / "run", expect_features=cfg.features)
    test = SplitAudio.load(tiny_corpus, "test", 16000)
    result = evaluate_condition(det, test, 10.0, 30.0, seed=0)
    assert result["positives"] == len(test.positives) and result["negative_hours"] == pytest.approx(30 / 3600, rel=0.05)
    assert len(result["det"]["frr"]) == cfg.eval.n_thresholds
    assert result["frr"] is None or 0.0 <= result["frr"] <= 1.0


def test_the_seed_in_the_config_fixes_the_initial_weights(tiny_corpus, tmp_path):
    """Fresh runs of one config start equal whatever the process drew before; another train.seed starts elsewhere."""
    import torch

    def weights(seed: int, noise: int, run: str) -> dict[str, torch.Tensor]:
        torch.manual_seed(noise)
        trainer = build_trainer(config("tiny", f"data.corpus={tiny_corpus}", f"train.seed={seed}"), tmp_path / run)
        return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}

    a, b, c = weights(0, 1, "a"), weights(0, 2, "b"), weights(1, 1, "c")
    assert all(torch.equal(v, b[k]) for k, v in a.items())
    assert not all(torch.equal(v, c[k]) for k, v in a.items())
