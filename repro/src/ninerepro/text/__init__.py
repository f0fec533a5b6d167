"""Text front ends: cleaners, CMUdict ARPAbet, the official TTS symbol tables, CTC vocabularies.

TTS (Tacotron 2, Flowtron, Mellotron)::

    ids = text_to_sequence("Dr. Smith paid $3.50.", ["english_cleaners"], symbol_set="tacotron2")
    ids = text_to_sequence(text, ["flowtron_cleaners"], "flowtron", p_arpabet=0.5, rng=random.Random(0))

ASR (Deep Speech, keyword spotting)::

    vocab = CharVocab.english()
    targets = vocab.encode(vocab.normalize(transcript))
"""

from ninerepro.text.arpabet import substitute_arpabet, word_to_arpabet
from ninerepro.text.cleaners import (
    CLEANERS,
    basic_cleaners,
    clean_text,
    english_cleaners,
    flowtron_cleaners,
    flowtron_english_cleaners,
    transliteration_cleaners,
)
from ninerepro.text.cmudict import CMUDict, load_cmudict, load_heteronyms
from ninerepro.text.ctc import CharVocab, ctc_collapse, normalize_for_ctc
from ninerepro.text.mellotron_compat import mellotron_text_to_sequence
from ninerepro.text.sequence import UnknownSymbolWarning, sequence_to_text, text_to_sequence
from ninerepro.text.symbols import ARPABET, SYMBOL_SET_NAMES, symbol_table

__all__ = [
    "ARPABET",
    "CLEANERS",
    "SYMBOL_SET_NAMES",
    "CMUDict",
    "CharVocab",
    "UnknownSymbolWarning",
    "basic_cleaners",
    "clean_text",
    "ctc_collapse",
    "english_cleaners",
    "flowtron_cleaners",
    "flowtron_english_cleaners",
    "load_cmudict",
    "load_heteronyms",
    "mellotron_text_to_sequence",
    "normalize_for_ctc",
    "sequence_to_text",
    "substitute_arpabet",
    "symbol_table",
    "text_to_sequence",
    "transliteration_cleaners",
    "word_to_arpabet",
]
