"""Porting code from the official repo: its state-dict export, wrapper prefixes, and the convert CLI's errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from waveglow.checkpoint import load_checkpoint, load_training_state
from waveglow.convert import convert_main
from waveglow.official_format import read_official

FIXTURES = Path(__file__).parent / "fixtures"
TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def official() -> dict[str, torch.Tensor]:
    return torch.load(FIXTURES / "official_outputs.pt", weights_only=True)


def official_names(path: Path) -> dict[str, torch.Tensor]:
    """The fixture's weights in glow.py's own naming, as its module.state_dict() gives them."""
    state, _ = read_official(path)
    return state


@pytest.mark.parametrize("source", ["official_tiny.pt", "ours"])
def test_export_to_an_official_state_dict_round_trips_through_the_official_format_path(tmp_path, official, source):
    path = FIXTURES / "official_tiny.pt"
    if source == "ours":
        assert convert_main([str(path), str(tmp_path / "ours.pt")]) == 0
        path = tmp_path / "ours.pt"
    out = tmp_path / "dle.pt"
    assert convert_main([str(path), str(out), "--to", "official-state-dict"]) == 0
    saved = torch.load(out, weights_only=True)
    expected = official_names(FIXTURES / "official_tiny.pt")
    assert set(saved["state_dict"]) == set(expected)  # exactly glow.py's keys: load_state_dict(strict) accepts it
    for key, value in expected.items():
        assert saved["state_dict"][key].shape == value.shape, key
    assert saved["waveglow_config"]["WN_config"] == {"n_layers": 2, "n_channels": 16, "kernel_size": 3}
    with torch.no_grad():
        audio = load_checkpoint(out).infer(official["mel"], sigma=0.0)
    torch.testing.assert_close(audio, official["infer_sigma0"], **TOL)


@pytest.mark.parametrize("prefix", ["module.", "module.1.", "_orig_mod.", "module._orig_mod."])
def test_wrapper_prefixes_are_accepted_in_official_and_our_state_dicts(tmp_path, official, prefix):
    names = official_names(FIXTURES / "official_tiny.pt")
    torch.save({"state_dict": {prefix + k: v for k, v in names.items()}}, tmp_path / "dle.pt")
    ours = load_training_state(FIXTURES / "official_tiny.pt")
    payload = torch.load(tmp_path / "dle.pt", weights_only=True)
    assert all(k.startswith(prefix) for k in payload["state_dict"])
    assert convert_main([str(FIXTURES / "official_tiny.pt"), str(tmp_path / "ours.pt")]) == 0
    mine = torch.load(tmp_path / "ours.pt", weights_only=True)
    mine["model"] = {prefix + k: v for k, v in ours.state.items()}
    torch.save(mine, tmp_path / "ours_prefixed.pt")
    for path in (tmp_path / "dle.pt", tmp_path / "ours_prefixed.pt"):
        with torch.no_grad():
            audio = load_checkpoint(path).infer(official["mel"], sigma=0.0)
        torch.testing.assert_close(audio, official["infer_sigma0"], **TOL)


def test_convert_errors_are_one_line_on_stderr_with_status_2(tmp_path, capsys):
    cases = [
        [str(tmp_path / "missing.pt"), str(tmp_path / "o.pt")],
        [str(FIXTURES / "official_tiny.pt"), str(tmp_path / "no" / "such" / "dir" / "o.pt")],
    ]
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    cases.append([str(tmp_path / "foreign.pt"), str(tmp_path / "o.pt")])
    for argv in cases:
        assert convert_main(argv) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.startswith("error: ")
        assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    assert not (tmp_path / "o.pt").exists()
    (tmp_path / "exists.pt").write_bytes(b"keep")
    assert convert_main([str(FIXTURES / "official_tiny.pt"), str(tmp_path / "exists.pt")]) == 2
    assert "--force" in capsys.readouterr().err and (tmp_path / "exists.pt").read_bytes() == b"keep"
    with pytest.raises(Exception, match="does not exist"):
        convert_main([str(tmp_path / "missing.pt"), str(tmp_path / "o.pt"), "--debug"])
