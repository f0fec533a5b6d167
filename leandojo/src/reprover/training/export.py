"""Model files for inference: export a trained model, and load one back from any of its forms.

A training run folder holds ``ninerepro.train`` checkpoints (``ckpt_<step>.pt``: weights, optimizer, RNG, the
run config) plus ``hf_config.json`` (the transformer's HF config, written when training starts) and
``tokenizer/``. ``export_model`` writes the inference form: a folder with ``model.safetensors`` (weights
only), ``hf_config.json``, ``reprover.json`` (the run config, whose ``kind`` says retriever or generator)
and ``tokenizer/``. ``load_model_files`` accepts an export folder, a run folder (newest valid checkpoint)
or one checkpoint file, and checks that the pieces agree before any weights are touched.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedTokenizerBase

from ninerepro.atomic import atomic_write_text
from ninerepro.train import CheckpointError, load_checkpoint
from ninerepro.train.checkpoint import find_latest_valid
from ninerepro.train.config import to_dict
from reprover.retrieval.arch import ArchConfig, build_tokenizer

_ARCH_TO_HF = {"d_model": "d_model", "d_ff": "d_ff", "d_kv": "d_kv", "num_heads": "num_heads",
               "num_layers": "num_layers", "num_decoder_layers": "num_decoder_layers", "vocab_size": "vocab_size"}


@dataclass
class ModelFiles:
    """What is needed to rebuild a trained model, read from disk and cross-checked."""

    run_config: dict[str, Any]
    hf_config: dict[str, Any]
    state: dict[str, torch.Tensor]
    tokenizer: PreTrainedTokenizerBase
    source: Path


def save_run_side_files(run_dir: Path, hf_config: PretrainedConfig, tokenizer: PreTrainedTokenizerBase) -> None:
    """Write ``hf_config.json`` and ``tokenizer/`` into a run folder so its checkpoints are self-contained."""
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "hf_config.json", hf_config.to_json_string())
    if not (run_dir / "tokenizer").is_dir():
        _save_tokenizer(tokenizer, run_dir / "tokenizer")


def _save_tokenizer(tokenizer: PreTrainedTokenizerBase, target: Path) -> None:
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tok-"))
    tokenizer.save_pretrained(tmp)
    os.replace(tmp, target)


def export_model(out_dir: str | os.PathLike, model: nn.Module, hf_config: PretrainedConfig, run_config: Any,
                 tokenizer: PreTrainedTokenizerBase) -> Path:
    """Write the inference folder atomically (built beside ``out_dir``, then renamed over it)."""
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-"))
    # clone: tied weights (T5 shared + embed_tokens) share storage, which safetensors refuses to write
    state = {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}
    save_file(state, tmp / "model.safetensors", metadata={"format": "pt"})
    (tmp / "hf_config.json").write_text(hf_config.to_json_string(), encoding="utf-8")
    (tmp / "reprover.json").write_text(json.dumps(to_dict(run_config), indent=2) + "\n", encoding="utf-8")
    tokenizer.save_pretrained(tmp / "tokenizer")
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out


def load_model_files(path: str | os.PathLike, kind: str) -> ModelFiles:
    """Read an export folder, a run folder or a checkpoint file of a ``kind`` ("retriever"/"generator") model."""
    p = Path(path)
    if (p / "reprover.json").is_file():
        return _check(_from_export(p), kind)
    if p.is_dir():
        found = find_latest_valid(p)
        if found is None:
            raise CheckpointError(f"{p} holds no model: expected an export folder (reprover.json) or a run "
                                  "folder with ckpt_*.pt; train one with `python train.py ...`")
        return _check(_from_checkpoint(*found), kind)
    return _check(_from_checkpoint(p, load_checkpoint(p)), kind)


def _from_export(p: Path) -> ModelFiles:
    from safetensors.torch import load_file

    if not (p / "model.safetensors").is_file():
        raise CheckpointError(f"{p}/model.safetensors is missing; re-export the model")
    run_config = json.loads((p / "reprover.json").read_text(encoding="utf-8"))
    hf = _read_hf_config(p / "hf_config.json", run_config)
    return ModelFiles(run_config, hf, load_file(p / "model.safetensors"), _tokenizer(p, run_config), p)


def _from_checkpoint(ckpt: Path, state: dict[str, Any]) -> ModelFiles:
    run_config = state.get("config")
    if not isinstance(run_config, dict):
        raise CheckpointError(f"{ckpt} carries no run config; it was not written by reprover's train.py")
    hf = _read_hf_config(ckpt.parent / "hf_config.json", run_config)
    return ModelFiles(run_config, hf, state["model"], _tokenizer(ckpt.parent, run_config), ckpt)


def _arch(run_config: dict[str, Any]) -> ArchConfig:
    from ninerepro.train.config import from_dict

    return from_dict(ArchConfig, run_config.get("model", {}).get("arch", {}), prefix="model.arch.")


def _read_hf_config(path: Path, run_config: dict[str, Any]) -> dict[str, Any]:
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    arch = _arch(run_config)
    if arch.pretrained is not None:
        raise CheckpointError(f"{path} is missing: the model started from {arch.pretrained!r}, so its shape "
                              "is only recorded there; copy it from the training run folder")
    return arch.t5_config().to_dict()


def _tokenizer(folder: Path, run_config: dict[str, Any]) -> PreTrainedTokenizerBase:
    if (folder / "tokenizer").is_dir():
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(folder / "tokenizer")
    return build_tokenizer(_arch(run_config))


def _check(files: ModelFiles, kind: str) -> ModelFiles:
    """The checkpoint must be of the requested kind and its run config must match its HF config."""
    got = files.run_config.get("kind")
    if got != kind:
        raise CheckpointError(f"{files.source} is a {got or 'foreign'} checkpoint, not a {kind}; pass it to the "
                              f"option for a {got} (e.g. --{got})" if got else
                              f"{files.source} has no model kind in its config; it is not a reprover {kind}")
    arch = _arch(files.run_config)
    if arch.pretrained is None:
        bad = [f"model.arch.{a}={getattr(arch, a)} vs hf_config {h}={files.hf_config.get(h)}"
               for a, h in _ARCH_TO_HF.items()
               if kind == "generator" or a != "num_decoder_layers"
               if files.hf_config.get(h) is not None and files.hf_config.get(h) != getattr(arch, a)]
        if bad:
            raise CheckpointError(f"{files.source}: the run config and the saved HF config disagree ({'; '.join(bad)})."
                                  " The files were mixed from different runs; use the folder the model was "
                                  "trained or exported in")
    return files
