"""Padding never changes a prediction: alone or in a padded batch, an utterance gets the same output."""

from __future__ import annotations

import pytest
import torch
from ds_testkit import tiny_config

from deepspeech.model import build_model

CASES = {
    "ds2 bidirectional gru": [],
    "ds2 unidirectional lstm with row conv": ["model.bidirectional=false", "model.rnn_type=lstm",
                                              "model.lookahead=4"],
    "ds2 1d conv vanilla rnn": ["model.conv=1d-2", "model.conv_channels=[6,6]", "model.rnn_type=rnn"],
    "ds1": ["model.arch=ds1", "features.context=1"],
}


def _features(cfg, lengths):
    torch.manual_seed(1)
    dim = 161 * (2 * cfg.features.context + 1) if cfg.model.arch == "ds1" else 161
    return [torch.randn(dim, n) for n in lengths]


def _pad(feats, total):
    x = torch.full((len(feats), feats[0].shape[0], total), 7.0)  # junk in the padding on purpose
    for i, f in enumerate(feats):
        x[i, :, : f.shape[1]] = f
    return x, torch.tensor([f.shape[1] for f in feats])


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_utterance_decodes_the_same_alone_and_in_a_padded_batch(case):
    cfg = tiny_config(*CASES[case])
    torch.manual_seed(0)
    model = build_model(cfg, 29)
    model.train()
    model(*_pad(_features(cfg, [40, 33]), 40))  # move the BN running statistics off their init
    model.eval()
    feats = _features(cfg, [23, 40, 31])
    alone, n_alone = model(*_pad(feats[:1], 23))
    batch, n_batch = model(*_pad(feats, 40))
    assert n_alone[0] == n_batch[0]
    assert torch.allclose(alone[0, : n_alone[0]], batch[0, : n_batch[0]], atol=1e-5)
    assert alone[0, : n_alone[0]].argmax(-1).tolist() == batch[0, : n_batch[0]].argmax(-1).tolist()


@pytest.mark.parametrize("case", sorted(CASES))
def test_training_mode_batch_statistics_ignore_padded_frames(case):
    cfg = tiny_config(*CASES[case])
    torch.manual_seed(0)
    model = build_model(cfg, 29).train()
    feats = _features(cfg, [30, 21])
    tight, n1 = model(*_pad(feats, 30))
    loose, n2 = model(*_pad(feats, 30 + 17))
    for i in range(2):
        assert torch.allclose(tight[i, : n1[i]], loose[i, : n2[i]], atol=1e-5)
