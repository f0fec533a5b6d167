"""CUDA correctness (run by `make test-gpu` and `make gpu-check`): CUDA equals CPU in fp32, and half
precision stays within stated tolerances of fp32. Skipped where no GPU is visible."""

from __future__ import annotations

import pytest
import torch
from wg_testkit import inputs, randomised, tiny_config

from ninerepro.train.precision import true_fp32

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.fixture(autouse=True)
def no_tf32():
    with true_fp32():
        yield


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.float().cpu() - b.float().cpu()).norm() / b.float().cpu().norm()).item()


def test_cuda_fp32_synthesis_equals_cpu():
    cfg = tiny_config()
    mel, _ = inputs(batch=2, frames=20, cfg=cfg)
    with torch.no_grad():
        cpu = randomised(cfg).prepare_for_inference().infer(mel, sigma=0.0)
        gpu = randomised(cfg).cuda().prepare_for_inference().infer(mel.cuda(), sigma=0.0)
    assert relative_error(gpu, cpu) < 1e-4


@pytest.mark.parametrize(("dtype", "tolerance"), [(torch.float16, 1e-2), (torch.bfloat16, 5e-2)])
def test_half_precision_synthesis_stays_close_to_fp32(dtype, tolerance):
    cfg = tiny_config()
    mel, _ = inputs(batch=2, frames=20, cfg=cfg)
    engine = randomised(cfg).cuda().for_inference()
    with torch.no_grad():
        reference = engine.infer(mel.cuda(), sigma=0.0)
        half = engine.to(dtype).infer(mel.cuda().to(dtype), sigma=0.0)
    assert all(flow.W_inverse.dtype == torch.float32 for flow in engine.flows)  # inverses stay fp32
    assert half.dtype == dtype and torch.isfinite(half).all()
    assert relative_error(half, reference) < tolerance


def test_cuda_training_forward_equals_cpu():
    cfg = tiny_config()
    mel, audio = inputs(batch=2, frames=10, cfg=cfg)
    z_cpu, log_s_cpu, _ = randomised(cfg).train()(mel, audio)
    z_gpu, log_s_gpu, _ = randomised(cfg).cuda().train()(mel.cuda(), audio.cuda())
    assert relative_error(z_gpu, z_cpu) < 1e-4
    assert max(relative_error(g, c) for g, c in zip(log_s_gpu, log_s_cpu)) < 1e-4


def test_cuda_padded_batch_items_equal_their_single_item_synthesis():
    from waveglow.infer import synthesize

    cfg = tiny_config()
    engine = randomised(cfg).cuda().for_inference()
    g = torch.Generator().manual_seed(0)
    mels = [torch.randn(cfg.n_mel_channels, n, generator=g) - 5 for n in (5, 19, 11)]
    alone = synthesize(engine, mels, 0.6, batch_size=1, generator=torch.Generator("cuda").manual_seed(1))
    together = synthesize(engine, mels, 0.6, batch_size=3, generator=torch.Generator("cuda").manual_seed(1))
    for a, b in zip(alone, together):
        assert abs(a - b).max() < 1e-4


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_cuda_mixed_precision_training_loss_stays_close_to_fp32(precision):
    from ninerepro.train.precision import autocast
    from waveglow.loss import WaveGlowLoss

    cfg = tiny_config()
    mel, audio = inputs(batch=2, frames=10, cfg=cfg)
    model = randomised(cfg).cuda().train()
    device = torch.device("cuda")
    reference = WaveGlowLoss()(model(mel.cuda(), audio.cuda()))
    with autocast(precision, device):
        low = WaveGlowLoss()(model(mel.cuda(), audio.cuda()))
    assert torch.isfinite(low) and abs(float(low) - float(reference)) < 0.05 * max(1.0, abs(float(reference)))
