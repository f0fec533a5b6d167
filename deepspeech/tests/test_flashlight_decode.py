"""The flashlight-text KenLM decoder (the default) against our reference prefix beam search."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from lm_testkit import SENTENCES, noisy_posteriors, to_vocab, uppercase_arpa, write_lm

from deepspeech.decode import BeamSearchDecoder
from deepspeech.decoding import DecoderSpec, decode_all
from deepspeech.lm_files import loadable_lm
from deepspeech.ngram import NGramLM
from ninerepro.text.ctc import CharVocab

pytest.importorskip("flashlight.lib.text.decoder", reason="flashlight-text is not installed")
from deepspeech.flashlight_decode import FlashlightDecoder

EN, DSP = CharVocab.english(), CharVocab.deepspeech_pytorch()
FIXED = [(s, seed) for seed in range(2) for s in SENTENCES]  # 12 fixed noisy posteriorgrams


def _posts(vocab=EN):
    return [noisy_posteriors(s, vocab, seed + 10 * i) for i, (s, seed) in enumerate(FIXED)]


def ctc_log_likelihood(log_probs: np.ndarray, text: str, vocab: CharVocab) -> float:
    """ln p_ctc(text | x): all alignments summed (torch's CTC forward algorithm)."""
    lp = torch.from_numpy(np.asarray(log_probs, dtype=np.float32))[:, None]  # [T, 1, C]
    targets = torch.tensor(vocab.encode(text), dtype=torch.long).reshape(1, -1)
    loss = torch.nn.functional.ctc_loss(lp, targets, torch.tensor([len(lp)]),
                                        torch.tensor([len(text)]), reduction="sum")
    return -float(loss)


def test_with_a_word_lm_flashlight_gives_the_reference_top1_on_every_fixed_posteriorgram(tmp_path):
    arpa = write_lm(tmp_path)
    fl = FlashlightDecoder(EN, arpa, beam_width=10, alpha=1.0, beta=1.0)
    ref = BeamSearchDecoder(EN, NGramLM.load(arpa), beam_width=10, alpha=1.0, beta=1.0)
    posts = _posts()
    assert [fl.decode(lp) for lp in posts] == [ref.decode(lp) for lp in posts]


def test_flashlight_with_the_deepspeech_pytorch_vocabulary_and_an_uppercase_arpa_matches_the_lowercase_pair(
        tmp_path):
    arpa = write_lm(tmp_path)
    upper = uppercase_arpa(arpa, tmp_path / "upper.arpa")
    posts = _posts()
    lower_pair = [FlashlightDecoder(EN, arpa, 16, 1.0, 1.0).decode(lp) for lp in posts]
    dsp = FlashlightDecoder(DSP, upper, 16, 1.0, 1.0)
    upper_pair = [dsp.decode(to_vocab(lp, EN, DSP)) for lp in posts]
    assert [h.lower() for h in upper_pair] == lower_pair and all(h.isupper() for h in upper_pair)


def test_lexicon_free_without_lm_agrees_with_the_reference_or_finds_a_less_likely_labelling():
    """Every difference is explained: flashlight's lexicon-free search merges hypotheses whose LM state,
    last token and blank flag agree; with no LM every state is equal, so two different prefixes ending in
    the same character are merged and one of them is lost. The reference's labelling is then at least
    as likely under the exact CTC sum."""
    fl, ref = FlashlightDecoder(EN, None, beam_width=10), BeamSearchDecoder(EN, None, beam_width=10)
    same = 0
    for lp in _posts():
        a, b = fl.decode(lp), ref.decode(lp)
        if a == b:
            same += 1
        else:
            assert ctc_log_likelihood(lp, b, EN) >= ctc_log_likelihood(lp, a, EN) - 1e-4, (a, b)
    assert same >= len(FIXED) * 3 // 4


def test_a_gzipped_arpa_decodes_like_the_plain_file(tmp_path):
    arpa = write_lm(tmp_path)
    (tmp_path / "lm.arpa.gz").write_bytes(gzip.compress(arpa.read_bytes()))
    posts = _posts()[:4]
    plain = FlashlightDecoder(EN, arpa, 16, 1.0, 1.0)
    gz = FlashlightDecoder(EN, tmp_path / "lm.arpa.gz", 16, 1.0, 1.0)
    assert [gz.decode(lp) for lp in posts] == [plain.decode(lp) for lp in posts]


def test_worker_processes_return_the_texts_in_order(tmp_path):
    spec = DecoderSpec("english", str(write_lm(tmp_path)), "flashlight", 16, 1.0, 1.0)
    posts = _posts()
    assert decode_all(spec, posts, workers=2) == decode_all(spec, posts, workers=1)


def test_an_arpa_too_large_for_memory_without_build_binary_is_a_clear_error(tmp_path, monkeypatch):
    arpa = write_lm(tmp_path)
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(ValueError, match="build_binary"):
        loadable_lm(arpa, memory=arpa.stat().st_size)
    assert loadable_lm(arpa, memory=10 * 2**30) == arpa
