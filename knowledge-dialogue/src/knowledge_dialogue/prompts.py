"""The prompt layouts of the official MSDP code (NVIDIA/Megatron-LM 164204cd, ``tasks/msdp/prompt.py``).

Every demonstration is stripped and followed by ``" \\n"``. Stage 1 (knowledge): demonstrations ``( {last
turn} ) {topic} => {knowledge}``, then the test line ``( {last turn} ) {topic} =>`` with the last turn raw.
Stage 2 (response): 20 fixed demonstrations ``Topic: {t}. User says: {turn} We know that: {k} System replies:
{r}``, then ``Topic: {t}. User says: {turn} We know that: {k} System replies:`` with the turn and the
(generated) knowledge NLTK-tokenised. The single-stage baseline (ours, the paper's "SSDP" idea) is stage 2
with every ``We know that: ...`` part removed, so the knowledge stage is the only difference.

Both stages decode greedily and keep the text before the first newline, stripped, with ``<|endoftext|>``
removed (``prepare_input`` does that to the knowledge before stage 2).
"""

from __future__ import annotations

from collections.abc import Sequence

from knowledge_dialogue.data import Sample
from knowledge_dialogue.demos import stage2_demo
from knowledge_dialogue.tokens import tokenized

EOT = "<|endoftext|>"


def join_demos(demos: Sequence[str]) -> str:
    return "".join(d.strip() + " \n" for d in demos)


def stage1_prompt(s: Sample, demos: Sequence[str]) -> str:
    return join_demos(demos) + "( " + s.last_turn + " ) " + s.topic + " =>"


def stage2_prompt(s: Sample, knowledge: str, demos: Sequence[Sample]) -> str:
    return (join_demos([stage2_demo(d) for d in demos]) + "Topic: " + s.topic + ". User says: "
            + tokenized(s.last_turn).strip() + " We know that: " + tokenized(knowledge).strip() + " System replies:")


def baseline_demo(d: Sample) -> str:
    return f"Topic: {d.topic}. User says: {tokenized(d.last_turn)} System replies: {tokenized(d.response)}"


def baseline_prompt(s: Sample, demos: Sequence[Sample]) -> str:
    return (join_demos([baseline_demo(d) for d in demos]) + "Topic: " + s.topic + ". User says: "
            + tokenized(s.last_turn).strip() + " System replies:")


def first_line(text: str) -> str:
    """What both stages keep of a generation: the first line, stripped, ``<|endoftext|>`` removed."""
    return text.split("\n")[0].strip().replace(EOT, "")
