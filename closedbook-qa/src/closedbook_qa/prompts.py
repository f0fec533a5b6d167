"""The prompt layouts of the official CGAP code (zixianwang2022/Megatron-LM 94f438eb, ``tasks/odqa/``).

Stage 1 (context generation): each demonstration is ``Q: {q}\\nA: {title} {text}\\n\\n``, then the test line
``Q: {question}\\n``; the model writes a passage. Stage 2 (answer prediction): each demonstration is
``Context: {title} {text}\\nQuestion: {q}\\nAnswer: {a}\\n`` (no blank line between them), then
``Context: {generated}\\nQuestion: {question}\\n``; the model writes ``Answer: ...``. Demonstrations come
least similar first, so the most similar sits next to the test item.

The direct closed-book baseline is stage 2 without the context lines (``Question: {q}\\nAnswer: {a}\\n``), so
the only difference between it and CGAP is the generated context.

Over-long prompts: the official code drops demonstrations from the front when the prompt passes 2048 tokens
(by splitting on the ``Q: ``/``Question: `` headers, which also leaves the next demo headerless; we drop
whole demonstrations instead). :func:`ninerepro.lm.runs.fit_demos` does that with any token counter.
"""

from __future__ import annotations

from collections.abc import Sequence

from closedbook_qa.data import QAItem
from ninerepro.lm.runs import fit_demos

__all__ = ["direct_prompt", "fit_demos", "stage1_prompt", "stage2_prompt"]


def stage1_demo(d: QAItem) -> str:
    return f"Q: {d.question}\nA: {d.title} {d.text}\n\n"


def stage1_prompt(question: str, demos: Sequence[QAItem]) -> str:
    return "".join(stage1_demo(d) for d in demos) + f"Q: {question}\n"


def stage2_demo(d: QAItem) -> str:
    return f"Context: {d.title} {d.text}\nQuestion: {d.question}\nAnswer: {d.demo_answer}\n"


def stage2_prompt(question: str, context: str, demos: Sequence[QAItem]) -> str:
    return "".join(stage2_demo(d) for d in demos) + f"Context: {context}\nQuestion: {question}\n"


def direct_demo(d: QAItem) -> str:
    return f"Question: {d.question}\nAnswer: {d.demo_answer}\n"


def direct_prompt(question: str, demos: Sequence[QAItem]) -> str:
    return "".join(direct_demo(d) for d in demos) + f"Question: {question}\n"

