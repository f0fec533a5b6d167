"""CUDA correctness of the paper's model (run by `make test-gpu`; skipped without CUDA)."""

from __future__ import annotations

import pytest
import torch
from kws_testkit import CONFIGS, config

import crnn_kws
from crnn_kws.features import window_features

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


@pytest.fixture(autouse=True)
def exact_fp32():
    """TF32 would change fp32 results at the 1e-3 level on Ampere and newer; these tests compare true fp32."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _paper_model_and_features(batch: int = 16):
    torch.manual_seed(0)
    model = crnn_kws.build_model(CONFIGS / "arik2017.json").eval()
    cfg = config("arik2017")
    wav = torch.randn(batch, cfg.features.window_samples, generator=torch.Generator().manual_seed(1)) * 0.05
    return model, window_features(wav, cfg.features), cfg


def test_the_cuda_model_and_cuda_features_equal_the_cpu_ones():
    model, x, cfg = _paper_model_and_features()
    cpu = model.infer(x)
    wav = torch.randn(4, cfg.features.window_samples, generator=torch.Generator().manual_seed(2)) * 0.05
    torch.testing.assert_close(window_features(wav.cuda(), cfg.features).cpu(), window_features(wav, cfg.features),
                               rtol=1e-4, atol=1e-4)
    # cuDNN's GRU sums in another order than the CPU kernel: posteriors agree within 1e-4
    torch.testing.assert_close(model.cuda().infer(x.cuda()).cpu(), cpu, rtol=0, atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_autocast_posteriors_stay_within_a_few_hundredths_of_fp32(dtype):
    model, x, _ = _paper_model_and_features(64)
    model, x = model.cuda(), x.cuda()
    ref = model.infer(x)
    with torch.autocast("cuda", dtype=dtype):
        low = model.infer(x)
    # bf16 keeps 8 mantissa bits: over the 229k-weight dense layer a posterior moves by at most ~1e-2;
    # 0.03 (bf16) / 0.01 (fp16) leave margin while still catching a wrong cast or a lost softmax
    tolerance = 0.03 if dtype == torch.bfloat16 else 0.01
    assert low.dtype == torch.float32 and float((low - ref).abs().max()) < tolerance


def test_one_training_step_on_cuda_matches_cpu_gradients():
    model, x, _ = _paper_model_and_features(8)
    y = torch.randint(0, 2, (8,), generator=torch.Generator().manual_seed(3))
    grads = []
    for device in ("cpu", "cuda"):
        m = crnn_kws.build_model(CONFIGS / "arik2017.json")
        m.load_state_dict(model.state_dict())
        m = m.to(device).train()
        torch.nn.functional.cross_entropy(m(x.to(device)), y.to(device)).backward()
        grads.append(torch.cat([p.grad.flatten().cpu() for p in m.parameters()]))
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-3, atol=1e-4)
