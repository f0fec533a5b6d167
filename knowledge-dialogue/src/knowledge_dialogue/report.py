"""Scoring finished stage outputs: the paper's table rows (B / R-L / F1, and KF1 for responses) as Markdown/JSON.

Knowledge is scored against the gold knowledge; responses against the NLTK-tokenised gold response (F1, B,
R-L) and the gold knowledge (KF1), as the official evaluation files are. The guesses are also written one per
line (``*_guess.txt``) so ``knowledge-dialogue score`` or any other evaluator can read them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from knowledge_dialogue.data import NO_KNOWLEDGE, Sample
from knowledge_dialogue.metrics import corpus_f1, generation_scores
from knowledge_dialogue.tokens import tokenized
from ninerepro.atomic import atomic_write_text
from ninerepro.lm import JsonlStore


def _column(store: JsonlStore, n: int, field: str) -> list[str]:
    return [store.get(str(i))[field] for i in range(n)]


def score_run(tests: Sequence[Sample], knowledge: JsonlStore | None, responses: JsonlStore | None,
              baseline: JsonlStore | None) -> dict:
    n = len(tests)
    gold_k = ["" if t.knowledge == NO_KNOWLEDGE else t.knowledge for t in tests]
    gold_r = [tokenized(t.response) for t in tests]
    rows, guesses = [], {}
    if knowledge is not None:
        k = _column(knowledge, n, "knowledge")
        guesses["knowledge"] = k
        rows.append({"output": "knowledge (stage 1)", **generation_scores(k, gold_k), "KF1": None})
    for name, store in (("MSDP response (stage 2)", responses), ("baseline response (no knowledge)", baseline)):
        if store is not None:
            r = _column(store, n, "response")
            guesses["response" if store is responses else "baseline"] = r
            rows.append({"output": name, **generation_scores(r, gold_r), "KF1": 100 * corpus_f1(r, gold_k)[2]})
    return {"rows": rows, "guesses": guesses, "items": n}


def write_report(result: dict, out_dir: str | Path, header: dict[str, str] | None = None) -> dict[str, Path]:
    from ninerepro.viz import markdown_table

    out = Path(out_dir)
    lines = [f"- {k}: {v}" for k, v in (header or {}).items()]
    rows = [{k: ("-" if v is None else v) for k, v in r.items()} for r in result["rows"]]
    md = "\n".join([*lines, "", markdown_table(rows, floatfmt=".2f"), ""])
    paths = {"md": atomic_write_text(out / "scores.md", md),
             "json": atomic_write_text(out / "scores.json", json.dumps({**result, "env": header}, indent=1) + "\n")}
    for name, col in result["guesses"].items():
        paths[name] = atomic_write_text(out / f"{name}_guess.txt", "".join(g.replace("\n", " ") + "\n" for g in col))
    return paths
