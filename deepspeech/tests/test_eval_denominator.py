"""Evaluation never changes its denominator, and word timings belong to the text that was printed."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from ds_testkit import write_corpus
from lm_testkit import SENTENCES, noisy_posteriors, write_lm

from deepspeech.align import aligned_word_timings
from deepspeech.cli import eval_main, transcribe_main
from deepspeech.data import load_eval_utterances
from deepspeech.decode import BeamSearchDecoder, greedy_decode, word_timings
from deepspeech.ngram import NGramLM
from ninerepro.audio import save_wav
from ninerepro.text.ctc import CharVocab

EN = CharVocab.english()


def _rewrite(manifest: Path, edit) -> Path:
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    for i, row in enumerate(rows):
        edit(i, row)
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return manifest


def test_wrong_durations_and_punctuated_references_are_all_scored_with_a_warning(tmp_path, caplog):
    manifest = write_corpus(tmp_path / "dev", ["ab ba", "a b", "ba"], "dev.jsonl")

    def edit(i, row):
        if i == 0:
            row["duration"] = 0.01  # far too short for "ab ba": the training loader would drop it
        if i == 1:
            row["text"] = "A, B! 42"  # punctuation and digits: the scorer normalises them away

    _rewrite(manifest, edit)
    with caplog.at_level(logging.WARNING):
        utts = load_eval_utterances(manifest, EN)
    assert len(utts) == 3
    assert utts[0].duration > 0.5 and "disagree with the audio" in caplog.text
    assert utts[1].text == "A, B! 42"


def test_eval_reports_every_utterance_of_the_manifest(trained_checkpoint, tmp_path, capsys):
    manifest = write_corpus(tmp_path / "dev", ["ab ba", "a b", "ba", "abba"], "dev.jsonl")
    _rewrite(manifest, lambda i, row: row.update(duration=0.01) if i % 2 else None)
    report = tmp_path / "r.json"
    assert eval_main(["--manifest", str(manifest), "--checkpoint", str(trained_checkpoint),
                      "--report", str(report)]) == 0
    assert json.loads(report.read_text())["n"] == 4
    assert ": 4 utterances" in capsys.readouterr().out


def test_a_missing_audio_file_is_an_error_not_a_smaller_test_set(tmp_path):
    manifest = write_corpus(tmp_path / "dev", ["ab", "ba"], "dev.jsonl")
    (tmp_path / "dev" / "utt1.wav").unlink()
    with pytest.raises(ValueError, match=r"dev\.jsonl:2: cannot read audio"):
        load_eval_utterances(manifest, EN)


@pytest.mark.parametrize("seed", range(4))
def test_aligned_timings_of_the_greedy_text_equal_the_greedy_path_timings(seed):
    rng = np.random.default_rng(seed)
    lp = noisy_posteriors(SENTENCES[seed], EN, seed) + rng.normal(0, 1.0, (1, 1))
    lp = lp + rng.normal(0, 1.0, lp.shape)
    lp -= np.log(np.exp(lp).sum(axis=1, keepdims=True))
    text = greedy_decode(lp, EN)
    assert aligned_word_timings(lp, text, EN, 0.02) == word_timings(lp, EN, 0.02)


def test_timings_of_an_lm_result_name_the_lm_words_in_order(tmp_path):
    lm = NGramLM.load(write_lm(tmp_path))
    for seed, sentence in enumerate(SENTENCES[:3]):
        lp = noisy_posteriors(sentence, EN, seed)
        text = BeamSearchDecoder(EN, lm, beam_width=12, alpha=1.0, beta=1.0).decode(lp)
        words = aligned_word_timings(lp, text, EN, 0.02)
        assert [w["word"] for w in words] == text.split()
        starts = [w["start"] for w in words]
        assert starts == sorted(starts) and all(w["end"] > w["start"] for w in words)


def test_transcribe_json_timings_follow_the_lm_text(trained_checkpoint, tmp_path, capsys):
    from ds_testkit import tone_utterance

    save_wav(tmp_path / "a.wav", tone_utterance("ab ba", 0), 16000)
    (tmp_path / "t.txt").write_text("ab ba\nabba ab\n")
    from deepspeech.ngram import build_arpa

    build_arpa(tmp_path / "t.txt", tmp_path / "lm.arpa", 2)
    assert transcribe_main([str(tmp_path / "a.wav"), "--checkpoint", str(trained_checkpoint), "--json",
                            "--lm", str(tmp_path / "lm.arpa"), "--beam", "4", "--alpha", "3"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert [w["word"] for w in record["words"]] == record["text"].split()
