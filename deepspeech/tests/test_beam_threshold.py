"""flashlight's score pruning (``beam_threshold``): off by default, wired from config/CLI to the decoder,
and measured by bench/decoder_speed.py against the unpruned beam."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from lm_testkit import SENTENCES, noisy_posteriors, write_lm

from deepspeech import cli
from deepspeech.config import DecoderConfig
from deepspeech.decoding import DecoderSpec, build_decoder
from ninerepro.text.ctc import CharVocab

pytest.importorskip("flashlight.lib.text.decoder", reason="flashlight-text is not installed")
from deepspeech.flashlight_decode import FlashlightDecoder

EN = CharVocab.english()
BENCH = Path(__file__).resolve().parents[1] / "bench" / "decoder_speed.py"


def _posts():
    return [noisy_posteriors(s, EN, seed + 10 * i) for i, (s, seed) in
            enumerate((s, k) for k in range(2) for s in SENTENCES)]


def test_the_default_is_no_score_pruning_and_a_negative_threshold_is_refused(tmp_path):
    assert DecoderConfig().beam_threshold == 0.0 and DecoderSpec("english", "").beam_threshold == 0.0
    with pytest.raises(ValueError, match="beam_threshold must be >= 0"):
        DecoderConfig(beam_threshold=-1.0)
    with pytest.raises(ValueError, match="beam_threshold must be >= 0"):
        FlashlightDecoder(EN, write_lm(tmp_path), beam_threshold=-1.0)


def test_config_and_cli_carry_the_threshold_to_the_decoder(tmp_path):
    arpa = str(write_lm(tmp_path))
    spec = DecoderSpec.from_config(DecoderConfig(beam_threshold=12.5, lm_path=arpa), "english")
    assert spec.beam_threshold == 12.5 and build_decoder(spec).beam_threshold == 12.5
    p = argparse.ArgumentParser()
    cli._decoder_args(p)
    args = p.parse_args(["--checkpoint", "c", "--lm", arpa, "--beam-threshold", "7"])
    t = argparse.Namespace(cfg=argparse.Namespace(decoder=DecoderConfig(), model=argparse.Namespace(vocab="english")))
    assert cli._spec(args, t).beam_threshold == 7.0
    assert cli._spec(p.parse_args(["--checkpoint", "c", "--lm", arpa]), t).beam_threshold == 0.0


def test_a_wide_threshold_keeps_every_answer_and_a_tiny_one_changes_some(tmp_path):
    """The option reaches flashlight: a threshold near 0 keeps only the best hypothesis's ties (a greedy
    search) and loses answers of the beam; 50 nats is wider than any gap on these posteriors."""
    arpa, posts = write_lm(tmp_path), _posts()
    exact = [FlashlightDecoder(EN, arpa, 16, 1.0, 1.0).decode(lp) for lp in posts]
    wide = [FlashlightDecoder(EN, arpa, 16, 1.0, 1.0, beam_threshold=50.0).decode(lp) for lp in posts]
    tiny = [FlashlightDecoder(EN, arpa, 16, 1.0, 1.0, beam_threshold=1e-3).decode(lp) for lp in posts]
    assert wide == exact
    assert sum(a != b for a, b in zip(tiny, exact)) >= 2


def test_the_bench_compares_each_threshold_with_the_unpruned_beam(tmp_path):
    spec_ = importlib.util.spec_from_file_location("decoder_speed_bench", BENCH)
    bench = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(bench)
    posts = _posts()[:6]
    spec = DecoderSpec("english", str(write_lm(tmp_path)), "flashlight", 16, 1.0, 1.0)
    rows, exact = bench.threshold_rows(spec, posts, [1.0] * 6, [SENTENCES[i] for i in range(6)], [4, 8],
                                       [1e-3, 50.0])
    assert [(r["beam"], r["beam_threshold"]) for r in rows] == [(4, 0.0), (4, 1e-3), (4, 50.0), (8, 0.0),
                                                                (8, 1e-3), (8, 50.0)]
    assert all(r["same_as_unpruned"] == 6 for r in rows if r["beam_threshold"] in (0.0, 50.0))
    assert sorted(exact) == [4, 8] and all(r["x_real_time_cpu"] > 0 and r["wer"] < 1 for r in rows)
    lm = bench.NGramLM.load(spec.lm_path)
    lexicon = {w.lower() for w, _ in bench.arpa_unigrams(spec.lm_path)}
    ref = bench.reference_rows(spec, posts, [1.0] * 6, [SENTENCES[i] for i in range(6)], exact, [3, 0], lm,
                               lexicon, EN)
    assert [(r["beam"], r["utts"]) for r in ref] == [(4, 3)]  # 0 utterances: that beam is skipped
    assert sum(ref[0]["reasons"].values()) == 3 - ref[0]["same_top1"]  # every difference has a reason


def test_the_default_search_returns_the_same_text_on_every_call(tmp_path):
    """README: with pruning at 15-35 nats flashlight's beam-500 answers varied between calls; unpruned they
    did not. Guard the default on the fixed posteriorgrams (one decoder, three calls each)."""
    decoder, posts = FlashlightDecoder(EN, write_lm(tmp_path), 64, 1.0, 1.0), _posts()
    first = [decoder.decode(lp) for lp in posts]
    assert all([decoder.decode(lp) for lp in posts] == first for _ in range(2))
