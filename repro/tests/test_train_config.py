"""Configs: JSON + dotted overrides, typed, with unknown keys and wrong types caught at load time."""

import json
from dataclasses import dataclass, field

import pytest

from ninerepro.train import ConfigError, TrainerConfig, load_config, save_config


@dataclass
class ModelCfg:
    n_layers: int = 2
    hidden: int = 32
    dropout: float = 0.1


@dataclass
class Cfg:
    model: ModelCfg = field(default_factory=ModelCfg)
    train: TrainerConfig = field(default_factory=TrainerConfig)
    name: str = "tiny"


def test_json_and_overrides_merge_into_typed_nested_dataclasses(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"_source": "NVIDIA/waveglow config.json", "model": {"hidden": 64}}))
    cfg = load_config(Cfg, path, ["train.optimizer.lr=3e-4", "model.n_layers=4", "name=big", "train.precision=bf16"])
    assert cfg.model == ModelCfg(n_layers=4, hidden=64, dropout=0.1)
    assert cfg.train.optimizer.lr == 3e-4 and cfg.name == "big" and cfg.train.precision == "bf16"


def test_an_unknown_key_is_an_error_that_names_it_and_lists_the_valid_keys(tmp_path):
    with pytest.raises(ConfigError, match=r"'model\.hiden'.*\['dropout', 'hidden', 'n_layers'\]"):
        load_config(Cfg, None, ["model.hiden=3"])
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"model": {"layers": 3}}))
    with pytest.raises(ConfigError, match=r"c\.json.*'model\.layers'"):
        load_config(Cfg, path)


@pytest.mark.parametrize(
    "override, message",
    [
        ("model.n_layers=2.5", "expected an integer"),
        ("model.hidden=big", "expected an integer"),
        ("train.precision=fp8", "not one of"),
        ("train.compile=yes", "expected true/false"),
        ("train.grad_accum=0", "grad_accum must be >= 1"),
        ("train.keep_last=1", "keep_last=1"),
        ("model", "key=value"),
    ],
)
def test_wrong_types_and_inconsistent_values_fail_at_load_time(override, message):
    with pytest.raises((ConfigError, ValueError), match=message):
        load_config(Cfg, None, [override])


def test_the_resolved_config_is_saved_and_loads_back_identically(tmp_path):
    cfg = load_config(Cfg, None, ["train.optimizer.betas=[0.8, 0.99]", "train.schedule.name=cosine"])
    save_config(cfg, tmp_path / "config.json")
    again = load_config(Cfg, tmp_path / "config.json")
    assert again == cfg and again.train.optimizer.betas == (0.8, 0.99)


def test_invalid_json_names_the_file_and_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "name": "x",\n  oops\n}')
    with pytest.raises(ConfigError, match=r"broken\.json: invalid JSON at line 3"):
        load_config(Cfg, path)


def test_the_shared_train_command_line_parses_config_run_dir_and_overrides(tmp_path):
    from ninerepro.train.cli import load_run_config, parse_train_args

    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"name": "t"}))
    args = parse_train_args("x", ["-c", str(path), "model.hidden=8", "train.max_steps=3"])
    assert args.run_dir.as_posix() == "runs/tiny+model.hidden=8+train.max_steps=3"
    assert parse_train_args("x", ["-c", str(path)]).run_dir.as_posix() == "runs/tiny"
    cfg = load_run_config(Cfg, args)
    assert cfg.model.hidden == 8 and cfg.train.max_steps == 3 and cfg.name == "t"


@dataclass
class WithOptionalSection:
    model: ModelCfg | None = None


def test_an_optional_section_reports_the_inner_reason():
    with pytest.raises(ConfigError, match=r"model\.n_layers: expected an integer"):
        load_config(WithOptionalSection, None, ["model.n_layers=x"])
