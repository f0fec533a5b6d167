"""Demonstration selection and prompt layouts, against the official code's rules (spec §3.2, §6)."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge_dialogue import prompts
from knowledge_dialogue.config import Stage1DemoConfig, Stage2DemoConfig
from knowledge_dialogue.data import Sample
from knowledge_dialogue.demos import Stage1Selector, dialog_example, knowledge_overlap, select_stage2


class WordEncoder:
    """A deterministic bag-of-words encoder: similarity = shared vocabulary (no model needed)."""

    name = "words"
    vocab = ("jazz", "music", "trumpet", "ice", "snow", "cold", "paper", "fold", "rock", "lava", "club")

    def encode(self, texts):
        return np.array([[t.lower().count(w) for w in self.vocab] for t in texts], dtype=np.float32)


def S(topic, turns, knowledge, response="r."):
    return Sample(topic, tuple(turns), knowledge, response)


TRAIN = [
    S("Jazz", ["hi", "I love jazz music"], "Jazz is music from New Orleans."),
    S("Jazz", ["a trumpet!"], "Jazz often features the trumpet."),
    S("Jazz", ["x"], "no_passages_used"),
    S("Jazz", ["the club"], "Jazz (a genre) is played in clubs."),  # parenthesis: out for unseen sets
    S("Glacier", ["so cold and ice"], "A Glacier is a river of ice."),
    S("Glacier", ["snow snow"], "Snow turns into ice over years."),  # topic string missing: out for unseen
    S("Volcano", ["rock and lava"], "Volcano rock forms when lava cools down on the surface slowly."),
    S("Origami", ["fold paper"], "Origami is paper folding."),
    S("Origami", ["fold it"], "It is said Origami began in Japan."),  # starts with It: out across topics
]


def selector(seen, **kw):
    return Stage1Selector(TRAIN, Stage1DemoConfig(**kw), seen=seen, encoder=WordEncoder())


def test_seen_topic_takes_its_own_most_similar_items_reversed():
    test = S("Jazz", ["hello", "do you like jazz music?"], "")
    demos = selector(seen=True).select([test])[test.key]
    assert demos == ["( the club ) Jazz => Jazz (a genre) is played in clubs.",
                     "( a trumpet! ) Jazz => Jazz often features the trumpet.",
                     "( I love jazz music ) Jazz => Jazz is music from New Orleans."]  # most similar last
    assert selector(seen=True, num_demos=1).select([test])[test.key] == [demos[-1]]


def test_unseen_sets_drop_parentheses_and_knowledge_without_the_topic():
    sel = selector(seen=False)
    assert all("(a genre)" not in e.instance and "Snow turns" not in e.instance for e in sel.entries)
    assert dialog_example(TRAIN[0], with_topic=True) == "( Jazz ) hi I love jazz music"


def test_an_unknown_topic_takes_one_item_per_topic_most_similar_last():
    test = S("Ice hockey", ["is ice cold?"], "")
    sel = selector(seen=False)
    assert not sel.knows("Ice hockey")
    demos = sel.select([test])[test.key]
    topics = [d.split(" => ")[0].rsplit(") ", 1)[1] for d in demos]
    assert sorted(topics) == sorted(set(topics)) and topics[-1] == "Glacier"
    assert not any(d.endswith("It is said Origami began in Japan.") for d in demos)  # "It" filter across topics
    asc = selector(seen=False, cross_topic_order="ascending").select([test])[test.key]
    assert asc[-1] != demos[-1] and "Glacier" in asc[0]  # the official code as written: least similar


def test_items_sharing_a_key_reuse_the_first_ones_demos():
    a = S("Jazz", ["trumpet trumpet", "same"], "")
    b = S("Jazz", ["music music", "same"], "")
    out = selector(seen=True).select([a, b])
    assert list(out) == ["Jazz same"] and "trumpet" in out["Jazz same"][-1]


def test_bm25_needs_no_model():
    test = S("Volcano", ["lava rock"], "")
    sel = Stage1Selector(TRAIN, Stage1DemoConfig(retriever="bm25"), seen=True)
    assert sel.select([test])[test.key] == ["( rock and lava ) Volcano => Volcano rock forms when lava cools down "
                                            "on the surface slowly."]


def test_knowledge_overlap_counts_only_runs_of_ten():
    k = "one two three four five six seven eight nine ten eleven"
    assert knowledge_overlap(k, "so " + k) == (11, 12, 11)
    assert knowledge_overlap(k, "one two three four five six seven eight nine X ten")[0] == 0


def test_stage2_filter_and_fixed_seeded_shuffle():
    k = "one two three four five six seven eight nine ten eleven twelve"
    good = [S(f"T{i}", ["q?"], k, "well , " + k) for i in range(6)]  # 12 / 14 = 0.86 copied
    copy_all = S("C", ["q?"], k, k)  # 100 % copied: over 0.9
    short = S("D", ["q?"], k, "well , one two three")  # no run of 10
    demos = select_stage2([copy_all, short, *good], Stage2DemoConfig(num_demos=4))
    assert len(demos) == 4 and all(d in good for d in demos)
    assert demos == select_stage2([copy_all, short, *good], Stage2DemoConfig(num_demos=4))
    expected = list(good)
    np.random.seed(1234)
    np.random.shuffle(expected)
    assert demos == expected[:4]
    assert len(select_stage2([copy_all, short], Stage2DemoConfig(filter_overlap=False))) == 2


def test_prompt_layouts_are_the_official_ones():
    t = S("Jazz", ["hi", "Do you like it?I do."], "Jazz is music.")
    assert prompts.stage1_prompt(t, [" ( a ) Jazz => k1 ", "( b ) Jazz => k2"]) == (
        "( a ) Jazz => k1 \n( b ) Jazz => k2 \n( Do you like it?I do. ) Jazz =>")
    d = S("Tea", ["Is it hot?"], "Tea is hot.", "Yes, tea is hot.")
    assert prompts.stage2_prompt(t, "Jazz is music from the U.S.", [d]) == (
        "Topic: Tea. User says: Is it hot ? We know that: Tea is hot . System replies: Yes , tea is hot . \n"
        "Topic: Jazz. User says: Do you like it ? I do . We know that: Jazz is music from the U.S . System replies:")
    assert prompts.baseline_prompt(t, [d]) == (
        "Topic: Tea. User says: Is it hot ? System replies: Yes , tea is hot . \n"
        "Topic: Jazz. User says: Do you like it ? I do . System replies:")


@pytest.mark.parametrize("raw, kept", [(" Jazz is old.\n( next", "Jazz is old."), ("\nfoo", ""),
                                       (" a<|endoftext|>", "a")])
def test_generations_keep_the_first_line(raw, kept):
    assert prompts.first_line(raw) == kept
