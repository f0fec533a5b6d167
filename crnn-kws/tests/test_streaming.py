"""Carried-state streaming equals the window model on a stream's first window; features match offline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from kws_testkit import config

import crnn_kws
from crnn_kws.features import energies, make_pcen, window_features
from crnn_kws.streaming import StreamingDetector, time_per_hop_streaming


def _uni(kind: str = "pcen"):
    cfg = config("tiny", "model.bidirectional=false", f"features.kind={kind}")
    torch.manual_seed(0)
    return cfg, crnn_kws.build_model(cfg).eval()


def test_streaming_frame_by_frame_gives_the_window_models_score_on_the_first_window():
    cfg, model = _uni()
    wav = (np.random.default_rng(0).standard_normal(cfg.features.window_samples) * 0.1).astype(np.float32)
    x = window_features(wav, cfg.features)  # [1, n_mels, n_frames]
    det = StreamingDetector(model, cfg)
    scores = [s for s in (det.push_frame(x[0, :, t]) for t in range(x.shape[-1])) if s is not None] + det.flush()
    assert scores == pytest.approx([float(model.infer(x)[0])], abs=1e-6)


def test_streamed_mel_frames_equal_the_offline_frames_away_from_the_edges():
    cfg, model = _uni("logmel")
    wav = (np.random.default_rng(1).standard_normal(8000) * 0.1).astype(np.float32)
    det = StreamingDetector(model, cfg)
    hop, frames = cfg.features.hop, []
    for i in range(0, len(wav), hop):
        det.audio = np.concatenate([det.audio[-(2 * det.lookahead - hop):], wav[i:i + hop]])
        if len(det.audio) >= 2 * det.lookahead:
            frames.append(det._mel_frame())
    online, offline = torch.stack(frames, -1), energies(torch.from_numpy(wav), cfg.features)
    n = online.shape[-1]
    torch.testing.assert_close(online[:, 2:n - 2], offline[:, 2:n - 2], rtol=1e-4, atol=1e-2)


def test_streamed_pcen_with_a_carried_smoother_equals_pcen_over_the_whole_sequence():
    cfg, model = _uni()
    e = torch.rand(cfg.features.n_mels, 30) * 1e6
    det = StreamingDetector(model, cfg)
    online = torch.stack([det._normalise(e[:, t]) for t in range(30)], -1)
    torch.testing.assert_close(online, make_pcen(cfg.features)(e), rtol=1e-5, atol=1e-5)


def test_a_bidirectional_model_is_refused_with_the_fix():
    cfg = config("tiny")
    with pytest.raises(ValueError, match="unidirectional GRU"):
        StreamingDetector(crnn_kws.build_model(cfg), cfg)


def test_a_stream_gives_one_score_per_conv_stride_once_the_ring_is_full():
    cfg, model = _uni()
    det = StreamingDetector(model, cfg)
    scores = det.scores(np.zeros(2 * cfg.features.window_samples, dtype=np.float32) + 1e-3)
    # 200 frames minus the 2 of lookahead; the first score once 7 conv columns (ring) have been made
    frames = 2 * cfg.features.window_samples // cfg.features.hop - 2
    first = cfg.model.kernel_t - det.pad_before + cfg.model.stride_t * (det.steps - 1)
    assert len(scores) == (frames - first) // cfg.model.stride_t + 1
    assert time_per_hop_streaming(det, 0.5)["mean_ms"] > 0


def test_stream_features_equal_featurising_every_window_on_its_own():
    from crnn_kws.features import sliding_windows, stream_window_features

    for kind in ("pcen", "logmel"):
        cfg = config("tiny", f"features.kind={kind}")
        wav = (np.random.default_rng(2).standard_normal(3 * cfg.features.window_samples + 777) * 0.1).astype(np.float32)
        plain = window_features(sliding_windows(wav, cfg.features, cfg.eval.hop_frames), cfg.features)
        fast = stream_window_features(wav, cfg.features, cfg.eval.hop_frames)
        assert fast.shape == plain.shape and fast.shape[0] == 1 + (len(wav) - cfg.features.window_samples) // 1280
        torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-5)  # edge frames included


def test_detector_scores_of_a_stream_equal_scoring_each_window_in_float64():
    from crnn_kws.detector import Detector
    from crnn_kws.features import sliding_windows

    cfg = config("tiny")
    torch.manual_seed(0)
    det = Detector(crnn_kws.build_model(cfg), cfg)
    wav = (np.random.default_rng(3).standard_normal(5 * cfg.features.window_samples) * 0.1).astype(np.float32)
    fast = det.scores(wav, batch=7)  # several chunks, so chunk boundaries are covered
    plain = det.score_windows(sliding_windows(wav, cfg.features, cfg.eval.hop_frames))
    assert fast.dtype == np.float64 and len(fast) == len(plain) == 1 + (len(wav) - cfg.features.window_samples) // 1280
    np.testing.assert_allclose(fast, plain, atol=1e-6)
    assert len(det.scores(wav[:cfg.features.window_samples - 1])) == 0
