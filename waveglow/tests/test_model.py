"""The flow's invariants: invertibility, identity at init, official sizes, fast path == reference path."""

from __future__ import annotations

import pytest
import torch
from wg_testkit import inputs, randomised, tiny_config

from waveglow.config import WaveGlowModelConfig, WNConfig
from waveglow.model import WaveGlow


def test_forward_then_reverse_reconstructs_the_audio():
    model = randomised(tiny_config())
    mel, audio = inputs()
    with torch.no_grad():
        z, _, _ = model(mel, audio)
        assert z.shape == (2, 8, audio.shape[1] // 8)
        torch.testing.assert_close(model.reverse(mel, z), audio, rtol=1e-4, atol=1e-5)


def test_every_coupling_is_the_identity_at_initialisation():
    torch.manual_seed(0)
    model = WaveGlow(tiny_config())
    mel, audio = inputs()
    z, log_s_list, log_det_W_list = model(mel, audio)
    for log_s in log_s_list:
        assert torch.count_nonzero(log_s) == 0
    # With identity couplings, z is the audio mixed by the 1x1 convs alone: orthonormal, so norms match.
    torch.testing.assert_close(z.square().sum(), audio.square().sum(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(torch.stack(log_det_W_list), torch.zeros(4), rtol=0, atol=1e-4)


def test_invertible_1x1_convs_start_orthonormal_with_determinant_plus_one():
    torch.manual_seed(3)
    for conv in WaveGlow(tiny_config()).convinv:
        W = conv.W.detach()
        torch.testing.assert_close(W @ W.T, torch.eye(W.shape[0]), rtol=0, atol=1e-5)
        assert torch.det(W) > 0


def test_flow_channel_counts_follow_the_early_exits():
    with torch.device("meta"):
        model = WaveGlow(WaveGlowModelConfig())
    assert [c.W.shape[0] for c in model.convinv] == [8] * 4 + [6] * 4 + [4] * 4
    assert model.n_remaining_channels == 4


@pytest.mark.parametrize(("channels", "official_count"), [(256, 87_879_272), (512, 268_294_760)])
def test_parameter_count_equals_the_official_model(channels, official_count):
    # official_count: sum(p.numel()) of glow.WaveGlow built from NVIDIA/waveglow config.json (8afb643).
    with torch.device("meta"):  # shapes only: no memory, no init time
        model = WaveGlow(WaveGlowModelConfig(wn=WNConfig(n_channels=channels)))
    assert sum(p.numel() for p in model.parameters()) == official_count


def test_removing_weight_norm_keeps_the_function():
    model = randomised(tiny_config())
    mel, audio = inputs()
    with torch.no_grad():
        before = model(mel, audio)[0]
        after = model.remove_weight_norm()(mel, audio)[0]
    assert not any("parametrizations" in k for k in model.state_dict())
    torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("batch", [1, 3])
def test_fast_inference_path_equals_the_reference_path(batch):
    model = randomised(tiny_config()).eval()
    mel, _ = inputs(batch=batch, frames=7)
    with torch.no_grad():
        reference = model.infer(mel, 0.8, generator=torch.Generator().manual_seed(5))
        model.prepare_for_inference()
        assert model._fast is not None
        fast = model.infer(mel, 0.8, generator=torch.Generator().manual_seed(5))
    assert fast.shape == (batch, 7 * 16)
    torch.testing.assert_close(fast, reference, rtol=1e-4, atol=1e-5)


def test_fast_path_in_bfloat16_stays_close_to_fp32():
    model = randomised(tiny_config()).prepare_for_inference()
    mel, _ = inputs(frames=7)
    z = 0.5 * torch.randn(2, 8, 7 * 2)
    with torch.no_grad():
        ref = model.reverse(mel, z)
        low = model.to(torch.bfloat16).reverse(mel.bfloat16(), z.bfloat16()).float()
    assert (low - ref).abs().max() < 0.05 * ref.abs().max()


def test_training_mode_drops_the_cached_inference_weights():
    model = randomised(tiny_config()).prepare_for_inference()
    model.train()
    assert model._fast is None


def test_sigma_zero_synthesis_is_deterministic_and_sigma_scales_the_noise():
    model = randomised(tiny_config()).prepare_for_inference()
    mel, _ = inputs(frames=4)
    with torch.no_grad():
        a, b = model.infer(mel, 0.0), model.infer(mel, 0.0)
        noisy = model.infer(mel, 1.0, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.allclose(a, noisy)
