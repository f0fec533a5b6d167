"""Build deepspeech.pytorch's ``DeepSpeech`` module from a user's clone, at run time, for the benchmark.

Nothing of deepspeech.pytorch is copied here: its ``deepspeech_pytorch/model.py`` is imported unmodified
from the ``--official`` folder the user passes. That file imports a training stack the *model* does not
need (PyTorch Lightning, Hydra's OmegaConf, torchmetrics, python-Levenshtein, six). When one of those is
not installed, a minimal stand-in is put in ``sys.modules`` *before* the import, and only then:

* ``pytorch_lightning.LightningModule`` -> ``torch.nn.Module`` with a no-op ``save_hyperparameters``
  (the model's layers, ``forward`` and ``training_step`` are plain torch);
* ``omegaconf.OmegaConf.get_type(cfg)`` -> ``type(cfg)``, ``omegaconf.MISSING`` -> ``"???"``
  (the model only asks whether its config is the bidirectional one);
* ``torchmetrics.Metric`` -> ``nn.Module`` with ``add_state`` (WER/CER metrics are built, never updated);
* ``Levenshtein.distance`` and ``six.moves.xrange`` (used only by decoding/validation, never timed);
* ``deepspeech_pytorch.configs.train_config``: its dataclasses use instance defaults
  (``spect: SpectConfig = SpectConfig()``) that Python >= 3.11 rejects at import ("mutable default"),
  so where the real module fails to import, a module with the same config class names and fields that
  ``model.py`` reads (SpectConfig, BiDirectionalConfig, UniDirectionalConfig, AdamConfig, SGDConfig) is used.

``deepspeech_pytorch/enums.py`` (the RNN type table) and ``decoder.py`` are always the real ones.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
import types
from pathlib import Path

import torch
from torch import nn

SHIMMED: list[str] = []  # which stand-ins were installed, for the results table


def _module(name: str, **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    module.__bench_shim__ = True
    return module


def _need(name: str) -> bool:
    try:
        importlib.import_module(name)
        return False
    except ImportError:
        return True


def _install_dependency_shims() -> None:
    class LightningModule(nn.Module):
        def save_hyperparameters(self, *args, **kwargs) -> None:
            pass

    class OmegaConf:
        @staticmethod
        def get_type(obj):
            return type(obj)

    class Metric(nn.Module):
        def __init__(self, dist_sync_on_step: bool = False, **kwargs) -> None:
            super().__init__()

        def add_state(self, name: str, default, dist_reduce_fx=None) -> None:
            setattr(self, name, default)

    def distance(a: str, b: str) -> int:
        raise RuntimeError("Levenshtein stand-in: install python-Levenshtein to decode with deepspeech.pytorch")

    shims = {
        "pytorch_lightning": lambda: _module("pytorch_lightning", LightningModule=LightningModule),
        "omegaconf": lambda: _module("omegaconf", OmegaConf=OmegaConf, MISSING="???"),
        "torchmetrics": lambda: _module("torchmetrics", Metric=Metric),
        "Levenshtein": lambda: _module("Levenshtein", distance=distance),
    }
    for name, make in shims.items():
        if _need(name):
            sys.modules[name] = make()
            SHIMMED.append(name)
    if _need("six"):
        moves = _module("six.moves", xrange=range)
        sys.modules["six"], sys.modules["six.moves"] = _module("six", moves=moves), moves
        SHIMMED.append("six")


def _config_shim(enums: types.ModuleType) -> types.ModuleType:
    """Config containers with the field names model.py reads (values are always passed explicitly)."""
    rnn_type = enums.RNNType.lstm
    window = enums.SpectrogramWindow.hamming
    SpectConfig = dataclasses.make_dataclass("SpectConfig", [
        ("sample_rate", int, 16000), ("window_size", float, 0.02), ("window_stride", float, 0.01),
        ("window", object, window)])
    BiDirectionalConfig = dataclasses.make_dataclass("BiDirectionalConfig", [
        ("rnn_type", object, rnn_type), ("hidden_size", int, 1024), ("hidden_layers", int, 5)])
    UniDirectionalConfig = dataclasses.make_dataclass(
        "UniDirectionalConfig", [("lookahead_context", int, 20)], bases=(BiDirectionalConfig,))
    OptimConfig = dataclasses.make_dataclass("OptimConfig", [
        ("learning_rate", float, 1.5e-4), ("learning_anneal", float, 0.99), ("weight_decay", float, 1e-5)])
    AdamConfig = dataclasses.make_dataclass(
        "AdamConfig", [("eps", float, 1e-8), ("betas", tuple, (0.9, 0.999))], bases=(OptimConfig,))
    SGDConfig = dataclasses.make_dataclass("SGDConfig", [("momentum", float, 0.9)], bases=(OptimConfig,))
    return _module("deepspeech_pytorch.configs.train_config", SpectConfig=SpectConfig,
                   BiDirectionalConfig=BiDirectionalConfig, UniDirectionalConfig=UniDirectionalConfig,
                   OptimConfig=OptimConfig, AdamConfig=AdamConfig, SGDConfig=SGDConfig)


def import_official(root: str | Path) -> tuple[types.ModuleType, types.ModuleType, list[str]]:
    """(model module, train_config module, labels) from a deepspeech.pytorch clone at ``root``."""
    root = Path(root).resolve()
    if not (root / "deepspeech_pytorch" / "model.py").is_file():
        raise SystemExit(f"--official {root}: no deepspeech_pytorch/model.py there; pass the folder of a clone of "
                         f"https://github.com/SeanNaren/deepspeech.pytorch")
    sys.path.insert(0, str(root))
    _install_dependency_shims()
    try:
        train_config = importlib.import_module("deepspeech_pytorch.configs.train_config")
    except (ImportError, ValueError, TypeError):  # ValueError: the mutable-default dataclasses on 3.11+
        sys.modules.pop("deepspeech_pytorch.configs.train_config", None)
        train_config = _config_shim(importlib.import_module("deepspeech_pytorch.enums"))
        sys.modules["deepspeech_pytorch.configs.train_config"] = train_config
        SHIMMED.append("train_config")
    model_module = importlib.import_module("deepspeech_pytorch.model")
    labels = json.loads((root / "labels.json").read_text())
    return model_module, train_config, labels


def build_official(root: str | Path, rnn_type: str, hidden: int, n_layers: int, bidirectional: bool,
                   lookahead: int, window_size: float = 0.02) -> nn.Module:
    """deepspeech.pytorch's DeepSpeech at the given size (fp32 flag; AMP is applied from outside)."""
    model_module, cfg, labels = import_official(root)
    enums = importlib.import_module("deepspeech_pytorch.enums")
    kind = getattr(enums.RNNType, rnn_type)
    if bidirectional:
        model_cfg = cfg.BiDirectionalConfig(rnn_type=kind, hidden_size=hidden, hidden_layers=n_layers)
    else:
        model_cfg = cfg.UniDirectionalConfig(rnn_type=kind, hidden_size=hidden, hidden_layers=n_layers,
                                             lookahead_context=lookahead)
    spect = cfg.SpectConfig(window_size=window_size)
    return model_module.DeepSpeech(labels=labels, model_cfg=model_cfg, precision=32,
                                   optim_cfg=cfg.AdamConfig(), spect_cfg=spect)


def official_train_loss(model: nn.Module, x: torch.Tensor, lengths: torch.Tensor, targets: torch.Tensor,
                        target_lengths: torch.Tensor) -> torch.Tensor:
    """Their own ``training_step`` (forward, log_softmax, CTCLoss sum) on our padded [B, F, T] batch."""
    inputs = x.unsqueeze(1)  # [B, 1, F, T], their layout
    percentages = lengths.double() / x.shape[-1]  # their collate's input_percentages; float64 keeps T exact
    return model.training_step((inputs, targets, percentages, target_lengths), 0)


def official_infer(model: nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    out, _, _ = model(x.unsqueeze(1), lengths)
    return out
