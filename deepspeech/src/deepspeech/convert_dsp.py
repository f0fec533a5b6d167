"""deepspeech.pytorch (SeanNaren/deepspeech.pytorch) Lightning ``.ckpt`` files -> our DeepSpeech2.

Their ``DeepSpeech`` LightningModule is our DS2 with the ``2d-2`` conv stack, no dense layer before the output,
and bidirectional or unidirectional + lookahead recurrent layers, so a checkpoint converts exactly:

* the file is read without their code, PyTorch Lightning or OmegaConf: the pickled ``DictConfig`` hyperparameters
  (``model_cfg``, ``spect_cfg``) and their enums become inert records (ninerepro.train.pickled_modules), and only the
  listed classes are accepted, so a foreign file cannot run code;
* weights are renamed (``conv.seq_module.0`` -> ``conv.blocks.0.conv``, ``rnns.1.batch_norm.module`` ->
  ``rnns.1.bn``, ``fc.0.module.0/1`` -> ``head_bn``/``out``, ``lookahead.0.conv`` -> ``lookahead.conv``);
* their convolutions have biases and ours do not: each is followed by batch norm, so the bias folds exactly into
  the running mean (BN(Wx + b) with mean m equals BN(Wx) with mean m - b; in training mode BN subtracts the batch
  mean, which cancels b anyway);
* their ``lookahead_context`` counts the current frame (kernel = context), our ``model.lookahead`` does not
  (kernel = lookahead + 1): lookahead = context - 1.

Labels must be one of our vocabularies (their ``labels.json`` is ``deepspeech_pytorch``); the audio config
(sample rate, window size and stride) is carried into ``features``; only the Hamming window exists here.
``deepspeech-convert IN.ckpt OUT.pt`` writes one of our checkpoints; ``--checkpoint IN.ckpt`` of
deepspeech-transcribe/eval/serve also loads the file directly (infer.load_trained).
"""

from __future__ import annotations

import argparse
import collections
import operator
import os
import pickle
import typing
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from deepspeech.config import DeepSpeechConfig, FeatureConfig, ModelConfig
from deepspeech.features import make_vocab
from deepspeech.model import build_model
from ninerepro.atomic import atomic_save
from ninerepro.cli_errors import user_errors
from ninerepro.train.checkpoint import FORMAT, FORMAT_VERSION, CheckpointError, check_state_dict, versions
from ninerepro.train.pickled_modules import PickledRecord, load_with_records

HINT = ("deepspeech-convert reads the Lightning .ckpt files of deepspeech.pytorch's train.py; our own checkpoints "
        "come from deepspeech-train")

_OMEGACONF = [f"omegaconf.{name}" for name in (
    "dictconfig.DictConfig", "listconfig.ListConfig", "base.ContainerMetadata", "base.Metadata", "base.Container",
    "base.Node", "nodes.AnyNode", "nodes.BooleanNode", "nodes.EnumNode", "nodes.FloatNode", "nodes.IntegerNode",
    "nodes.StringNode", "nodes.ValueNode", "nodes.BytesNode", "nodes.PathNode", "nodes.InterpolationResultNode")]
_DSP_CONFIGS = [f"deepspeech_pytorch.configs.train_config.{name}" for name in (
    "SpectConfig", "AugmentationConfig", "DataConfig", "BiDirectionalConfig", "UniDirectionalConfig",
    "OptimConfig", "SGDConfig", "AdamConfig", "DeepSpeechTrainerConf", "DeepSpeechConfig")]
_CLASSES = (*_OMEGACONF, *_DSP_CONFIGS, "deepspeech_pytorch.configs.lightning_config.ModelCheckpointConf",
            "deepspeech_pytorch.configs.lightning_config.TrainerConf", "torch.nn.modules.rnn.RNN")


@dataclass(frozen=True)
class _Enum:
    """An enum member as pickled (``RNNType(nn.LSTM)``): the enum's name and the pickled value."""

    enum: str
    value: Any


def _enum(name: str):
    def make(value: Any) -> _Enum:
        return _Enum(name, value)

    make.__name__ = f"{name}_stand_in"
    return make


_BUILTINS = {"dict": dict, "list": list, "tuple": tuple, "bool": bool, "float": float, "int": int, "str": str,
             "bytes": bytes, "object": object, "Ellipsis": Ellipsis, "long": int, "unicode": str}
_FUNCTIONS: dict[str, Any] = {
    "deepspeech_pytorch.enums.RNNType": _enum("RNNType"),
    "deepspeech_pytorch.enums.SpectrogramWindow": _enum("SpectrogramWindow"),
    "deepspeech_pytorch.enums.DecoderType": _enum("DecoderType"),
    "collections.defaultdict": collections.defaultdict, "_operator.getitem": operator.getitem,
    **{f"typing.{n}": getattr(typing, n) for n in ("Any", "Tuple", "Dict", "List", "Optional", "Union")},
    **{f"{m}.{n}": v for m in ("builtins", "__builtin__") for n, v in _BUILTINS.items()},
}
_RNN_KINDS = {"LSTM": "lstm", "GRU": "gru", "RNN": "rnn"}


class DspCheckpointError(CheckpointError, ValueError):
    """A file that is not a usable deepspeech.pytorch checkpoint; the message names the file and the fix."""


@dataclass
class DspCheckpoint:
    """What a deepspeech.pytorch checkpoint says about its model, with the weights as they were saved."""

    state_dict: dict[str, torch.Tensor]
    labels: list[str]
    bidirectional: bool
    rnn_type: str
    hidden_size: int
    hidden_layers: int
    lookahead_context: int
    sample_rate: int
    window_size: float
    window_stride: float
    window: str
    lightning_version: str


# ---------------------------------------------------------------------------------------------- reading the file


def _plain(obj: Any) -> Any:
    """OmegaConf records (DictConfig/ListConfig/value nodes) -> plain dicts, lists and values."""
    if isinstance(obj, PickledRecord):
        attrs = vars(obj)
        content = attrs.get("_content", attrs.get("_val"))
        if obj.pickled_name.endswith(("DictConfig", "ListConfig")) or "_content" in attrs:
            return _plain(content)
        return _plain(content) if "_val" in attrs else obj
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _object_type(cfg: Any) -> str:
    """The dataclass a structured DictConfig was made from (``UniDirectionalConfig``), or '' if unknown."""
    meta = vars(cfg).get("_metadata") if isinstance(cfg, PickledRecord) else None
    kind = vars(meta).get("object_type") if isinstance(meta, PickledRecord) else None
    return getattr(kind, "pickled_name", "").rsplit(".", 1)[-1]


def _enum_name(value: Any, table: dict[str, str] | None = None) -> str:
    """'lstm' from RNNType(nn.LSTM), 'hamming' from SpectrogramWindow('hamming'), or a plain string."""
    if isinstance(value, _Enum):
        value = value.value
    name = getattr(value, "pickled_name", value)
    name = str(name).rsplit(".", 1)[-1]
    return table.get(name, name.lower()) if table else name.lower()


def _is_lightning_zip(path: Path) -> bool:
    """A cheap look at the pickle inside a zip checkpoint: does it hold Lightning's top-level keys?"""
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
            data = z.read(names[0]) if names else b""
    except (OSError, zipfile.BadZipFile):
        return False
    return b"state_dict" in data and (b"hyper_parameters" in data or b"pytorch-lightning_version" in data)


def looks_like_dsp(path: str | os.PathLike) -> bool:
    """True for a file that at least has the outer shape of a Lightning checkpoint (zip with state_dict)."""
    return Path(path).is_file() and _is_lightning_zip(Path(path))


def _get(cfg: dict, key: str, where: str) -> Any:
    if key not in cfg:
        raise DspCheckpointError(f"{where} has no '{key}'; {HINT}")
    return cfg[key]


def read_dsp_checkpoint(path: str | os.PathLike) -> DspCheckpoint:
    """Read a deepspeech.pytorch ``.ckpt`` (any PyTorch Lightning version's layout) without running its code."""
    p = Path(path)
    if not p.is_file():
        raise DspCheckpointError(f"{p} does not exist; pass the .ckpt file deepspeech.pytorch's train.py saved")
    try:
        ckpt = load_with_records(p, _CLASSES, "a deepspeech.pytorch checkpoint", _FUNCTIONS, restricted_pickle=True)
    except pickle.UnpicklingError as e:
        raise DspCheckpointError(f"{p}: {str(e).splitlines()[0][:200]}; {HINT}") from None
    except Exception as e:  # truncated zip, random bytes, ...
        raise DspCheckpointError(f"{p} cannot be read ({type(e).__name__}: {str(e).splitlines()[0][:160]}); "
                                 f"it is truncated or not a checkpoint. {HINT}") from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise DspCheckpointError(f"{p} is not a Lightning checkpoint (no 'state_dict'); {HINT}")
    hp = ckpt.get("hyper_parameters")
    if "audio_conf" in ckpt and hp is None:
        raise DspCheckpointError(f"{p} is a pre-Lightning deepspeech.pytorch package (audio_conf, no "
                                 f"hyper_parameters); only the Lightning .ckpt files of its current train.py convert")
    if not isinstance(hp, dict) or "model_cfg" not in hp:
        raise DspCheckpointError(f"{p} is not a deepspeech.pytorch checkpoint (no 'hyper_parameters' with a "
                                 f"'model_cfg'); {HINT}")
    state = ckpt["state_dict"]
    if not isinstance(state, dict) or "conv.seq_module.0.weight" not in state:
        raise DspCheckpointError(f"{p}: its state_dict has no 'conv.seq_module.0.weight', so it is not deepspeech."
                                 f"pytorch's DeepSpeech model; {HINT}")
    model_cfg, spect = _plain(hp["model_cfg"]), _plain(_get(hp, "spect_cfg", f"{p}: hyper_parameters"))
    if not isinstance(model_cfg, dict) or not isinstance(spect, dict):
        raise DspCheckpointError(f"{p}: hyper_parameters 'model_cfg'/'spect_cfg' are not configs; {HINT}")
    kind = _object_type(hp["model_cfg"])
    where, spect_where = f"{p}: hyper_parameters.model_cfg", f"{p}: hyper_parameters.spect_cfg"
    bidirectional = kind == "BiDirectionalConfig" if kind else "lookahead_context" not in model_cfg
    labels = _plain(_get(hp, "labels", f"{p}: hyper_parameters"))
    if not isinstance(labels, list) or not all(isinstance(c, str) for c in labels):
        raise DspCheckpointError(f"{p}: hyper_parameters.labels is not a list of characters; {HINT}")
    return DspCheckpoint(
        state_dict={k: v for k, v in state.items() if isinstance(v, torch.Tensor)},
        labels=labels, bidirectional=bidirectional,
        rnn_type=_enum_name(_get(model_cfg, "rnn_type", where), _RNN_KINDS),
        hidden_size=int(_get(model_cfg, "hidden_size", where)),
        hidden_layers=int(_get(model_cfg, "hidden_layers", where)),
        lookahead_context=0 if bidirectional else int(_get(model_cfg, "lookahead_context", where)),
        sample_rate=int(_get(spect, "sample_rate", spect_where)),
        window_size=float(_get(spect, "window_size", spect_where)),
        window_stride=float(_get(spect, "window_stride", spect_where)),
        window=_enum_name(spect.get("window", "hamming")),  # SpectConfig has had it since V3; Hamming before
        lightning_version=str(ckpt.get("pytorch-lightning_version", "?")),
    )


# ---------------------------------------------------------------------------------------------- mapping


def _vocab_name(labels: list[str], source: str) -> str:
    for name in ("deepspeech_pytorch", "english"):
        vocab = make_vocab(name)
        if list(labels[1:]) == list(vocab.symbols[1:]) and labels[0] in ("_", vocab.symbols[0]):
            return name
    raise DspCheckpointError(
        f"{source}: its {len(labels)} labels {''.join(labels)!r} are neither deepspeech.pytorch's labels.json "
        f"(blank '_', apostrophe, A-Z, space) nor our english vocabulary; only those two convert")


def dsp_config(ck: DspCheckpoint, source: str) -> DeepSpeechConfig:
    """Our config for the checkpoint's model and audio front end (decoder/train settings stay our defaults)."""
    if ck.rnn_type not in ("lstm", "gru"):
        raise DspCheckpointError(f"{source}: rnn_type {ck.rnn_type!r} (torch.nn.RNN with tanh) has no equivalent "
                                 f"here (our 'rnn' is the paper's clipped ReLU); only lstm and gru models convert")
    if ck.window != "hamming":
        raise DspCheckpointError(f"{source}: spect_cfg.window is {ck.window!r}; our front end "
                                 f"(ninerepro.audio.ds2_spectrogram) has the Hamming window only")
    if not ck.bidirectional and ck.lookahead_context < 1:
        raise DspCheckpointError(f"{source}: lookahead_context must be >= 1, got {ck.lookahead_context}")
    n_classes = ck.state_dict.get("fc.0.module.1.weight", torch.empty(0, 0)).shape[0]
    if n_classes != len(ck.labels):
        raise DspCheckpointError(f"{source}: hyper_parameters.labels has {len(ck.labels)} labels but the output "
                                 f"layer fc.0.module.1.weight has {n_classes} rows; the file is inconsistent")
    vocab = _vocab_name(ck.labels, source)
    try:
        features = FeatureConfig(sample_rate=ck.sample_rate, window_size=ck.window_size,
                                 window_stride=ck.window_stride, normalize=True)
        model = ModelConfig(arch="ds2", vocab=vocab, conv="2d-2", rnn_type=ck.rnn_type,
                            bidirectional=ck.bidirectional, n_layers=ck.hidden_layers, hidden=ck.hidden_size,
                            lookahead=max(ck.lookahead_context - 1, 0), fc_hidden=0, dropout=0.0, clip=20.0)
    except ValueError as e:
        raise DspCheckpointError(f"{source}: {e}") from None
    return DeepSpeechConfig(features=features, model=model, loss_reduction="sum")


def _rename(key: str) -> str | None:
    """Our name for one of their state-dict keys (None = drop: BN's num_batches_tracked, folded conv biases)."""
    if key.endswith("num_batches_tracked"):
        return None
    parts = key.split(".")
    if parts[:2] == ["conv", "seq_module"]:
        block, role = {"0": (0, "conv"), "1": (0, "bn"), "3": (1, "conv"), "4": (1, "bn")}.get(parts[2], (-1, ""))
        rest = ".".join(parts[3:])
        if block < 0:
            return key  # not their 2d-2 stack: reported as unexpected by the shape check
        return None if (role, rest) == ("conv", "bias") else f"conv.blocks.{block}.{role}.{rest}"
    if parts[0] == "rnns" and parts[2] == "batch_norm":
        return f"rnns.{parts[1]}.bn.{'.'.join(parts[4:])}"
    if key.startswith("fc.0.module.0."):
        return "head_bn." + key[len("fc.0.module.0."):]
    if key == "fc.0.module.1.weight":
        return "out.weight"
    if key == "lookahead.0.conv.weight":
        return "lookahead.conv.weight"
    return key  # rnns.N.rnn.* keep their names


def map_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Their weights under our names, each conv bias folded into the running mean of the BN after it."""
    out = {}
    for key, value in state.items():
        name = _rename(key)
        if name is not None:
            out[name] = value.detach().clone().float() if value.is_floating_point() else value.clone()
    for block, conv in enumerate((0, 3)):  # their Conv2d indices in conv.seq_module; BN follows each
        bias = state.get(f"conv.seq_module.{conv}.bias")
        if bias is not None and f"conv.blocks.{block}.bn.running_mean" in out:
            out[f"conv.blocks.{block}.bn.running_mean"] = out[f"conv.blocks.{block}.bn.running_mean"] - bias.float()
    return out


def convert_dsp(path: str | os.PathLike) -> tuple[DeepSpeechConfig, dict[str, torch.Tensor], DspCheckpoint]:
    """(our config, our state dict, what the file said) for a deepspeech.pytorch checkpoint; shapes are checked."""
    ck = read_dsp_checkpoint(path)
    cfg = dsp_config(ck, str(path))
    state = map_state_dict(ck.state_dict)
    model = build_model(cfg, len(make_vocab(cfg.model.vocab)))
    try:
        check_state_dict(model, state, f"{path} (deepspeech.pytorch, converted)")
    except CheckpointError as e:
        lines = [line.strip() for line in str(e).replace(
            "fix: use the config the checkpoint was trained with (saved as config.json beside it)",
            "fix: its hyper_parameters do not describe its weights; is it an unmodified deepspeech.pytorch "
            "checkpoint?").splitlines()]
        raise DspCheckpointError(" ".join(lines)) from None  # one line: the CLIs print it as is
    return cfg, state, ck


def load_dsp_as_trained(path: str | os.PathLike) -> tuple[DeepSpeechConfig, dict[str, torch.Tensor]]:
    """``infer.load_trained``'s (config, model state) for a deepspeech.pytorch checkpoint."""
    cfg, state, _ = convert_dsp(path)
    return cfg, state


def retarget_hint(message: str) -> str:
    """ninerepro's checkpoint errors end with a hint at a generic ``convert.py``; here the command is
    deepspeech-convert."""
    for old in ("official checkpoints go through the subproject's convert.py", "convert it with convert.py"):
        message = message.replace(old, "deepspeech.pytorch .ckpt files convert with `deepspeech-convert IN.ckpt "
                                       "OUT.pt` (or load directly); our own come from deepspeech-train")
    return message


# ---------------------------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="deepspeech-convert", description=(
        "Convert a deepspeech.pytorch Lightning checkpoint (.ckpt) into a deepspeech checkpoint that "
        "deepspeech-transcribe/eval/tune/serve --checkpoint read (they also read the .ckpt directly)."))
    p.add_argument("checkpoint", help="deepspeech.pytorch .ckpt (bidirectional, or unidirectional + lookahead)")
    p.add_argument("output", help="our checkpoint file to write (written to a temp file, then renamed)")
    p.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    args = p.parse_args(argv)
    with user_errors("deepspeech-convert", args.debug):
        cfg, state, ck = convert_dsp(args.checkpoint)
        out = Path(args.output)
        if out.is_dir():
            raise ValueError(f"{out} is a folder; name the output file, e.g. {out / 'converted.pt'}")
        payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions(), "model": state,
                   "config": asdict(cfg), "converted_from": {"path": str(args.checkpoint),
                                                             "lightning_version": ck.lightning_version}}
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_save(out, lambda f: torch.save(payload, f))
        shape = "bidirectional" if ck.bidirectional else f"unidirectional, lookahead context {ck.lookahead_context}"
        print(f"{args.checkpoint} -> {out}: {ck.hidden_layers} x {ck.hidden_size} {ck.rnn_type} ({shape}), "
              f"{len(ck.labels)} labels ({cfg.model.vocab}), {ck.sample_rate} Hz, "
              f"{sum(v.numel() for v in state.values() if v.is_floating_point()) / 1e6:.2f} M parameters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
