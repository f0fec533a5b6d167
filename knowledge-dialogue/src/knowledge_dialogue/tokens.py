"""NLTK ``word_tokenize`` as MSDP uses it (stage-2 prompts, response references), without downloading data.

The official code calls ``nltk.word_tokenize(text)``, which first splits sentences with the Punkt model
(``punkt_tab`` data, shipped in no wheel) and then runs the Treebank word tokenizer on each sentence. When the
Punkt data is installed (``python -m nltk.downloader punkt_tab``) we do exactly that. Otherwise we call
``word_tokenize(text, preserve_line=True)``: the same word tokenizer on the whole text as one sentence. Its
only effect is on a period that ends a sentence *inside* the text: ``"I like it. It is good."`` becomes
``I like it. It is good .`` instead of ``I like it . It is good .`` (question and exclamation marks, commas,
quotes and contractions are split the same either way). :data:`MODE` names which one ran, and it is part of
every stage fingerprint, so the two are never mixed in one run.
"""

from __future__ import annotations

from functools import cache


@cache
def _has_punkt() -> bool:
    import nltk

    try:
        nltk.data.find("tokenizers/punkt_tab/english/")
        return True
    except LookupError:
        return False


def mode() -> str:
    """``"punkt"`` (the official behaviour) or ``"preserve_line"`` (no Punkt data here)."""
    return "punkt" if _has_punkt() else "preserve_line"


def word_tokenize(text: str) -> list[str]:
    from nltk import word_tokenize as nltk_word_tokenize

    return nltk_word_tokenize(text, preserve_line=not _has_punkt())


def tokenized(text: str) -> str:
    """``" ".join(word_tokenize(text))``, the form stage-2 prompts and the response references use."""
    return " ".join(word_tokenize(text))
