"""The flow's invariants: invertibility, identity at init, official sizes, inference form == reference path."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from wg_testkit import inputs, randomised, tiny_config

from waveglow.config import WaveGlowModelConfig, WNConfig
from waveglow.inference_model import WaveGlowInference
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
def test_inference_form_equals_the_reference_reverse(batch):
    model = randomised(tiny_config()).eval()
    mel, _ = inputs(batch=batch, frames=7)
    z = 0.8 * torch.randn(batch, 8, 7 * 2, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        reference = model.reverse(mel, z)
        fast = model.for_inference().reverse(mel, z)
    assert fast.shape == (batch, 7 * 16)
    torch.testing.assert_close(fast, reference, rtol=1e-4, atol=1e-5)


def test_inference_form_is_a_snapshot_that_leaves_the_training_model_untouched():
    model = randomised(tiny_config()).train()
    snapshot = model.for_inference()
    assert isinstance(snapshot, WaveGlowInference) and not snapshot.training
    assert model.training and any("parametrizations" in k for k in model.state_dict())
    assert not any(p.requires_grad for p in snapshot.parameters())
    with pytest.raises(RuntimeError, match="synthesis-only"):
        snapshot.train()


def test_infer_after_an_in_place_weight_update_uses_the_new_weights():
    # An EMA update or optimizer step edits parameters in place; nothing derived from them may be kept.
    model = randomised(tiny_config()).eval()
    mel, _ = inputs(frames=6)
    with torch.no_grad():
        before = model.infer(mel, 0.0)
        for p in model.parameters():
            p.copy_(p * 0.97 + 0.01)  # EMA-style in-place copy
        after = model.infer(mel, 0.0)
        reference = model.reverse(mel, torch.zeros(2, 8, 12))
    assert not torch.allclose(after, before)
    torch.testing.assert_close(after, reference, rtol=1e-4, atol=1e-5)


def test_the_model_keeps_no_derived_weights():
    model = randomised(tiny_config())
    model.infer(inputs(frames=3)[0], 0.6)
    tensors = {id(t) for t in [*model.parameters(), *model.buffers()]}
    extra = [name for name, value in vars(model).items() if isinstance(value, torch.Tensor | nn.Module)
             and id(value) not in tensors and not name.startswith("_")]
    assert extra == [] and not hasattr(model, "_fast")


def test_inference_form_in_bfloat16_stays_close_to_fp32_and_keeps_the_inverses_in_fp32():
    model = randomised(tiny_config())
    mel, _ = inputs(frames=7)
    z = 0.5 * torch.randn(2, 8, 7 * 2)
    fast = model.for_inference()
    ref = fast.reverse(mel, z)
    low = fast.to(torch.bfloat16)
    assert all(flow.W_inverse.dtype == torch.float32 for flow in low.flows)
    assert low.upsample.weight.dtype == torch.bfloat16
    out = low.reverse(mel.bfloat16(), z.bfloat16()).float()
    assert (out - ref).abs().max() < 0.05 * ref.abs().max()


def test_forward_takes_the_official_mel_audio_tuple_too():
    model = randomised(tiny_config())
    mel, audio = inputs()
    with torch.no_grad():
        torch.testing.assert_close(model((mel, audio))[0], model(mel, audio)[0])
    with pytest.raises(TypeError, match="one \\(mel, audio\\) tuple"):
        model(mel)


def test_official_remove_weightnorm_spellings_fold_weight_norm():
    import waveglow

    for remove in (waveglow.remove_weightnorm, WaveGlow.remove_weightnorm, lambda m: m.remove_weightnorm(m)):
        model = randomised(tiny_config())
        mel, audio = inputs()
        with torch.no_grad():
            before = model(mel, audio)[0]
            out = remove(model)
            assert out is model and not any("parametrizations" in k for k in model.state_dict())
            torch.testing.assert_close(model(mel, audio)[0], before, rtol=1e-5, atol=1e-6)


def test_sigma_zero_synthesis_is_deterministic_and_sigma_scales_the_noise():
    model = randomised(tiny_config()).for_inference()
    mel, _ = inputs(frames=4)
    with torch.no_grad():
        a, b = model.infer(mel, 0.0), model.infer(mel, 0.0)
        noisy = model.infer(mel, 1.0, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.allclose(a, noisy)


def test_linear_upsampler_interpolates_each_bin_between_frame_centres_and_ignores_the_seed():
    cfg = tiny_config(upsample_init="linear")
    hop, n_mel = cfg.upsample_stride, cfg.n_mel_channels
    torch.manual_seed(0)
    a = WaveGlow(cfg).upsample
    torch.manual_seed(1)
    b = WaveGlow(cfg).upsample
    torch.testing.assert_close(a.weight, b.weight, rtol=0, atol=0)  # deterministic: a frozen copy needs no seed
    # Two frames of a constant bin pattern: between the centres the output is the linear mix of the two frames.
    mel = torch.zeros(1, n_mel, 2)
    mel[0, 0, 0], mel[0, 0, 1], mel[0, 1, :] = 1.0, 3.0, 2.0
    with torch.no_grad():
        out = a(mel)[0]  # [n_mel, samples]
    r = torch.arange(hop)
    gain = out[1, hop]  # bin 1 is 2 in both frames
    torch.testing.assert_close(out[0, hop + r] / gain * 2, 1.0 + 2.0 * r / hop, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out[1, hop + r] / gain * 2, torch.full((hop,), 2.0), rtol=1e-5, atol=1e-5)
    assert torch.count_nonzero(out[2:]) == 0  # each bin feeds only itself


def test_an_unknown_upsample_init_is_refused_when_the_config_is_built():
    with pytest.raises(ValueError, match="upsample_init"):
        WaveGlowModelConfig(upsample_init="gaussian")
