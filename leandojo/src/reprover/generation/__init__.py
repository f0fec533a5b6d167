"""ReProver's tactic generator: retrieval-augmented seq2seq over ByT5 (or any HF encoder-decoder).

``load_generator(ckpt, retriever_ckpt=None, data_dir=None)`` returns a
:class:`reprover.search.generator_api.TacticGenerator`; ``reprover prove --generator CKPT`` calls it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reprover.generation.generator import ReProverGenerator

__all__ = ["ReProverGenerator", "format_augmented_state", "load_generator"]


def load_generator(ckpt, retriever_ckpt=None, **kwargs) -> ReProverGenerator:
    """See :func:`reprover.generation.checkpoint.load_generator` (imported lazily: transformers is heavy)."""
    from reprover.generation.checkpoint import load_generator as _load

    return _load(ckpt, retriever_ckpt, **kwargs)


def __getattr__(name: str):
    if name == "ReProverGenerator":
        from reprover.generation.generator import ReProverGenerator

        return ReProverGenerator
    if name == "format_augmented_state":
        from reprover.generation.augment import format_augmented_state

        return format_augmented_state
    raise AttributeError(name)
