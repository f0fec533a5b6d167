"""Our Flowtron on official-format files reproduces the official code's outputs (max abs difference 1e-5).

The fixtures (tests/fixtures/README.md) were made once by NVIDIA/flowtron itself at a tiny size with every
weight random: teacher-forced forward with and without the attention prior, its three losses, inference from
a zero and from random residuals (gate disabled: all frames), with a prior, with a temperature, and with a gate
threshold at which the random model stops early; plus a one-flow model with cumulative attention and a learned
Gaussian-mixture prior.
"""

from __future__ import annotations

import pytest
import torch
from flowtron_testkit import ATOL, FIXTURES, official_outputs, valid

from flowtron import load_checkpoint
from flowtron.loss import flowtron_losses


@pytest.fixture(scope="module")
def ref():
    return official_outputs()


@pytest.fixture(scope="module")
def model():
    return load_checkpoint(FIXTURES / "official_tiny_state_dict.pt")


def close(ours, theirs, what):
    torch.testing.assert_close(ours, theirs, atol=ATOL, rtol=0, msg=what)


@pytest.mark.parametrize("key,with_prior", [("forward", False), ("forward_prior", True)])
def test_teacher_forced_forward_and_losses_equal_the_official(model, ref, key, with_prior):
    x, r = ref["inputs"], ref[key]
    with torch.no_grad():
        out = model(x["mel"], x["speaker_ids"], x["text"], x["in_lens"], x["out_lens"],
                    x["attn_prior"] if with_prior else None)
        losses = flowtron_losses(out, x["gate_target"], x["in_lens"], x["out_lens"])
    lens = x["out_lens"]
    for a, b in zip(valid(out.z, lens, 2), valid(r["z"], lens, 2)):
        close(a, b, "z")
    for k in range(2):
        for a, b in zip(valid(out.log_s[k], lens, 1), valid(r["log_s"][k], lens, 1)):
            close(a, b, f"log_s of flow {k}")
        for a, b in zip(valid(out.attention[k], lens, 1), valid(r["attention"][k], lens, 1)):
            close(a, b, f"attention of flow {k}")
    for a, b in zip(valid(out.gate, lens, 1), valid(r["gate"], lens, 1)):
        close(a, b, "gate")
    for name in ("nll", "gate", "ctc"):
        close(getattr(losses, name), r[f"loss_{name}"].reshape(()), f"{name} loss")


@pytest.mark.parametrize("key", ["infer_zero", "infer_random_t08", "infer_prior", "infer_gate"])
def test_inference_equals_the_official(model, ref, key):
    ii, r = ref["infer_inputs"], ref[key]
    kwargs = {"gate_threshold": 1.0}
    if key == "infer_zero":
        z = torch.zeros(1, 80, ii["N"])
    elif key == "infer_random_t08":
        z, kwargs["temperature"] = ii["z_random"] * r["sigma"], r["temperature"]
    elif key == "infer_prior":
        z, kwargs["attn_prior"] = ii["z_random"], r["prior"]
    else:
        z, kwargs["gate_threshold"] = ii["z_gate"], r["gate_threshold"]
    mel, attention = model.infer(z, ii["speaker_ids"], ii["text"], **kwargs)
    assert mel.shape == r["mel"].shape
    close(mel, r["mel"], "mel")
    for k, (a, b) in enumerate(zip(attention, r["attention"])):
        close(a, b, f"attention of applied flow {k}")


def test_the_gate_threshold_fixture_really_stops_early(ref):
    assert ref["infer_gate"]["mel"].shape[2] < ref["infer_inputs"]["N"]


def test_cumulative_attention_and_learned_mixture_prior_equal_the_official(ref):
    model = load_checkpoint(FIXTURES / "official_tiny_cumm_gmm.pt")
    assert model.cfg.use_cumm_attention and model.cfg.n_components == 3 and not model.cfg.fixed_gaussian
    x, r = ref["inputs"], ref["mixture_forward"]
    with torch.no_grad():
        out = model(x["mel"], x["speaker_ids"], x["text"], x["in_lens"], x["out_lens"])
        losses = flowtron_losses(out, x["gate_target"], x["in_lens"], x["out_lens"])
    for a, b in zip(valid(out.z, x["out_lens"], 2), valid(r["z"], x["out_lens"], 2)):
        close(a, b, "z")
    close(out.prob, r["prob"], "mixture weights")
    close(out.mean, r["mean"], "mixture means")
    for name in ("nll", "gate", "ctc"):
        close(getattr(losses, name), r[f"loss_{name}"].reshape(()), f"{name} loss")
    ii = ref["infer_inputs"]
    mel, attention = model.infer(ii["z_random"], ii["speaker_ids"], ii["text"], gate_threshold=1.0)
    close(mel, ref["mixture_infer"]["mel"], "mel")
    close(attention[0], ref["mixture_infer"]["attention"][0], "attention")


def test_forward_of_the_inferred_mel_gives_back_z(model, ref):
    ii = ref["infer_inputs"]
    mel, _ = model.infer(ii["z_random"], ii["speaker_ids"], ii["text"], gate_threshold=1.0)
    with torch.no_grad():
        z = model(mel, ii["speaker_ids"].reshape(1), ii["text"], torch.tensor([ii["text"].shape[1]]), None).z
    close(z, ii["z_random"], "z recovered by the forward pass")
