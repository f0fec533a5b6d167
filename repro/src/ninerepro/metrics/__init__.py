"""Evaluation metrics shared by the reproductions, one concept per module.

Speech: ``error_rate`` (WER/CER), ``cepstral`` (MCD), ``spectral`` (LSD), ``pitch`` (GPE/VDE/FFE).
Retrieval: ``retrieval`` (R@k, MRR). Question answering: ``qa`` (SQuAD-normalised EM and token F1).
Dialogue: ``dialogue`` (ParlAI/MSDP unigram F1 and KF1, BLEU-1..4, ROUGE-L).
To add a metric family, put it in its own module and re-export its public names below.
"""

from ninerepro.metrics.cepstral import mcd, mcd_dtw, mel_cepstrum_from_mel
from ninerepro.metrics.dialogue import corpus_unigram_f1, normalize_parlai, unigram_f1
from ninerepro.metrics.edit_distance import EditStats, align
from ninerepro.metrics.error_rate import cer, edit_stats, split_chars, split_words, wer
from ninerepro.metrics.pitch import PitchCounts, ffe, gpe, pitch_counts, vde
from ninerepro.metrics.qa import exact_match, normalize_answer, token_f1
from ninerepro.metrics.retrieval import recall_at_k, reciprocal_rank, retrieval_metrics
from ninerepro.metrics.spectral import lsd

__all__ = [
    "EditStats",
    "PitchCounts",
    "align",
    "cer",
    "corpus_unigram_f1",
    "edit_stats",
    "exact_match",
    "ffe",
    "gpe",
    "lsd",
    "mcd",
    "mcd_dtw",
    "mel_cepstrum_from_mel",
    "normalize_answer",
    "normalize_parlai",
    "pitch_counts",
    "recall_at_k",
    "reciprocal_rank",
    "retrieval_metrics",
    "split_chars",
    "split_words",
    "token_f1",
    "unigram_f1",
    "vde",
    "wer",
]
