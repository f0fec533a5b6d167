"""ReProver's released checkpoints: Hugging Face folders (or hub ids) in, our retriever and generator out.

ReProver publishes its models as plain HF folders (``kaiyuy/leandojo-lean4-retriever-byt5-small``: a
``T5EncoderModel``; ``kaiyuy/leandojo-lean4-tacgen-byt5-small`` and ``...-retriever-tacgen-byt5-small``:
``T5ForConditionalGeneration``), each a ``config.json``, the weights (``model.safetensors`` or
``pytorch_model.bin``, possibly sharded) and the tokenizer files (ByT5's, or a T5 sentencepiece one). This is
the only place those folders are opened. The weights go through ``from_pretrained`` with its loading report,
and any missing, unexpected or shape-mismatched key is refused in one error (style rule 12), with one
documented exception: a retriever may be started from a full seq2seq folder (RP builds its retriever with
``T5EncoderModel.from_pretrained("google/byt5-small")``), so decoder and LM-head keys are ignored there.
``.bin`` files are read with ``weights_only=True`` (no pickled code runs).

HF folders carry no training config, so inference settings are ReProver's evaluation defaults (our config
dataclasses' defaults: 2,048-byte input, 512-token output, 100 retrieved premises, length penalty 0). Whether
a generator was trained with retrieval is not recorded either; :func:`hf_generator_uses_retrieval` reads it
from the released naming (``retriever-tacgen``) or from a ``reprover_hf.json`` the user may put beside it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ninerepro.train import CheckpointError

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
IGNORED_FOR_RETRIEVER = ("decoder.", "lm_head.")
SIDE_FILE = "reprover_hf.json"  # optional: {"uses_retrieval": true|false}


def is_hf_folder(path: str | os.PathLike) -> bool:
    """A folder in the HF layout (``config.json``) that is not one of our exports or run folders."""
    p = Path(path)
    return (p / "config.json").is_file() and not (p / "reprover.json").is_file() and not any(p.glob("ckpt_*.pt"))


def is_hub_id(spec: str) -> bool:
    """``owner/name`` that is not a local path: loaded from the Hugging Face hub (or its local cache)."""
    return bool(HUB_ID.match(spec)) and not Path(spec).exists()


def _hf_config(source: str, kind: str) -> Any:
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(source)
    except (OSError, ValueError) as err:
        raise CheckpointError(f"{source}: not a readable Hugging Face {kind} ({_first_line(err)}); pass a folder "
                              "with config.json + weights + tokenizer files, or a hub id such as "
                              f"kaiyuy/leandojo-lean4-{'retriever' if kind == 'retriever' else 'tacgen'}-byt5-small"
                              ) from None
    if not getattr(config, "is_encoder_decoder", False) and kind == "generator":
        raise CheckpointError(f"{source}: config.json describes a {config.model_type} model that is not an "
                              "encoder-decoder; --generator needs a seq2seq model such as T5/ByT5")
    return config


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _refuse_bad_keys(source: str, info: dict[str, list], ignore: tuple[str, ...] = ()) -> None:
    missing = list(info.get("missing_keys", []))
    unexpected = [k for k in info.get("unexpected_keys", []) if not k.startswith(ignore)]
    mismatched = [str(m) for m in info.get("mismatched_keys", [])]
    if missing or unexpected or mismatched:
        parts = [f"missing {missing[:10]}" if missing else "", f"unexpected {unexpected[:10]}" if unexpected else "",
                 f"shape-mismatched {mismatched[:10]}" if mismatched else ""]
        raise CheckpointError(f"{source}: the weights do not fit its config.json ({'; '.join(p for p in parts if p)});"
                              " re-download the folder or save it again with save_pretrained")


def _tokenizer(source: str):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError, TypeError) as err:
        raise CheckpointError(f"{source}: its tokenizer files cannot be read ({_first_line(err)}); a ReProver "
                              "folder holds ByT5's tokenizer_config.json / special_tokens_map.json (or a T5 "
                              "spiece.model / tokenizer.json)") from None


def load_hf_retriever(source: str | os.PathLike):
    """(PremiseRetriever in eval mode on CPU, tokenizer, RetrieverRunConfig with RP's defaults)."""
    from transformers import AutoModelForTextEncoding

    from reprover.retrieval.config import RetrieverRunConfig
    from reprover.retrieval.model import PremiseRetriever

    source = str(source)
    _hf_config(source, "retriever")
    encoder, info = AutoModelForTextEncoding.from_pretrained(source, output_loading_info=True,
                                                        ignore_mismatched_sizes=True)  # reported below
    _refuse_bad_keys(source, info, IGNORED_FOR_RETRIEVER)
    return PremiseRetriever(encoder).eval(), _tokenizer(source), RetrieverRunConfig()


def load_hf_generator(source: str | os.PathLike):
    """(seq2seq model in eval mode on CPU, tokenizer, GeneratorRunConfig with RP's evaluation defaults)."""
    from transformers import AutoModelForSeq2SeqLM

    from reprover.generation.config import GeneratorRunConfig

    source = str(source)
    _hf_config(source, "generator")
    model, info = AutoModelForSeq2SeqLM.from_pretrained(source, output_loading_info=True,
                                                        ignore_mismatched_sizes=True)  # reported below
    _refuse_bad_keys(source, info)
    return model.eval(), _tokenizer(source), GeneratorRunConfig()


def hf_generator_uses_retrieval(source: str | os.PathLike) -> bool:
    """True for a generator trained on retrieved premises: ``reprover_hf.json`` says so, else the released name.

    ReProver names the retrieval-augmented generator ``leandojo-lean4-retriever-tacgen-byt5-small`` and the
    plain one ``leandojo-lean4-tacgen-byt5-small``; a renamed folder needs the side file to be recognised.
    """
    side = Path(source) / SIDE_FILE
    if side.is_file():
        return bool(json.loads(side.read_text(encoding="utf-8")).get("uses_retrieval", False))
    return "retriever-tacgen" in str(source)
