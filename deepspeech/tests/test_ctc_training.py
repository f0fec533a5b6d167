"""CTC loss with skipped infeasible utterances, SortaGrad ordering, and a short real training run."""

from __future__ import annotations

import numpy as np
import torch
from ds_testkit import tiny_config, tone_utterance

from deepspeech.data import SortaGradSampler, ctc_min_frames
from deepspeech.infer import Transcriber
from deepspeech.loss import ctc_loss
from deepspeech.model import build_model


def test_ctc_min_frames_counts_a_blank_between_repeated_labels():
    assert ctc_min_frames([1, 2, 3]) == 3
    assert ctc_min_frames([1, 1, 2, 2, 2]) == 8


def test_feasible_batches_match_torch_ctc_loss_averaged_per_utterance():
    torch.manual_seed(0)
    lp = torch.randn(2, 12, 5).log_softmax(-1)
    targets = [[1, 2, 2], [3, 4]]
    result = ctc_loss(lp, torch.tensor([12, 9]), targets)
    ref = torch.nn.CTCLoss(blank=0, reduction="sum")(lp.transpose(0, 1), torch.tensor([1, 2, 2, 3, 4]),
                                                    torch.tensor([12, 9]), torch.tensor([3, 2])) / 2
    assert result.skipped == 0 and torch.allclose(result.loss, ref)


def test_an_utterance_too_short_for_its_label_is_skipped_and_counted_not_inf(caplog):
    lp = torch.randn(2, 6, 5, requires_grad=True)
    result = ctc_loss(lp.log_softmax(-1), torch.tensor([6, 3]), [[1, 2], [1, 1, 1]])
    assert result.skipped == 1 and result.kept == 1 and torch.isfinite(result.loss)
    assert "skipped 1 of 2" in caplog.text


def test_a_batch_with_no_feasible_utterance_gives_a_zero_loss_that_still_backpropagates():
    lp = torch.randn(1, 2, 5, requires_grad=True)
    result = ctc_loss(lp.log_softmax(-1), torch.tensor([2]), [[1, 2, 3]])
    result.loss.backward()
    assert result.loss.item() == 0.0 and lp.grad is not None


def test_sortagrad_runs_the_first_epoch_shortest_first_then_shuffles():
    lengths = [50, 10, 40, 20, 30, 60, 5, 45]
    sampler = SortaGradSampler(lengths, 2, sortagrad=True, seed=0, bucket_size_multiplier=1)
    first = [max(lengths[i] for i in b) for b in sampler]
    assert first == sorted(first)
    sampler.set_epoch(1)
    later = [max(lengths[i] for i in b) for b in sampler]
    assert later != sorted(later) and sorted(i for b in sampler for i in b) == list(range(8))


def test_a_few_optimizer_steps_reduce_the_ctc_loss_of_a_small_batch():
    cfg = tiny_config()
    torch.manual_seed(0)
    model = build_model(cfg, 29)
    from deepspeech.features import compute_features, pad_features

    texts = ["ab", "ba"]
    feats = [compute_features(tone_utterance(t, i), cfg.features, "ds2") for i, t in enumerate(texts)]
    x, lengths = pad_features(feats)
    targets = [[3, 4], [4, 3]]  # "ab", "ba" in CharVocab.english()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(12):
        result = ctc_loss(*model(x, lengths), targets)
        opt.zero_grad()
        result.loss.backward()
        opt.step()
        losses.append(result.loss.item())
    assert losses[-1] < 0.6 * losses[0]


def test_a_trained_checkpoint_loads_into_a_transcriber_that_returns_text(trained_checkpoint):
    t = Transcriber.from_checkpoint(trained_checkpoint)
    wavs = [tone_utterance("ab ba", 0), tone_utterance("a", 1)]
    texts = t.transcribe_batch(wavs)
    assert len(texts) == 2 and all(isinstance(s, str) for s in texts)
    alone = t.transcribe_batch(wavs[1:])
    assert alone[0] == texts[1]
    assert (trained_checkpoint / "metrics.jsonl").is_file()
    assert np.isfinite(t.frame_seconds()) and abs(t.frame_seconds() - 0.02) < 1e-9
