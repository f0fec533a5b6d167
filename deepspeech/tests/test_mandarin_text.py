"""Mandarin text: normalisation, the character vocabulary (round trip, saved with the model), CER."""

from __future__ import annotations

import pytest
from mandarin_testkit import fixture_lines

from deepspeech.config import ModelConfig
from deepspeech.features import make_vocab
from deepspeech.mandarin.text import (
    UNK,
    build_vocab,
    cer_cmn,
    check_lang,
    load_vocab,
    normalize_cmn,
    save_vocab,
    score_cmn,
    vocab_from_spec,
    vocab_lang,
    vocab_spec,
)
from ninerepro.text.ctc import CharVocab


@pytest.mark.parametrize(("raw", "expected"), [
    ("而 对 楼市 成交", "而对楼市成交"),  # AISHELL-1 word segmentation removed
    ("今年 ＧＤＰ 增长 ７％。", "今年gdp增长7"),  # full-width to half-width, lower case, punctuation gone
    ("“你好”，他说：「再见！」", "你好他说再见"),  # Chinese quotes, comma, colon, corner brackets
    ("5G　网络…—", "5g网络"),  # ideographic space, ellipsis, dash
    ("Hello, World 2024", "helloworld2024"),
])
def test_normalisation_keeps_han_letters_and_digits_only(raw, expected):
    assert normalize_cmn(raw) == expected


def test_the_vocabulary_round_trips_every_fixture_transcript():
    texts = list(fixture_lines().values())
    vocab = build_vocab(texts)
    assert vocab.symbols[:2] == ("<blank>", UNK)
    assert {"g", "d", "p", "5"} <= set(vocab.characters)  # the Latin letters and digits that occur
    for text in texts:
        ids = vocab.encode(normalize_cmn(text))
        assert 1 not in ids and 0 not in ids
        assert vocab.decode(ids) == normalize_cmn(text)


def test_the_vocabulary_is_saved_inline_in_the_config_and_in_a_file(tmp_path):
    vocab = build_vocab(fixture_lines().values())
    spec = vocab_spec(vocab)
    assert ModelConfig(vocab=spec).vocab == spec  # a valid config value, stored with every checkpoint
    assert make_vocab(spec).symbols == vocab.symbols
    path = save_vocab(vocab, tmp_path / "vocab.txt")
    assert path.read_text(encoding="utf-8").splitlines()[:2] == ["<blank>", "<unk>"]
    assert load_vocab(path).symbols == vocab.symbols == vocab_from_spec(f"file:{path}").symbols
    assert build_vocab(reversed(list(fixture_lines().values()))).symbols == vocab.symbols  # order-independent


def test_unseen_characters_map_to_unknown_and_are_listed():
    vocab = build_vocab(["银行 贷款"])
    assert vocab.encode("银行鑫") == [vocab.encode("银")[0], vocab.encode("行")[0], vocab.unk]
    assert vocab.unknown_characters("银行 鑫 贷款 鑫 淼") == ["淼", "鑫"]


def test_a_bad_vocabulary_value_is_refused_by_the_config():
    with pytest.raises(ValueError, match=r"model\.vocab"):
        ModelConfig(vocab="mandarin")


def test_cer_counts_characters_after_normalisation():
    assert cer_cmn(["而 对 楼市"], ["而对楼市"]) == 0.0  # spaces are not characters in Mandarin
    assert cer_cmn(["银行利率"], ["银航利"]) == pytest.approx(2 / 4)  # one substitution, one deletion
    report = score_cmn(["银行利率", "市场"], ["银行利率", "市长场"])
    assert report["cer"] == pytest.approx(1 / 6) and report["wer"] is None
    assert report["utterances"][0]["hypothesis"] == "市长场"  # worst first


def test_language_of_a_vocabulary_and_the_lang_check():
    assert vocab_lang(CharVocab.english()) == "en" and vocab_lang(build_vocab(["市场"])) == "cmn"
    check_lang(None, CharVocab.english(), "ckpt")
    check_lang("en", CharVocab.english(), "ckpt")
    with pytest.raises(ValueError, match=r"English alphabet.*--lang en"):
        check_lang("cmn", CharVocab.english(), "ckpt")
