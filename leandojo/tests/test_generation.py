"""Generator pieces: the premise byte budget and order, dropout, beam search scores, the TacticGenerator API."""

from __future__ import annotations

import random

import pytest
import torch

from reprover.data.positions import Pos
from reprover.generation.augment import format_augmented_state, utf8_len
from reprover.generation.dataset import GeneratorCollator
from reprover.generation.generator import ReProverGenerator, dedupe
from reprover.generation.model import build_seq2seq
from reprover.retrieval.arch import ArchConfig, build_tokenizer
from reprover.search.generator_api import TacticGenerator

TINY = ArchConfig(d_model=32, d_ff=64, d_kv=8, num_heads=4, num_layers=1, num_decoder_layers=1, dropout_rate=0.0)
STATE = "n : ℕ\n⊢ 2 ∣ Toy.double n"


def test_best_ranked_premise_ends_up_right_before_the_state():
    out = format_augmented_state(STATE, ["first", "second"], max_len=1000)
    assert out == "second\n\nfirst\n\n" + STATE


def test_budget_counts_utf8_bytes_and_skips_a_long_premise_but_keeps_later_ones():
    budget = utf8_len(STATE) + len("ab\n\n") + len("∣∣\n\n".encode()) + 1
    out = format_augmented_state(STATE, ["ab", "x" * 50, "∣∣", "cd"], max_len=budget)
    assert out == "∣∣\n\nab\n\n" + STATE
    assert utf8_len(out) <= budget


def test_premise_dropout_is_seeded_and_marks_are_removed():
    texts = [f"theorem <a>p{i}</a> : True" for i in range(200)]
    a = format_augmented_state(STATE, texts, None, 0.5, random.Random(1))
    b = format_augmented_state(STATE, texts, None, 0.5, random.Random(1))
    assert a == b and "<a>" not in a
    kept = a.count("theorem")
    assert 60 < kept < 140  # about half of 200
    with pytest.raises(ValueError, match="p_drop"):
        format_augmented_state(STATE, texts, None, 1.0)


def test_renaming_gives_each_premise_in_the_input_one_fresh_name_in_input_and_target_alike():
    from reprover.generation.augment import rename_input_premises
    from reprover.generation.dataset import GeneratorDataset, GeneratorExample

    marked = format_augmented_state("x : ℕ\n⊢ f3 x = x", ["theorem <a>Toy.lem_abcd</a> (y : ℕ) : f3 y = y",
                                                         "theorem <a>Toy.lem_abc</a> (y : ℕ) : h1 y = f3 y"],
                                    keep_marks=True)
    text, tgt = rename_input_premises(marked, "rw [Toy.lem_abcd, Toy.lem_zz]", random.Random(0))
    new = tgt[len("rw [Toy."):tgt.index(",")]
    assert "<a>" not in text and "lem_abc" not in text and f"theorem Toy.{new} (y : ℕ) : f3 y = y" in text
    assert new != "lem_abcd" and len(new) == len("lem_abcd") and new[3] == "_"
    assert tgt.endswith(", Toy.lem_zz]")  # a name the input does not show stays as it is
    assert "x : ℕ\n⊢ f3 x = x" in text
    ex = GeneratorExample("⊢ f3 x = x", "rw [Toy.lem_abcd]", ["theorem <a>Toy.lem_abcd</a> : f3 y = y"])
    plain = GeneratorExample("⊢ f3 x = x", "rw [Toy.lem_abcd]")
    random.seed(0)
    renamed = GeneratorDataset([ex, plain], 1000, 0.0, rename_premises=1.0)
    first, second = renamed[0], renamed[0]  # fresh names each time the example is read
    assert first[1] != ex.tactic and first[1][len("rw [Toy."):-1] in first[0] and first != second
    assert renamed[1] == ("⊢ f3 x = x", plain.tactic)  # no premises in the input: nothing to rename
    assert GeneratorDataset([ex], 1000, 0.0)[0] == ("theorem Toy.lem_abcd : f3 y = y\n\n⊢ f3 x = x", ex.tactic)
    with pytest.raises(ValueError, match="rename_premises"):
        GeneratorDataset([ex], 1000, 0.0, rename_premises=1.5)


def test_dedupe_keeps_the_best_copy_and_drops_empty_tactics():
    assert dedupe([("simp", -2.0), ("rfl", -1.0), ("simp", -0.5), ("", -0.1)]) == [("simp", -0.5), ("rfl", -1.0)]


def test_collate_masks_target_padding_with_minus_100():
    batch = GeneratorCollator(build_tokenizer(TINY), 64, 16)([("⊢ a", "rfl"), ("⊢ b", "simp [x]")])
    assert (batch["labels"][0, 4:] == -100).all() and (batch["labels"][1] != -100).all()


def _generator() -> ReProverGenerator:
    torch.manual_seed(0)
    return ReProverGenerator(build_seq2seq(TINY), build_tokenizer(TINY), max_oup_seq_len=12)


def test_a_briefly_fitted_generator_returns_its_tactic_first_among_distinct_sorted_beams():
    gen = _generator()
    assert isinstance(gen, TacticGenerator)
    batch = GeneratorCollator(gen.tokenizer, 128, 12)([(STATE, "rfl")])
    opt = torch.optim.Adam(gen.model.parameters(), lr=1e-2)
    gen.model.train()
    for _ in range(60):
        opt.zero_grad()
        gen.model(**batch).loss.backward()
        opt.step()
    gen.model.eval()
    out = gen.generate(STATE, "Mathlib/Toy/Parity.lean", "Toy.double_even", Pos(12, 1), 6)
    assert 1 <= len(out) <= 6 and out[0][0] == "rfl"
    tactics = [t for t, _ in out]
    assert len(set(tactics)) == len(tactics)
    scores = [s for _, s in out]
    assert scores == sorted(scores, reverse=True) and all(s <= 0 for s in scores)


def test_a_beam_score_is_the_summed_token_log_probability_of_its_output():
    gen = _generator()
    tok, model = gen.tokenizer, gen.model
    enc = tok(STATE, return_tensors="pt")
    out = model.generate(**enc, max_length=12, num_beams=4, num_return_sequences=4, length_penalty=0.0,
                         do_sample=False, early_stopping=False, output_scores=True, return_dict_in_generate=True)
    seq = out.sequences[0]  # [T], starts with the decoder start token
    labels = seq[1:].clone()
    labels[labels == tok.pad_token_id] = -100
    with torch.no_grad():
        logits = model(**enc, labels=labels[None]).logits[0]  # [T-1, V]
    logp = torch.log_softmax(logits, -1).gather(1, labels.clamp_min(0)[:, None])[:, 0]
    total = logp[labels != -100].sum().item()
    assert out.sequences_scores[0].item() == pytest.approx(total, abs=1e-3)


def test_insert_gold_puts_a_missed_gold_premise_at_a_seeded_random_rank_and_keeps_hits(bench, theorems):
    """``data.insert_gold_premise``: an example whose retrieved premises miss its tactic's gold premise gets it."""
    from reprover.generation.dataset import generator_examples
    from reprover.retrieval.premise_text import premise_text

    rows = [(t, tac) for t in theorems for tac in t.traced_tactics if bench.positive_premises(t, tac)]
    thm, tac = rows[0]
    gold = bench.positive_premises(thm, tac)
    others = [p for p in bench.corpus.premises if p not in gold][:3]

    class Wrong:  # a retriever that never finds the gold premise (or finds it at rank 2)
        corpus = bench.corpus

        def __init__(self, hit: bool) -> None:
            self.hit = hit

        def retrieve(self, queries, k):
            ranked = [others[0], gold[0], others[2]] if self.hit else others
            return [[(p, 0.0) for p in ranked[:k]] for _ in queries]

    plain = generator_examples([thm], Wrong(False), 3)
    assert premise_text(gold[0]) not in list(plain[0].premises)  # default: as retrieved (RP)
    a = generator_examples([thm], Wrong(False), 3, insert_gold=True, seed=1)
    b = generator_examples([thm], Wrong(False), 3, insert_gold=True, seed=1)
    got = list(a[0].premises)
    assert got == list(b[0].premises) and len(got) == 3 and got.count(premise_text(gold[0])) == 1
    assert sum(premise_text(p) in got for p in others) == 2  # the gold premise replaced one retrieved premise
    ranks = {list(generator_examples([thm], Wrong(False), 3, insert_gold=True, seed=s)[0].premises)
             .index(premise_text(gold[0])) for s in range(20)}
    assert ranks == {0, 1, 2}  # random rank, not always the same slot
    hit = generator_examples([thm], Wrong(True), 3, insert_gold=True, seed=1)
    assert list(hit[0].premises) == [premise_text(p) for p in (others[0], gold[0], others[2])]  # left alone
