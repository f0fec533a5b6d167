"""Configs as dataclasses loaded from JSON, with dotted ``key=value`` overrides from the command line.

Why dataclasses and not dicts: a typo in a key (``lerning_rate``) or a value of the wrong type must fail at
load time with the key's name and the valid choices, not silently train with a default for three days.
Nested dataclasses group fields by concern (``model``, ``data``, ``train``); overrides address them with
dots (``train.lr=3e-4``). Keys starting with ``_`` in JSON (``"_source"``, ``"_comment"``) are notes and
are ignored.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar, Union

T = TypeVar("T")


class ConfigError(ValueError):
    """A config file or override does not fit the config dataclass."""


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Convert ``value`` to type ``tp`` or raise a ConfigError naming ``where``."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as e:
                errors.append(str(e))
        if len(errors) == 1:  # `Section | None`: the section's own reason is the useful one
            raise ConfigError(errors[0])
        raise ConfigError(f"{where}: {value!r} fits none of {tp} ({'; '.join(errors)})")
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            raise ConfigError(f"{where}: {value!r} is not one of {list(typing.get_args(tp))}")
        return value
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected an object for {tp.__name__}, got {value!r}")
        return from_dict(tp, value, prefix=f"{where}.")
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        args = typing.get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}")
            return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
        inner = args[0] if args else Any
        items = [_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected an object, got {value!r}")
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    return value


def from_dict(cls: type[T], data: dict[str, Any], prefix: str = "") -> T:
    """Build dataclass ``cls`` from ``data``; unknown keys are errors that list the valid ones."""
    types_ = _field_types(cls)
    unknown = [k for k in data if not k.startswith("_") and k not in types_]
    if unknown:
        raise ConfigError(f"unknown config key '{prefix}{unknown[0]}'; valid keys at this level: {sorted(types_)}")
    kwargs = {k: _coerce(v, types_[k], f"{prefix}{k}") for k, v in data.items() if not k.startswith("_")}
    try:
        return cls(**kwargs)
    except TypeError as e:  # a required field is missing
        raise ConfigError(f"{prefix or cls.__name__}: {e}") from None


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain JSON-able dict of a (nested) config dataclass."""
    return dataclasses.asdict(cfg)


def _parse_override(text: str) -> tuple[list[str], Any]:
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like key=value (e.g. train.lr=1e-4)")
    key, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw  # bare strings need no quotes: model.name=small
    return key.strip().split("."), value


def _section_type(tp: Any) -> type | None:
    """The dataclass behind a section's annotation (``Section`` or ``Section | None``), else None."""
    if dataclasses.is_dataclass(tp):
        return tp
    if typing.get_origin(tp) in (Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if dataclasses.is_dataclass(a)]
        return inner[0] if len(inner) == 1 else None
    return None


def apply_overrides(data: dict[str, Any], overrides: list[str], cls: type) -> dict[str, Any]:
    """Set dotted keys in a nested dict, checking each path against the dataclass ``cls``."""
    data = json.loads(json.dumps(data))  # deep copy
    for text in overrides:
        path, value = _parse_override(text)
        node, node_cls = data, cls
        for i, part in enumerate(path):
            fields = _field_types(node_cls)
            if part not in fields:
                dotted = ".".join([*path[:i], part])
                raise ConfigError(f"unknown config key '{dotted}'; valid keys at this level: {sorted(fields)}")
            if i == len(path) - 1:
                node[part] = value
            else:
                node_cls = _section_type(fields[part])
                if node_cls is None:
                    raise ConfigError(f"{'.'.join(path[: i + 1])!r} is not a section; cannot set {text!r}")
                if node.get(part) is None:  # an absent or null optional section starts empty
                    node[part] = {}
                node = node[part]
    return data


def load_config(cls: type[T], path: str | os.PathLike | None = None, overrides: list[str] | None = None) -> T:
    """Load ``cls`` from a JSON file (or the dataclass defaults when ``path`` is None) plus overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file {p} does not exist")
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ConfigError(f"{p}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    if overrides:
        data = apply_overrides(data, overrides, cls)
    try:
        return from_dict(cls, data)
    except ConfigError as e:
        where = f"{path}: " if path else ""
        raise ConfigError(f"{where}{e}") from None


def save_config(cfg: Any, path: str | os.PathLike) -> Path:
    """Write the resolved config as JSON, atomically, so each run folder records what it ran with."""
    from ninerepro.atomic import atomic_write_text

    return atomic_write_text(path, json.dumps(to_dict(cfg), indent=2, sort_keys=False) + "\n")
