"""Split builders: ``random`` and ``novel_premises``, by the rule of LeanDojo's generation notebooks.

``novel_premises`` tests whether a prover can use premises it never saw used in training: premises are visited
from the least used upwards, and every theorem using the current premise goes to val+test until that pool
holds ``num_val + num_test`` theorems (the last premise may overshoot it; all of its users are taken).

One deviation, forced by the released format: the notebooks collect *every* identifier of a theorem's AST
(statement and proof), which the JSON records do not carry. Here a theorem "uses" the premises named in its
tactics' provenances; term-mode theorems therefore use nothing and always land in train. The official
releases remain the ones to evaluate on (regenerated splits are not reproducible).
"""

from __future__ import annotations

import json
import os
import random
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from ninerepro.atomic import atomic_write_text
from reprover.data.records import TheoremRecord, theorem_to_json

SEED = 3407  # random.seed(3407) in the generation notebooks
Splits = dict[str, list[TheoremRecord]]


def _cut(pool: list[TheoremRecord], train: list[TheoremRecord], num_val: int) -> Splits:
    return {"train": train, "val": pool[:num_val], "test": pool[num_val:]}


def split_randomly(theorems: list[TheoremRecord], num_val: int, num_test: int, seed: int = SEED) -> Splits:
    """Shuffle, then cut: the last ``num_test`` are test, the ``num_val`` before them val, the rest train."""
    if num_val + num_test >= len(theorems):
        raise ValueError(f"{len(theorems)} theorems cannot give {num_val} val + {num_test} test and a train set; "
                         "lower --num-val/--num-test")
    shuffled = list(theorems)
    random.Random(seed).shuffle(shuffled)
    n_train = len(shuffled) - num_val - num_test
    return _cut(shuffled[n_train:], shuffled[:n_train], num_val)


def premises_used_by_tactics(thm: TheoremRecord) -> set[str]:
    """Full names of the premises a theorem's tactics name (see the module note on the deviation)."""
    return {p.full_name for t in thm.traced_tactics for p in t.provenances}


def split_by_novel_premises(theorems: list[TheoremRecord], num_val: int, num_test: int, seed: int = SEED,
                            uses: Callable[[TheoremRecord], set[str]] = premises_used_by_tactics) -> Splits:
    """Val/test theorems each use a premise that no train theorem uses."""
    users: dict[str, list[int]] = defaultdict(list)
    for i, thm in enumerate(theorems):
        for name in sorted(uses(thm)):
            users[name].append(i)
    # fewest users first; the name breaks ties so the result does not depend on dict order
    order = sorted(users, key=lambda name: (len(users[name]), name))
    held_out: dict[int, None] = {}  # insertion-ordered set
    for name in order:
        if len(held_out) >= num_val + num_test:
            break
        held_out.update(dict.fromkeys(users[name]))
    if len(held_out) >= len(theorems):
        raise ValueError("every theorem landed in val/test; lower --num-val/--num-test")
    pool = [theorems[i] for i in held_out]
    random.Random(seed).shuffle(pool)
    train = [thm for i, thm in enumerate(theorems) if i not in held_out]
    return _cut(pool, train, num_val)


def write_splits(root: str | os.PathLike, strategy: str, splits: Splits) -> None:
    """Write ``root/strategy/{train,val,test}.json`` in the released format (atomically, one array each)."""
    for subset, theorems in splits.items():
        text = json.dumps([theorem_to_json(t) for t in theorems], ensure_ascii=False, indent=1)
        atomic_write_text(Path(root) / strategy / f"{subset}.json", text + "\n")
