"""Scoring finished stage outputs: final answers per method and k, the EM-by-k table (Markdown, JSON) and curve.

Reads only the stage JSONL files and the question file, so ``closedbook-qa score`` can rescore a run with
other cleaning or weighting without generating anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from closedbook_qa.aggregate import Candidate, majority_vote, weighted_vote
from closedbook_qa.cleaning import clean_answer
from closedbook_qa.data import QAItem
from closedbook_qa.metrics import mean_exact_match, normalize_answer
from closedbook_qa.pipeline import sample_key
from ninerepro.atomic import atomic_write_text
from ninerepro.lm import JsonlStore


def _candidates(qid: str, k: int, contexts: JsonlStore, answers: JsonlStore) -> list[Candidate]:
    out = []
    for i in range(k):
        c, a = contexts.get(sample_key(qid, i)), answers.get(sample_key(qid, i))
        out.append(Candidate(a["raw"], a["answer_logprob"], c["context_logprob"], c["context_tokens"]))
    return out


def score_run(tests: Sequence[QAItem], ks: Sequence[int], contexts: JsonlStore | None, answers: JsonlStore | None,
              direct: JsonlStore | None, *, official: bool = False, weighting: str = "mean") -> dict:
    """{"rows": [{method, k, EM}], "predictions": {method@k: {qid: answer}}}; EM in percent."""
    gold = {t.id: list(t.answers) for t in tests}
    rows, preds = [], {}
    if direct is not None:
        p = {t.id: normalize_answer(clean_answer(direct.get(t.id)["raw"], official)) for t in tests}
        preds["direct"] = p
        rows.append({"method": "direct few-shot (no context)", "k": 0, "EM": 100 * mean_exact_match(p, gold)})
    if contexts is not None and answers is not None:
        for k in ks:
            cands = {t.id: _candidates(t.id, k, contexts, answers) for t in tests}
            vote = {q: majority_vote([c.answer for c in cs], official=official) for q, cs in cands.items()}
            wtd = {q: weighted_vote(cs, weighting, official=official) for q, cs in cands.items()}
            preds[f"vote@{k}"], preds[f"weighted@{k}"] = vote, wtd
            rows.append({"method": "CGAP majority vote", "k": k, "EM": 100 * mean_exact_match(vote, gold)})
            rows.append({"method": f"CGAP weighted ({weighting})", "k": k, "EM": 100 * mean_exact_match(wtd, gold)})
    return {"rows": rows, "predictions": preds, "questions": len(tests), "official_cleaning": official}


def write_report(result: dict, out_dir: str | Path, header: dict[str, str] | None = None) -> dict[str, Path]:
    """em_by_k.md / .json / .png, each written atomically."""
    from ninerepro.viz import markdown_table

    out = Path(out_dir)
    lines = [f"- {k}: {v}" for k, v in (header or {}).items()]
    md = "\n".join([*lines, "", markdown_table(result["rows"], floatfmt=".1f"), ""])
    paths = {"md": atomic_write_text(out / "em_by_k.md", md),
             "json": atomic_write_text(out / "em_by_k.json", json.dumps({**result, "env": header}, indent=1) + "\n")}
    if any(r["k"] > 0 for r in result["rows"]):
        paths["png"] = plot_em_by_k(result["rows"], out / "em_by_k.png")
    return paths


def plot_em_by_k(rows: Sequence[dict], path: str | Path) -> Path:
    """EM against k for each aggregation, the direct baseline as a horizontal line."""
    from ninerepro.viz._figure import new_figure, save_figure

    fig = new_figure(5.5, 3.6)
    ax = fig.add_subplot()
    for method in dict.fromkeys(r["method"] for r in rows if r["k"] > 0):
        pts = [(r["k"], r["EM"]) for r in rows if r["method"] == method]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=method)
    for r in rows:
        if r["k"] == 0:
            ax.axhline(r["EM"], linestyle="--", color="gray", label=r["method"])
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k (generated contexts)")
    ax.set_ylabel("EM (%)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)
