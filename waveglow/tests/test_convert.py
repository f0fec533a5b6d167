"""Parity with the official implementation, through files it wrote (see fixtures/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ninerepro.train.checkpoint import CheckpointError
from waveglow.checkpoint import load_checkpoint
from waveglow.config import WaveGlowModelConfig, WNConfig
from waveglow.convert import convert_main, convert_official
from waveglow.loss import WaveGlowLoss
from waveglow.model import WaveGlow

FIXTURES = Path(__file__).parent / "fixtures"
TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def official() -> dict[str, torch.Tensor]:
    return torch.load(FIXTURES / "official_outputs.pt", weights_only=True)


@pytest.mark.parametrize("name", ["official_tiny.pt", "official_tiny_legacy.pt"])
def test_official_checkpoint_synthesises_the_official_audio_at_sigma_zero(name, official):
    model = load_checkpoint(FIXTURES / name)
    assert not model.training
    with torch.no_grad():
        audio = model.infer(official["mel"], sigma=0.0)
    assert audio.shape == official["infer_sigma0"].shape == (2, 6 * 256)
    torch.testing.assert_close(audio, official["infer_sigma0"], **TOL)


def test_old_layout_with_per_layer_conditioning_convs_matches_official_convert_model(official):
    model = load_checkpoint(FIXTURES / "official_old_layout.pt")
    with torch.no_grad():
        audio = model.infer(official["mel"], sigma=0.0)
    torch.testing.assert_close(audio, official["old_layout_infer_sigma0"], **TOL)


def test_official_weights_give_the_official_z_log_s_log_det_and_nll(official):
    cfg, state, _ = convert_official(FIXTURES / "official_tiny.pt")
    model = WaveGlow(cfg)  # training form, weight norm on
    model.load_state_dict(state)
    z, log_s_list, log_det_W_list = model(official["mel"], official["audio"])
    torch.testing.assert_close(z, official["z"], **TOL)
    torch.testing.assert_close(torch.stack([s.sum() for s in log_s_list]), official["log_s_sums"], **TOL)
    torch.testing.assert_close(torch.stack(log_det_W_list), official["log_det_W"], **TOL)
    for sigma in (1.0, 0.7):
        nll = WaveGlowLoss(sigma)((z, log_s_list, log_det_W_list))
        torch.testing.assert_close(nll, official[f"nll_sigma_{sigma}"], **TOL)


def test_hyperparameters_are_read_off_the_official_tensors():
    cfg, _, info = convert_official(FIXTURES / "official_tiny.pt")
    assert cfg == WaveGlowModelConfig(n_mel_channels=4, n_flows=4, n_group=8, n_early_every=2, n_early_size=2,
                                      wn=WNConfig(n_layers=2, n_channels=16, kernel_size=3))
    assert info["iteration"] == 2000


def test_convert_cli_writes_our_format_that_loads_to_the_same_audio(tmp_path, official):
    out = tmp_path / "ours.pt"
    assert convert_main([str(FIXTURES / "official_tiny.pt"), str(out)]) == 0
    saved = torch.load(out, weights_only=True)  # our files need no allowlist at all
    assert saved["format"] == "repro-checkpoint" and saved["config"]["model"]["n_flows"] == 4
    with torch.no_grad():
        audio = load_checkpoint(out).infer(official["mel"], sigma=0.0)
    torch.testing.assert_close(audio, official["infer_sigma0"], **TOL)


class _Exploit:
    def __reduce__(self):
        return (Path.touch, (Path("/tmp/waveglow_pwned_marker"),))


def test_a_pickle_naming_any_other_callable_is_refused_without_running_it(tmp_path):
    marker = Path("/tmp/waveglow_pwned_marker")
    marker.unlink(missing_ok=True)
    for legacy in (False, True):
        path = tmp_path / f"evil_{legacy}.pt"
        torch.save({"model": _Exploit(), "iteration": 1}, path, _use_new_zipfile_serialization=not legacy)
        with pytest.raises(CheckpointError, match="cannot be read"):
            load_checkpoint(path)
    assert not marker.exists()


def test_truncated_and_foreign_files_are_clear_errors(tmp_path):
    data = (FIXTURES / "official_tiny.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"cut\.pt"):
        load_checkpoint(tmp_path / "cut.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not an official WaveGlow checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
