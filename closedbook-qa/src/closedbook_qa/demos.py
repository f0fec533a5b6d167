"""Per-question demonstrations from the training pool, as the official code picks them.

Top-n pool items by similarity of the test question to each pool item's question + passage text + title,
n = 10; a pool item whose question equals the test question is skipped without refilling (so 9 remain);
the list is reversed so the most similar demonstration sits last, next to the test item.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from closedbook_qa.config import DemoConfig
from closedbook_qa.data import QAItem
from ninerepro.lm.retrieval import build_retriever


def select_demos(tests: Sequence[QAItem], pool: Sequence[QAItem], cfg: DemoConfig,
                 cache_dir: str | Path | None = None, device: str = "cpu") -> dict[str, list[QAItem]]:
    if cfg.num_demos == 0 or not pool:
        return {t.id: [] for t in tests}
    retriever = build_retriever(cfg.retriever, [p.pool_text for p in pool], encoder_path=cfg.encoder,
                                pooling=cfg.pooling, cache_dir=cache_dir, device=device)
    hits = retriever.search([t.question for t in tests], cfg.num_demos)
    out = {}
    for t, row in zip(tests, hits):
        demos = [pool[i] for i, _ in row if pool[i].question.strip() != t.question.strip()]
        out[t.id] = demos[::-1]
    return out
