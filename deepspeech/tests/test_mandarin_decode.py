"""The character-LM beam search: exact against brute force, and it repairs a homophone from context."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from deepspeech.decode import BeamSearchDecoder, greedy_decode
from deepspeech.decoding import DecoderSpec, build_decoder
from deepspeech.mandarin.decode import CharLMBeamSearchDecoder
from deepspeech.mandarin.lm import build_char_lm, char_lm_text
from deepspeech.mandarin.text import build_vocab, vocab_spec
from deepspeech.ngram import NGramLM, build_arpa


def _lm(tmp_path: Path, lines: list[str], order: int = 2) -> NGramLM:
    (tmp_path / "lm.txt").write_text(char_lm_text(lines), encoding="utf-8")
    return NGramLM.load(build_arpa(tmp_path / "lm.txt", tmp_path / "lm.arpa", order))


def _ctc_logp(log_probs: np.ndarray, ids: list[int]) -> float:
    if not ids:
        return float(log_probs[:, 0].sum())
    loss = torch.nn.functional.ctc_loss(torch.tensor(log_probs).unsqueeze(1), torch.tensor([ids]),
                                        torch.tensor([len(log_probs)]), torch.tensor([len(ids)]), reduction="sum")
    return -float(loss)


@pytest.mark.parametrize("seed", range(3))
def test_a_full_beam_finds_the_brute_force_best_labelling(tmp_path, seed):
    vocab = build_vocab(["市场银"])
    lm = _lm(tmp_path, ["市场", "银市场", "场市"])
    rng = np.random.default_rng(seed)
    lp = np.log(rng.dirichlet(np.ones(len(vocab)) * 0.5, size=4))  # [T=4, blank + unk + 3 chars]
    alpha, beta = 0.8, 0.5
    decoder = CharLMBeamSearchDecoder(vocab, lm, beam_width=1000, alpha=alpha, beta=beta, cutoff_top_n=10,
                                      cutoff_prob=1.0)
    best, best_q = None, -np.inf
    for n in range(5):
        for chars in itertools.product(vocab.symbols[1:], repeat=n):
            text = "".join(chars)
            ids = vocab.encode(text)
            if len(ids) + sum(a == b for a, b in itertools.pairwise(ids)) > len(lp):
                continue
            hist = ["<s>"]
            q = _ctc_logp(lp, ids)
            for ch in [*text, "</s>"]:
                q += alpha * lm.score(ch, hist) + (beta if ch != "</s>" else 0.0)
                hist.append(ch)
            if q > best_q:
                best, best_q = text, q
    assert decoder.decode(lp) == best


def test_without_an_lm_it_equals_the_reference_decoder(tmp_path):
    vocab = build_vocab(["市场银行利率"])
    rng = np.random.default_rng(0)
    for _ in range(5):
        lp = np.log(rng.dirichlet(np.ones(len(vocab)) * 0.3, size=12))
        ours = CharLMBeamSearchDecoder(vocab, None, beam_width=8, cutoff_prob=0.99).decode(lp)
        assert ours == BeamSearchDecoder(vocab, None, beam_width=8, cutoff_prob=0.99).decode(lp)


def test_the_character_lm_picks_the_homophone_the_context_asks_for(tmp_path):
    # 作 and 做 are both zuò: the acoustics slightly prefer the wrong one, the LM knows 写作业 / 做饭
    vocab = build_vocab(["写作业做饭"])
    arpa = build_char_lm_from(tmp_path, ["写作业", "我写作业", "做饭", "妈妈做饭"] * 3)
    frames = "写_作_业"
    lp = np.full((len(frames), len(vocab)), np.log(1e-4))
    for t, ch in enumerate(frames):
        lp[t, 0 if ch == "_" else vocab.symbols.index(ch)] = np.log(0.9)
    zuo1, zuo4 = vocab.symbols.index("作"), vocab.symbols.index("做")
    lp[2, zuo1], lp[2, zuo4] = np.log(0.45), np.log(0.55)
    assert greedy_decode(lp, vocab) == "写做业"
    decoder = build_decoder(DecoderSpec(vocab_spec(vocab), str(arpa), "flashlight", 16, 1.0, 0.0, 40, 1.0))
    assert isinstance(decoder, CharLMBeamSearchDecoder)  # a Mandarin vocabulary always gets the character decoder
    assert decoder.decode(lp) == "写作业"


def build_char_lm_from(tmp_path: Path, lines: list[str]) -> Path:
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(f'{{"audio_filepath": "x.wav", "duration": 1.0, "text": "{t}"}}\n' for t in lines),
                        encoding="utf-8")
    return build_char_lm(manifest, tmp_path / "lm.arpa", order=3)
