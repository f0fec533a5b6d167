"""Case handling of the LM path: vocabulary and ARPA case are normalised once, at load."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from lm_testkit import SENTENCES, noisy_posteriors, to_vocab, uppercase_arpa, write_lm

from deepspeech.decode import BeamSearchDecoder
from deepspeech.evaluate import score
from deepspeech.ngram import NGramLM
from ninerepro.text.ctc import CharVocab

EN, DSP = CharVocab.english(), CharVocab.deepspeech_pytorch()


def _decode_all(vocab: CharVocab, lm: NGramLM, posts) -> list[str]:
    dec = BeamSearchDecoder(vocab, lm, beam_width=12, alpha=1.0, beta=1.0)
    return [dec.decode(lp) for lp in posts]


def test_an_uppercase_arpa_scores_like_the_lowercase_one(tmp_path):
    lower = NGramLM.load(write_lm(tmp_path))
    upper = NGramLM.load(uppercase_arpa(tmp_path / "lm.arpa", tmp_path / "LM_UPPER.arpa"))
    assert upper.score("cat", ("<s>", "the")) == lower.score("cat", ("<s>", "the"))
    assert upper.score("zebra", ("the",)) == lower.score("zebra", ("the",))  # <UNK> read as <unk>


def test_the_deepspeech_pytorch_vocabulary_with_an_uppercase_arpa_gives_the_same_wer_as_the_lowercase_pair(
        tmp_path):
    arpa = write_lm(tmp_path)
    posts_en = [noisy_posteriors(s, EN, seed) for seed, s in enumerate(SENTENCES)]
    posts_dsp = [to_vocab(lp, EN, DSP) for lp in posts_en]
    refs = SENTENCES
    lower_pair = _decode_all(EN, NGramLM.load(arpa), posts_en)
    upper_pair = _decode_all(DSP, NGramLM.load(uppercase_arpa(arpa, tmp_path / "upper.arpa")), posts_dsp)
    mixed_pair = _decode_all(DSP, NGramLM.load(arpa), posts_dsp)
    assert [h.lower() for h in upper_pair] == lower_pair == [h.lower() for h in mixed_pair]
    assert all(h == h.upper() for h in upper_pair)  # the text stays in the vocabulary's case
    greedy = score(refs, _decode_all(EN, None, posts_en))["wer"]
    with_lm = score(refs, lower_pair)["wer"]
    assert with_lm < greedy  # the LM matters on these posteriors, so a broken history would show
    assert score(refs, upper_pair)["wer"] == with_lm


def test_a_gzipped_arpa_reads_like_the_plain_file(tmp_path):
    import gzip

    arpa = write_lm(tmp_path)
    (tmp_path / "lm.arpa.gz").write_bytes(gzip.compress(arpa.read_bytes()))
    assert NGramLM.load(tmp_path / "lm.arpa.gz").tables == NGramLM.load(arpa).tables


def test_a_kenlm_binary_is_refused_with_the_decoder_that_reads_it(tmp_path):
    import pytest

    path = tmp_path / "lm.bin"
    path.write_bytes(b"mmap lm http://kheafield.com/code format version 5\0" + bytes(64))
    with pytest.raises(ValueError, match="--decoder flashlight"):
        NGramLM.load(path)
