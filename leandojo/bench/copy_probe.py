"""Can the demo's tiny generator learn to copy a lemma name from its input? (issue #19, demo item)

The demo's claim needs a generator that names a lemma it never saw used, which it can only do by copying
the name from the premises in its input. This probe removes retrieval from the question: each training
and evaluation input holds the *needed* lemma (the oracle premise), plus ``--distractors`` random other
lemmas, shuffled, before the state, exactly as :func:`reprover.generation.augment.format_augmented_state`
writes them. It trains the demo's generator shape (``configs/generator_tiny.json``: 2+2 layers, 64 wide)
on the toy benchmark's ``novel_premises`` train split and prints, every ``--eval-every`` steps, greedy exact
match on train, val, test, and on the val/test tactics whose lemma no training proof uses ("novel"), and
the share of novel outputs that copy some name from the input. ``--rename P`` renames the in-input premises
with probability P per example read (``data.rename_premises`` of the generator config).

    python bench/copy_probe.py [--symbols 80] [--steps 2000] [--batch-size 8] [--rename 0] [--distractors 0]

Fixed steps and seeds; nothing is written but stdout. Use ``OMP_NUM_THREADS=1``: the matrices are tiny.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import torch

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "generator_tiny.json"


def _rows(bench, subset: str) -> list[tuple[str, str, list[str]]]:
    """(state, tactic, marked texts of the tactic's positive premises) per traced tactic."""
    from reprover.data.records import remove_marks
    from reprover.retrieval.premise_text import premise_text

    out = []
    for thm in bench.split("novel_premises", subset):
        for tac in thm.traced_tactics:
            gold = bench.positive_premises(thm, tac)
            out.append((tac.state_before, remove_marks(tac.tactic), [premise_text(g) for g in gold]))
    return out


def main(argv: list[str] | None = None) -> int:
    from ninerepro.train import load_config
    from reprover.data.benchmark import Benchmark
    from reprover.generation.augment import format_augmented_state, rename_input_premises
    from reprover.generation.config import GeneratorRunConfig
    from reprover.generation.dataset import GeneratorCollator
    from reprover.generation.model import build_seq2seq
    from reprover.retrieval.arch import build_tokenizer
    from reprover.retrieval.premise_text import premise_text
    from reprover.toy.bench import generate

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--symbols", type=int, default=80, help="toy benchmark symbols (as the demo's --num-symbols)")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-3, help="AdamW, 20 warmup steps, then constant (the config's)")
    p.add_argument("--rename", type=float, default=0.0, help="probability of renaming the in-input premises")
    p.add_argument("--distractors", type=int, default=0, help="random other lemmas added to each input")
    p.add_argument("--eval-every", type=int, default=250)
    args = p.parse_args(argv)
    if not 0.0 <= args.rename <= 1.0 or args.steps < 1 or args.batch_size < 1:
        print("copy_probe.py: --rename must be in [0, 1], --steps and --batch-size >= 1", file=sys.stderr)
        return 2
    torch.manual_seed(0)
    bench = Benchmark(generate(tempfile.mkdtemp(prefix="copy_probe_"), num_symbols=args.symbols))
    lemmas = [premise_text(x) for x in bench.corpus.premises if "Lemmas" in x.path]
    train, val, test = (_rows(bench, s) for s in ("train", "val", "test"))
    name = re.compile(r"Toy\.\w+")
    seen = {name.search(t).group(0) for _, t, _ in train}
    novel = [r for r in val + test if name.search(r[1]).group(0) not in seen]
    print(f"{len(train)} train / {len(val)} val / {len(test)} test tactics, {len(novel)} novel", flush=True)

    def example(row, rng: random.Random, rename: float) -> tuple[str, str]:
        state, tactic, gold = row
        premises = gold + rng.sample(lemmas, args.distractors)
        rng.shuffle(premises)
        marked = format_augmented_state(state, premises, keep_marks=True)
        if rng.random() < rename:
            return rename_input_premises(marked, tactic, rng)
        return format_augmented_state(state, premises), tactic

    mcfg = load_config(GeneratorRunConfig, CONFIG, []).model  # the demo generator's shape and lengths
    tok, model = build_tokenizer(mcfg.arch), build_seq2seq(mcfg.arch)
    collate = GeneratorCollator(tok, mcfg.max_inp_seq_len, mcfg.max_oup_seq_len)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    erng = random.Random(2)
    evals = {k: [example(r, erng, 0.0) for r in rows]
             for k, rows in (("train", train[:64]), ("val", val), ("test", test), ("novel", novel))}

    @torch.no_grad()
    def score(items: list[tuple[str, str]]) -> tuple[float, float]:
        model.eval()
        hits = copies = 0
        for lo in range(0, len(items), 32):
            chunk = items[lo:lo + 32]
            enc = tok([x for x, _ in chunk], padding="longest", return_tensors="pt")
            preds = tok.batch_decode(model.generate(**enc, max_length=mcfg.max_oup_seq_len, num_beams=1,
                                                    do_sample=False),
                                     skip_special_tokens=True)
            for pred, (x, y) in zip(preds, chunk, strict=True):
                hits += pred.strip() == y
                m = name.search(pred)
                copies += bool(m) and m.group(0) in x
        model.train()
        return 100 * hits / len(items), 100 * copies / len(items)

    rng, start = random.Random(1), time.time()
    for step in range(1, args.steps + 1):
        for g in opt.param_groups:
            g["lr"] = args.lr * min(1.0, step / 20)
        batch = collate([example(r, rng, args.rename) for r in rng.sample(train, args.batch_size)])
        loss = model(**batch).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % args.eval_every == 0 or step == args.steps:
            res = {k: score(v) for k, v in evals.items()}
            em = " ".join(f"{k} {v[0]:.1f}" for k, v in res.items())
            print(f"step {step} loss {loss.item():.3f} exact match (%): {em}; novel outputs copying an input "
                  f"name {res['novel'][1]:.0f} %; {time.time() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
