"""The CRNN: the paper's size, the rejected readings of spec §9, shapes, and the config sweep."""

from __future__ import annotations

import pytest
import torch
from kws_testkit import CONFIGS, config

import crnn_kws
from crnn_kws.model import count_parameters, same_padding


def test_the_paper_model_has_229474_parameters():
    model = crnn_kws.build_model(CONFIGS / "arik2017.json")
    assert count_parameters(model) == 229_474


def test_the_parts_match_the_spec_checksum():
    model = crnn_kws.build_model(str(CONFIGS / "arik2017.json"))
    parts = {name: count_parameters(m) for name, m in [("conv", model.front), ("dense", model.classifier.dense),
                                                         ("softmax", model.classifier.out)]}
    gru = model.recurrent.rnn
    layer1 = sum(p.numel() for n, p in gru.named_parameters() if "_l0" in n)
    layer2 = sum(p.numel() for n, p in gru.named_parameters() if "_l1" in n)
    assert parts == {"conv": 3_232, "dense": 77_888, "softmax": 130}
    assert (layer1, layer2) == (129_408, 18_816)
    # one bias per gate instead of PyTorch's two (input and recurrent): 229,090
    assert count_parameters(model) - 2 * 2 * 3 * 32 == 229_090
    assert (model.front.out_steps, model.front.out_freq, model.front.features_per_step) == (19, 20, 640)


@pytest.mark.parametrize(("name", "expected"), [("unidirectional", 113_378), ("lstm", 278_882),
                                                ("valid_padding", 208_994), ("c32_nr32", 229_474)])
def test_the_sweep_configs_build_and_the_rejected_readings_have_their_spec_sizes(name, expected):
    assert count_parameters(crnn_kws.build_model(CONFIGS / "sweep" / f"{name}.json")) == expected


def test_every_sweep_config_builds_and_scores_a_window():
    sizes = {}
    for path in sorted((CONFIGS / "sweep").glob("*.json")):
        model = crnn_kws.build_model(path)
        sizes[path.stem] = count_parameters(model)
        assert model(torch.zeros(1, 40, 151)).shape == (1, 2)
    assert sizes["c16_nr16"] < sizes["c32_nr32"] < sizes["c64_nr64"]
    assert sizes["r1"] < sizes["c32_nr32"]


def test_the_speech_commands_variant_has_twelve_outputs():
    model = crnn_kws.build_model(CONFIGS / "speech_commands12.json")
    assert model(torch.randn(2, 40, 151)).shape == (2, 12)


def test_same_padding_gives_ceil_of_size_over_stride():
    assert same_padding(151, 20, 8) == (6, 7)  # 19 steps
    assert same_padding(40, 5, 2) == (1, 2)  # 20 channels


def test_infer_returns_a_probability_per_window_and_a_wrong_shape_is_refused():
    model = crnn_kws.build_model(config("tiny"))
    p = model.infer(torch.randn(3, 40, 51))
    assert p.shape == (3,) and bool(((p >= 0) & (p <= 1)).all())
    with pytest.raises(ValueError, match=r"expected features \[B, 40, 51\]"):
        model(torch.randn(3, 40, 50))
