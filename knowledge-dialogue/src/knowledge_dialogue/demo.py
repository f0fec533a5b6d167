"""``make demo-knowledge-dialogue``: MSDP vs the same LM replying without the knowledge stage, on CPU.

Fixed sizes (never a time budget): this project's own WoW-format set (``data/dialogues``: 20 training
dialogues on 10 topics as the demonstration database, 4 test dialogues on topics it holds = "seen", 4 on
topics it lacks = "unseen", 24 wizard turns to answer), the embedded SmolLM2-135M-Instruct, the official
MSDP settings (10 + 20 demonstrations, greedy, 100 tokens, first line) with the embedded MiniLM choosing the
stage-1 demonstrations. Prints, per test set, B / R-L / F1 of the generated knowledge and B / R-L / F1 / KF1
of the MSDP and baseline responses, the environment, a verdict and the wall time.

``--threads`` defaults to 1: on a machine shared with other jobs, two-thread GEMMs stall on the slower thread.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from knowledge_dialogue.config import RunConfig
from knowledge_dialogue.data import NO_KNOWLEDGE, read_samples
from knowledge_dialogue.metrics import f1
from knowledge_dialogue.pipeline import STAGE_FILES
from knowledge_dialogue.report import write_report
from knowledge_dialogue.runner import EMBEDDED, run_pipeline
from knowledge_dialogue.tokens import tokenized
from ninerepro.lm import runs

PAPER = ("MSDP beats single-stage prompting: WoW seen F1 17.57 vs 14.16, KF1 22.95 vs 11.01; unseen F1 16.00 vs "
         "14.07, KF1 16.57 vs 11.34 (357M LM)")


def paired(tests, result: dict, field: str) -> tuple[int, int]:
    """(items where MSDP's response scores higher, lower) than the baseline's, by F1 (``field="F1"``) or KF1."""
    won = lost = 0
    for t, m, b in zip(tests, result["guesses"]["response"], result["guesses"]["baseline"]):
        ref = tokenized(t.response) if field == "F1" else ("" if t.knowledge == NO_KNOWLEDGE else t.knowledge)
        if not ref:
            continue
        fm, fb = f1(m, ref)[2], f1(b, ref)[2]
        won, lost = won + (fm > fb), lost + (fm < fb)
    return won, lost


def verdict(tests, result: dict) -> str:
    rows = {r["output"].split()[0]: r for r in result["rows"]}
    parts = []
    for field in ("F1", "KF1"):
        won, lost = paired(tests, result, field)
        real = abs(won - lost) > 2 * (won + lost) ** 0.5
        word = "higher" if rows["MSDP"][field] > rows["baseline"][field] else "not higher"
        parts.append(f"{field} {rows['MSDP'][field]:.1f} vs {rows['baseline'][field]:.1f} ({word}; {won} items up, "
                     f"{lost} down: {'beyond' if real else 'within'} noise, sign test 2 sigma)")
    return "MSDP vs no-knowledge baseline: " + "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="out/demo-knowledge-dialogue")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--resume", action="store_true", help="keep finished items of a previous demo run")
    args = p.parse_args(argv)
    import torch

    from ninerepro.envinfo import describe
    from ninerepro.lm import build_backend
    from ninerepro.lm.retrieval import HFMeanPoolEncoder

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    out = Path(args.out)
    cfg = RunConfig()
    train = read_samples(EMBEDDED / "train.json")
    backend = build_backend("hf", None, device="cpu", batch_size=cfg.batch_size)
    encoder = HFMeanPoolEncoder(cfg.demos1.encoder, pooling=cfg.demos1.pooling, normalize=cfg.demos1.normalize)
    texts = []
    for split in ("test_seen", "test_unseen"):
        sub = out / split
        runs.check_out_dir(sub, args.resume, not args.resume, STAGE_FILES)
        tests = read_samples(EMBEDDED / f"{split}.json")
        result = run_pipeline(backend, runs.EMBEDDED_ID, cfg, tests, train, sub, fresh=not args.resume,
                              seen=split == "test_seen", encoder=encoder)
        header = {"set": f"{split}: {len(tests)} wizard turns (data/dialogues), database {len(train)} turns",
                  "verdict": verdict(tests, result)}
        texts.append(write_report(result, sub, header)["md"].read_text(encoding="utf-8"))
    seconds = time.perf_counter() - start
    env = {**describe("cpu"), "model": "SmolLM2-135M-Instruct (GGUF Q4_1, embedded), greedy, official MSDP "
                                       "settings; stage-1 demos by all-MiniLM-L6-v2", "paper": PAPER,
           "wall time": f"{seconds:.0f} s"}
    print("\n".join(texts))
    print("\n".join(f"- {k}: {v}" for k, v in env.items()))
    print(f"time taken: {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
