"""Generate the demo benchmark: LeanDojo Benchmark 4's exact on-disk format over a toy rewriting world.

Premises (8 files ``Toy/Lemmas<i>.lean``): for every symbol ``f<k>`` one *useful* lemma
``theorem lem_<name> (y : ℕ) : f<k> y = y`` and three *distractors* ``theorem lem_<name> (y : ℕ) : h<j> y = f<k> y``
(they mention ``f<k>`` as well, but rewrite a symbol no goal contains). Names are random letters, so a lemma's
name cannot be guessed from its statement: a prover that has not seen a lemma used must read it somewhere.
Theorems (``Toy/Theorems<j>.lean``, importing every lemma file): ``theorem t<n> (x : ℕ) : f<a> (f<b> x) = x``
with 1 to 2 nested symbols, proved by one ``rw [Toy.lem_...]`` per symbol, outermost first; each theorem is a
premise too (statement only, as in the real corpus). Splits: ``random`` and ``novel_premises`` built by
:mod:`reprover.data.splits`, so every val/test theorem of ``novel_premises`` needs a lemma no training proof uses.
Everything is a function of ``seed``: the benchmark, and so the demo's numbers, reproduce exactly.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

from ninerepro.atomic import atomic_write_text
from reprover.data.positions import Pos
from reprover.data.records import Provenance, TheoremRecord, TracedTactic
from reprover.data.splits import split_by_novel_premises, split_randomly, write_splits
from reprover.toy.terms import Term, state

URL, COMMIT = "https://example.org/toy-rewriting", "0" * 40
NUM_SYMBOLS, NUM_LEMMA_FILES, DISTRACTORS = 80, 8, 3
NUM_THEOREMS, NUM_THEOREM_FILES = 600, 10


def _names(rng: random.Random, n: int) -> list[str]:
    seen: set[str] = set()
    while len(seen) < n:
        seen.add("lem_" + "".join(rng.choice(string.ascii_lowercase) for _ in range(5)))
    ordered = sorted(seen)  # a set's order varies with PYTHONHASHSEED; sort before shuffling
    rng.shuffle(ordered)
    return ordered


def _file_line(path: str, imports: list[str], codes: list[tuple[str, str]]) -> tuple[dict, dict[str, int]]:
    """The corpus.jsonl line of a file whose declarations sit one per line after its imports."""
    first = len(imports) + 2
    premises, line_of = [], {}
    for i, (full_name, code) in enumerate(codes):
        line = first + i
        premises.append({"full_name": full_name, "code": code, "start": [line, 1], "end": [line, len(code) + 1],
                         "kind": "commanddeclaration"})
        line_of[full_name] = line
    return {"path": path, "imports": imports, "premises": premises}, line_of


def generate(out: str | Path, seed: int = 0, num_val: int = 40, num_test: int = 40,
             num_symbols: int = NUM_SYMBOLS) -> Path:
    """Write the benchmark under ``out``. More symbols = each lemma used by fewer theorems, so a generator
    gains less from memorising training names and more from reading the premises it is given."""
    rng = random.Random(seed)
    out = Path(out)
    names = _names(rng, num_symbols * (1 + DISTRACTORS))
    useful = {f"f{k}": f"Toy.{names[k]}" for k in range(num_symbols)}
    lines: list[dict] = []
    where: dict[str, tuple[str, int]] = {}  # premise full name -> (file, line)
    lemma_files = []
    for i in range(NUM_LEMMA_FILES):
        path = f"Toy/Lemmas{i}.lean"
        codes = []
        for k in range(i, num_symbols, NUM_LEMMA_FILES):
            codes.append((useful[f"f{k}"], f"theorem {useful[f'f{k}'][4:]} (y : ℕ) : f{k} y = y"))
            for d in range(DISTRACTORS):
                name = names[num_symbols + k * DISTRACTORS + d]
                codes.append((f"Toy.{name}", f"theorem {name} (y : ℕ) : h{rng.randrange(num_symbols)} y = f{k} y"))
        rng.shuffle(codes)
        entry, line_of = _file_line(path, [], codes)
        lines.append(entry)
        where.update({n: (path, ln) for n, ln in line_of.items()})
        lemma_files.append(path)
    theorems: list[TheoremRecord] = []
    per_file = NUM_THEOREMS // NUM_THEOREM_FILES
    for j in range(NUM_THEOREM_FILES):
        path = f"Toy/Theorems{j}.lean"
        goals: list[Term] = [tuple(f"f{rng.randrange(num_symbols)}" for _ in range(rng.choice((1, 1, 2))))
                             for _ in range(per_file)]
        codes = [(f"Toy.t{j}_{n}", f"theorem t{j}_{n} (x : ℕ) : {state(g, ())[len('x : ℕ' + chr(10) + '⊢ '):]}")
                 for n, g in enumerate(goals)]
        entry, line_of = _file_line(path, lemma_files, codes)
        lines.append(entry)
        for (full_name, code), goal in zip(codes, goals, strict=True):
            ln = line_of[full_name]
            theorems.append(TheoremRecord(URL, COMMIT, path, full_name, Pos(ln, 1), Pos(ln, len(code) + 1),
                                          _proof(goal, useful, where)))
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "corpus.jsonl", "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    atomic_write_text(out / "metadata.json", json.dumps(
        {"dataset_name": "LeanDojo Benchmark 4 format: toy rewriting world (reprover demo)",
         "creation_time": "generated", "from_repo": {"url": URL, "commit": COMMIT},
         "leandojo_version": f"n/a (generated by reprover.toy.bench, seed {seed}, {num_symbols} symbols)"},
        indent=1) + "\n")
    write_splits(out, "random", split_randomly(theorems, num_val, num_test, seed))
    write_splits(out, "novel_premises", split_by_novel_premises(theorems, num_val, num_test, seed))
    return out


def _proof(goal: Term, useful: dict[str, str], where: dict[str, tuple[str, int]]) -> tuple[TracedTactic, ...]:
    steps, lhs = [], goal
    while lhs:
        lemma = useful[lhs[0]]
        path, line = where[lemma]
        short = lemma[len("Toy."):]
        prov = Provenance(lemma, path, Pos(line, 9), Pos(line, 9 + len(short)))
        after = lhs[1:]
        steps.append(TracedTactic(f"rw [{lemma}]", f"rw [<a>{lemma}</a>]", (prov,), state(lhs, ()),
                                  "no goals" if not after else state(after, ())))
        lhs = after
    return tuple(steps)


def main(argv: list[str] | None = None) -> int:
    """``python -m reprover.toy.bench OUT``: write the toy benchmark (then ``reprover prove --env rewrite``)."""
    import argparse

    p = argparse.ArgumentParser(description="write the toy rewriting benchmark in the Benchmark 4 format")
    p.add_argument("out", help="benchmark folder to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-symbols", type=int, default=NUM_SYMBOLS)
    args = p.parse_args(argv)
    if args.num_symbols < NUM_LEMMA_FILES:
        p.error(f"--num-symbols must be >= {NUM_LEMMA_FILES}")
    out = generate(args.out, seed=args.seed, num_symbols=args.num_symbols)
    print(f"wrote {out}; prove with `reprover prove --data {out} --split novel_premises --subset test "
          "--env rewrite --generator oracle --output OUT.json`")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
