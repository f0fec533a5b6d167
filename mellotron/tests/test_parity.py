"""Our Mellotron on an official-format checkpoint reproduces the official code's outputs.

The fixture (tests/fixtures/README.md) was made once by NVIDIA/mellotron d5362cc itself: every weight and
BatchNorm statistic random, prenet dropout off. Tolerance 1e-5 (max absolute difference).
"""

from __future__ import annotations

import pytest
import torch
from ml_testkit import official_model, official_outputs

ATOL = 1e-5


@pytest.fixture(scope="module")
def model():
    return official_model()


@pytest.fixture(scope="module")
def ref():
    return official_outputs()


def test_teacher_forced_outputs_equal_the_official(model, ref):
    x = ref["inputs"]
    with torch.no_grad():
        mel, mel_post, gate, align = model(x["text"], x["text_lengths"], x["mel"], x["output_lengths"],
                                           x["speaker_ids"], x["f0"])
    for name, ours in (("mel", mel), ("mel_postnet", mel_post), ("gate", gate), ("alignments", align)):
        torch.testing.assert_close(ours, ref["forward"][name], atol=ATOL, rtol=0, msg=name)


def test_gst_equals_the_official_with_and_without_lengths(model, ref):
    x = ref["inputs"]
    with torch.no_grad():
        torch.testing.assert_close(model.gst_embedding(x["mel"]), ref["gst"], atol=ATOL, rtol=0)
        torch.testing.assert_close(model.gst_embedding(x["mel"], x["output_lengths"]), ref["gst_with_lengths"],
                                   atol=ATOL, rtol=0)


@pytest.mark.parametrize(("style_key", "which"), [("ref_mel", "noattention_ref"), (3, "noattention_token3")])
def test_inference_noattention_equals_the_official(model, ref, style_key, which):
    x = ref["inputs"]
    style = x["ref_mel"] if style_key == "ref_mel" else style_key
    outs = model.inference_noattention(x["text"][:1], style, x["speaker_ids"][:1], x["f0"][:1], x["rhythm"])
    for ours, theirs in zip(outs, ref[which]):
        torch.testing.assert_close(ours, theirs, atol=ATOL, rtol=0)


def test_inference_stops_at_the_official_step_with_the_same_frames(model, ref):
    x = ref["inputs"]
    outs = model.inference(x["text"][:1], x["ref_mel"], x["speaker_ids"][:1], x["f0"][:1],
                           gate_threshold=float(ref["inference_gate_threshold"]),
                           max_decoder_steps=int(ref["inference_max_decoder_steps"]))
    assert outs[0].shape == ref["inference"][0].shape  # the same number of frames
    for ours, theirs in zip(outs, ref["inference"]):
        torch.testing.assert_close(ours, theirs, atol=ATOL, rtol=0)
