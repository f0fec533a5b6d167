"""Modified Kneser-Ney n-gram estimation whose counts stream through sorted files on disk, as lmplz does.

The estimate is the one of KenLM's ``lmplz`` (Heafield et al. 2013, "Scalable Modified Kneser-Ney Language
Model Estimation"; Chen & Goodman 1998 for the smoothing):

1. Sentences are padded with order-1 ``<s>`` and one ``</s>``; every highest-order window that ends on a
   real word or ``</s>`` is counted. Chunks of text are counted in memory, sorted and spilled to disk as
   runs, and the runs are merged block by block, so memory holds one chunk, never the corpus.
2. Adjusted counts (one streaming pass over the n-grams in suffix order): the highest order keeps raw
   counts; a lower-order n-gram counts its distinct left extensions, except n-grams that begin with
   ``<s>``, which have no left context and keep their raw counts. Windows with ``<s>`` in a second position
   are padding artefacts and are dropped after they have given their counts to lower orders.
3. Three discounts per order from the counts of counts t_1..t_4 of the adjusted counts:
   Y = t1 / (t1 + 2 t2), D_k = k - (k + 1) Y t_{k+1} / t_k for k = 1, 2, 3 (D3 is used for all counts >= 3).
   Where they cannot be estimated (some t_k = 0, or a D_k outside [0, k]: tiny or artificial text) the
   fallback of ``lmplz --discount_fallback`` is used (0.5, 1.0, 1.5) and a warning is logged.
4. Per context h (n-grams re-sorted by context): u(w|h) = (a(hw) - D(a(hw))) / sum_x a(hx) and the
   interpolation weight b(h) = (D1 N1(h.) + D2 N2(h.) + D3 N3+(h.)) / sum_x a(hx).
5. Interpolation, lowest order first (re-sorted by suffix and merge-joined with the order below):
   p(w|h) = u(w|h) + b(h) p(w|h'), unigrams interpolated with the uniform 1 / |V| (|V| counts ``<unk>``
   and ``</s>``, not ``<s>``); ``<unk>`` gets only that uniform share.
6. ARPA output in backoff form: an interpolated model's backoff weight is b(h) itself. ``<s>`` is written
   with -99 (never predicted); n-grams that are no context get backoff 0.

Memory is bounded by ``memory_rows`` (rows held by any one sort or merge) plus the vocabulary and the
unigram arrays, so a LibriSpeech-LM-corpus-sized text (800 M words) needs disk, not memory. With glibc's
default malloc settings the resident size still creeps up (its mmap threshold rises as large blocks are
freed, and the heap fragments: 326 MB for a 1 M-word 4-gram whose live data stays under 20 MB); run with
``MALLOC_MMAP_THRESHOLD_=65536`` (the recipe does) and it stays flat (49 MB for that build).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
NO_PROB = -99.0  # ARPA convention for <s>, which is never predicted
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # lmplz --discount_fallback
DEFAULT_MEMORY_ROWS = 2_000_000


@dataclass
class Block:
    """A block of n-gram records: word ids [n, k] in natural order plus named value columns."""

    grams: np.ndarray
    vals: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.grams)

    def take(self, index) -> Block:
        return Block(self.grams[index], {k: v[index] for k, v in self.vals.items()})


def _concat(blocks: list[Block]) -> Block:
    if len(blocks) == 1:
        return blocks[0]
    return Block(np.concatenate([b.grams for b in blocks]),
                 {k: np.concatenate([b.vals[k] for b in blocks]) for k in blocks[0].vals})


def suffix_priority(k: int) -> tuple[int, ...]:
    """Column priority of suffix order: last word first (how lmplz sorts for adjusted counts)."""
    return tuple(range(k - 1, -1, -1))


def context_priority(k: int) -> tuple[int, ...]:
    """Column priority of context order: first word first, so each context's n-grams are contiguous."""
    return tuple(range(k))


def _keys(grams: np.ndarray, priority: Sequence[int]) -> np.ndarray:
    """Byte keys whose memcmp order is the priority order (big-endian ids), for searchsorted."""
    raw = np.ascontiguousarray(grams[:, list(priority)].astype(">u4"))
    return raw.view(f"V{4 * len(priority)}").ravel()


def _sort_reduce(block: Block, priority: Sequence[int], sum_fields: Sequence[str]) -> Block:
    """Sorted by ``priority``; equal n-grams merged (``sum_fields`` added, other fields from the first)."""
    if len(block) == 0:
        return block
    order = np.lexsort([block.grams[:, c] for c in reversed(priority)])
    block = block.take(order)
    new = np.ones(len(block), dtype=bool)
    new[1:] = (block.grams[1:] != block.grams[:-1]).any(axis=1)
    if new.all():
        return block
    starts = np.flatnonzero(new)
    vals = {k: (np.add.reduceat(v, starts) if k in sum_fields else v[starts]) for k, v in block.vals.items()}
    return Block(block.grams[starts], vals)


class Spool:
    """Blocks appended to .npy files in a folder and read back in order (memory-mapped, block by block)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.parts: list[tuple[Path, list[str]]] = []
        self.rows = 0

    def append(self, block: Block) -> None:
        if len(block) == 0:
            return
        base = self.folder / f"part{len(self.parts):06d}"
        np.save(f"{base}.grams.npy", block.grams)
        for name, v in block.vals.items():
            np.save(f"{base}.{name}.npy", v)
        self.parts.append((base, list(block.vals)))
        self.rows += len(block)

    def blocks(self) -> Iterator[Block]:
        for base, names in self.parts:
            yield Block(np.load(f"{base}.grams.npy"), {n: np.load(f"{base}.{n}.npy") for n in names})

    def reader(self, i: int) -> PartReader:
        base, names = self.parts[i]
        return PartReader(base, names)


class _NpyRows:
    """Rows [start, stop) of a .npy file read with plain file reads: no memory map, whose touched pages
    would count as the process's resident memory."""

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = header(f)
            self.offset = f.tell()
        assert not fortran
        self.shape, self.dtype = shape, dtype
        self.row_items = int(np.prod(shape[1:])) if len(shape) > 1 else 1

    def rows(self, start: int, stop: int) -> np.ndarray:
        with open(self.path, "rb") as f:
            f.seek(self.offset + start * self.row_items * self.dtype.itemsize)
            flat = np.fromfile(f, dtype=self.dtype, count=(stop - start) * self.row_items)
        return flat.reshape((stop - start, *self.shape[1:]))


class PartReader:
    """One spilled run, read a window of rows at a time."""

    def __init__(self, base: Path, names: list[str]) -> None:
        self.grams = _NpyRows(f"{base}.grams.npy")
        self.vals = {n: _NpyRows(f"{base}.{n}.npy") for n in names}

    def __len__(self) -> int:
        return self.grams.shape[0]

    def rows(self, start: int, stop: int) -> Block:
        return Block(self.grams.rows(start, stop), {n: v.rows(start, stop) for n, v in self.vals.items()})


class ExternalSorter:
    """Sort (and merge equal n-grams of) a stream larger than memory: sorted runs of at most ``max_rows``
    rows are spilled to disk, then merged block by block. ``runs`` counts the spills (1 = it fitted)."""

    def __init__(self, folder: Path, priority: Sequence[int], sum_fields: Sequence[str] = (),
                 max_rows: int = DEFAULT_MEMORY_ROWS) -> None:
        self.priority, self.sum_fields, self.max_rows = tuple(priority), tuple(sum_fields), max(2, max_rows)
        self.spool = Spool(folder)
        self.buffer: list[Block] = []
        self.buffered = 0

    @property
    def runs(self) -> int:
        return len(self.spool.parts)

    def add(self, block: Block) -> None:
        if len(block) == 0:
            return
        self.buffer.append(block)
        self.buffered += len(block)
        if self.buffered >= self.max_rows:
            self._spill()

    def _spill(self) -> None:
        if self.buffer:
            self.spool.append(_sort_reduce(_concat(self.buffer), self.priority, self.sum_fields))
        self.buffer, self.buffered = [], 0

    def blocks(self) -> Iterator[Block]:
        """The sorted, merged stream in blocks of bounded size."""
        if not self.spool.parts:  # everything fitted: no disk round trip
            if self.buffer:
                whole = _sort_reduce(_concat(self.buffer), self.priority, self.sum_fields)
                self.buffer, self.buffered = [], 0
                for start in range(0, len(whole), self.max_rows):
                    yield whole.take(slice(start, start + self.max_rows))
            return
        self._spill()
        yield from self._merge()

    def _merge(self) -> Iterator[Block]:
        runs = [self.spool.reader(i) for i in range(len(self.spool.parts))]
        pos = [0] * len(runs)
        window = max(1, self.max_rows // len(runs))
        active = [i for i, r in enumerate(runs) if len(r)]
        while active:
            # everything up to the smallest last key of the current windows can be emitted: no run holds a
            # smaller key further on, and keys are unique within a run
            ends = {i: min(pos[i] + window, len(runs[i])) for i in active}
            parts = {i: runs[i].rows(pos[i], ends[i]) for i in active}
            last = {i: _keys(parts[i].grams[-1:], self.priority)[0].tobytes() for i in active}
            threshold = np.frombuffer(min(last.values()), dtype=f"V{4 * len(self.priority)}")
            taken = []
            for i in active:
                part = parts[i]
                n = int(np.searchsorted(_keys(part.grams, self.priority), threshold, side="right")[0])
                if n:
                    taken.append(part.take(slice(0, n)))
                    pos[i] += n
            active = [i for i in active if pos[i] < len(runs[i])]
            yield _sort_reduce(_concat(taken), self.priority, self.sum_fields)


# ---- the estimation stages ------------------------------------------------------------------------------
class Vocabulary:
    """Word <-> id, with <unk>, <s>, </s> at 0, 1, 2 (lmplz's order)."""

    def __init__(self) -> None:
        self.words = [UNK, BOS, EOS]
        self.ids = {w: i for i, w in enumerate(self.words)}

    def encode(self, words: Sequence[str]) -> list[int]:
        ids, table = [], self.ids
        for w in words:
            i = table.get(w)
            if i is None:
                i = table[w] = len(self.words)
                self.words.append(w)
            ids.append(i)
        return ids

    def __len__(self) -> int:
        return len(self.words)


def count_ngrams(sentences: Iterable[Sequence[str]], order: int, vocab: Vocabulary, sorter: ExternalSorter,
                 chunk_tokens: int) -> int:
    """Count every padded highest-order window into ``sorter`` chunk by chunk; returns sentences read."""
    pad = [BOS_ID] * (order - 1)
    flat: list[int] = []
    n = 0
    skipped = 0

    def flush() -> None:
        ids = np.asarray(flat, dtype=np.uint32)
        windows = np.lib.stride_tricks.sliding_window_view(ids, order)
        grams = np.ascontiguousarray(windows[windows[:, -1] != BOS_ID])
        sorter.add(Block(grams, {"count": np.ones(len(grams), dtype=np.int64)}))
        flat.clear()

    for words in sentences:
        if any(w in (BOS, EOS) for w in words):
            skipped += 1
            words = [w for w in words if w not in (BOS, EOS)]
        flat.extend(pad)
        flat.extend(vocab.encode(words))
        flat.append(EOS_ID)
        n += 1
        if len(flat) >= chunk_tokens:
            flush()
    if flat:
        flush()
    if skipped:
        log.warning("%d lines held <s> or </s> as words; those tokens were dropped", skipped)
    return n


class _GroupCarry:
    """Streams per-group sums across block boundaries (groups are contiguous runs of equal keys)."""

    def __init__(self) -> None:
        self.gram: np.ndarray | None = None
        self.sums: dict[str, np.ndarray] = {}

    def feed(self, grams: np.ndarray, starts_new: np.ndarray, vals: dict[str, np.ndarray]) -> Block | None:
        """Add one block; returns the groups completed by it (the last group is carried on)."""
        idx = np.flatnonzero(starts_new)
        head = idx[0] if len(idx) else len(grams)
        if head and self.gram is not None:
            for k, v in vals.items():
                self.sums[k] = self.sums[k] + v[:head].sum()
        if not len(idx):
            return None
        sums = {k: np.add.reduceat(v, idx) for k, v in vals.items()}
        out_grams, out_vals = grams[idx[:-1]], {k: s[:-1] for k, s in sums.items()}
        if self.gram is not None:
            out_grams = np.concatenate([self.gram[None], out_grams])
            out_vals = {k: np.concatenate([np.atleast_1d(self.sums[k]), out_vals[k]]) for k in out_vals}
        self.gram = grams[idx[-1]].copy()
        self.sums = {k: s[-1:] for k, s in sums.items()}
        return Block(out_grams, out_vals)

    def finish(self) -> Block | None:
        if self.gram is None:
            return None
        return Block(self.gram[None], {k: np.atleast_1d(v) for k, v in self.sums.items()})


def adjusted_counts(top_blocks: Iterable[Block], order: int, spools: list[Spool]) -> None:
    """One pass over the suffix-sorted highest-order counts: each order's adjusted counts, in suffix order,
    appended to ``spools[k - 1]`` as blocks with a ``count`` column."""
    previous: np.ndarray | None = None
    carries = [_GroupCarry() for _ in range(order)]

    def emit(k: int, block: Block | None) -> None:
        if block is None or not len(block):
            return
        adj, raw = block.vals["adj"], block.vals["raw"]
        grams = block.grams
        starts_bos = grams[:, 0] == BOS_ID
        count = np.where(starts_bos, raw, adj) if k < order else raw
        keep = ~(starts_bos & (grams[:, 1] == BOS_ID)) if k >= 2 else np.ones(len(grams), dtype=bool)
        spools[k - 1].append(Block(np.ascontiguousarray(grams[keep]), {"count": count[keep].astype(np.int64)}))

    for blk in top_blocks:
        g, c = blk.grams, blk.vals["count"]
        before = np.empty_like(g)
        before[1:] = g[:-1]
        before[0] = previous if previous is not None else np.iinfo(np.uint32).max
        eq = g == before
        same = np.flip(np.cumprod(np.flip(eq, axis=1), axis=1), axis=1).sum(axis=1)  # common suffix length
        for k in range(1, order + 1):
            grams = g[:, order - k:]
            distinct_ext = (same < k + 1).astype(np.int64)  # a new (k+1)-suffix: one more left extension
            emit(k, carries[k - 1].feed(grams, same < k, {"adj": distinct_ext, "raw": c}))
        previous = g[-1].copy()
    for k in range(1, order + 1):
        emit(k, carries[k - 1].finish())


def counts_of_counts(spool: Spool) -> list[int]:
    """t_0..t_4 of an order's adjusted counts (t_0 unused)."""
    t = [0] * 5
    for blk in spool.blocks():
        binc = np.bincount(np.minimum(blk.vals["count"], 5), minlength=6)
        for j in range(1, 5):
            t[j] += int(binc[j])
    return t


def discounts(t: Sequence[int], order: int) -> tuple[float, float, float]:
    """(D1, D2, D3+) from counts of counts (Chen & Goodman eq. 26), or lmplz's fallback (logged)."""
    if all(t[j] > 0 for j in range(1, 5)):
        y = t[1] / (t[1] + 2.0 * t[2])
        d = tuple(j - (j + 1) * y * t[j + 1] / t[j] for j in (1, 2, 3))
        if all(0.0 <= d[j - 1] <= j for j in (1, 2, 3)):
            return d  # type: ignore[return-value]
    log.warning("%d-grams: counts of counts %s give no valid modified Kneser-Ney discounts (small or "
                "artificial text); using lmplz's fallback D1, D2, D3+ = %s", order, list(t[1:]), FALLBACK_DISCOUNTS)
    return FALLBACK_DISCOUNTS


def _discounted(count: np.ndarray, d: Sequence[float]) -> np.ndarray:
    table = np.array([0.0, d[0], d[1], d[2]])
    return count - table[np.minimum(count, 3)]


def initial_probabilities(blocks: Iterable[Block], k: int, d: Sequence[float], out: ExternalSorter,
                          contexts: Spool) -> None:
    """Context-sorted order-k adjusted counts -> (u, gamma of the context) per n-gram into ``out`` and
    (context, gamma) into ``contexts`` (in context order)."""
    held: Block | None = None
    dvec = np.array([d[0], d[1], d[2]])

    def groups(block: Block, final: bool) -> Block | None:
        ctx = block.grams[:, : k - 1]
        new = np.ones(len(block), dtype=bool)
        new[1:] = (ctx[1:] != ctx[:-1]).any(axis=1)
        starts = np.flatnonzero(new)
        cut = len(block) if final else starts[-1]  # the last context may continue in the next block
        if cut == 0:
            return block
        done = block.take(slice(0, cut))
        starts = starts[starts < cut]
        a = done.vals["count"]
        denom = np.add.reduceat(a, starts).astype(np.float64)
        n = [np.add.reduceat(((a == j) if j < 3 else (a >= 3)).astype(np.int64), starts) for j in (1, 2, 3)]
        gamma = (dvec[0] * n[0] + dvec[1] * n[1] + dvec[2] * n[2]) / denom
        sizes = np.diff(np.append(starts, cut))
        u = _discounted(a, d) / np.repeat(denom, sizes)
        out.add(Block(done.grams, {"u": u, "gamma": np.repeat(gamma, sizes)}))
        contexts.append(Block(np.ascontiguousarray(done.grams[starts, : k - 1]), {"gamma": gamma}))
        return block.take(slice(cut, None))

    for blk in blocks:
        held = blk if held is None or not len(held) else _concat([held, blk])
        held = groups(held, final=False)
    if held is not None and len(held):
        groups(held, final=True)


def _lookup(lower: Iterator[Block], window: list[Block], want: np.ndarray, priority: Sequence[int]) -> np.ndarray:
    """Values ``p`` of the n-grams ``want`` (sorted by ``priority``) from the sorted stream ``lower``,
    reading it forward as far as needed; ``window`` holds the unread remainder between calls."""
    keys_want = _keys(want, priority)
    last = keys_want[-1:].copy()
    while True:
        have = _concat(window) if window else None
        if have is not None and len(have) and _keys(have.grams[-1:], priority)[0].tobytes() >= last[0].tobytes():
            break
        nxt = next(lower, None)
        if nxt is None:
            break
        window[:] = [have, nxt] if have is not None and len(have) else [nxt]
    have = _concat(window)
    keys_have = _keys(have.grams, priority)
    at = np.searchsorted(keys_have, keys_want)
    if (at >= len(have)).any() or not (have.grams[np.minimum(at, len(have) - 1)] == want).all():
        raise AssertionError("a lower-order n-gram is missing (counts are inconsistent)")
    found = have.vals["p"][at]
    window[:] = [have.take(slice(int(at[-1]), None))]
    return found


def interpolate(blocks: Iterable[Block], k: int, lower: Spool | np.ndarray, out: Spool) -> None:
    """Suffix-sorted (u, gamma) of order k joined with p of order k-1 -> p of order k (suffix order)."""
    window: list[Block] = []
    stream = lower.blocks() if isinstance(lower, Spool) else None
    for blk in blocks:
        suffix = np.ascontiguousarray(blk.grams[:, 1:])
        p_lower = lower[suffix[:, 0]] if stream is None else _lookup(stream, window, suffix, suffix_priority(k - 1))
        out.append(Block(blk.grams, {"p": blk.vals["u"] + blk.vals["gamma"] * p_lower}))


@dataclass
class Estimate:
    """What an estimation produced, for reports and tests."""

    sentences: int
    vocabulary: int
    counts: list[int]
    discounts: list[tuple[float, float, float]]
    counts_of_counts: list[list[int]]
    runs: int
    """sorted runs spilled by the highest-order count (1 = the counts fitted in memory)"""


Writer = Callable[[int, np.ndarray, np.ndarray, np.ndarray], None]
"""writer(order, grams [n, k] ids, log10 p [n], log10 backoff [n]) for each output block"""


def estimate(sentences: Iterable[Sequence[str]], order: int, writer: Writer, vocab: Vocabulary | None = None,
             memory_rows: int = DEFAULT_MEMORY_ROWS, workdir: str | os.PathLike | None = None) -> Estimate:
    """Modified Kneser-Ney estimate of ``sentences`` (token lists), written order by order to ``writer``.
    Intermediate files live in a temporary folder (under ``workdir`` if given) removed at the end."""
    if order < 1:
        raise ValueError(f"n-gram order must be >= 1, got {order}")
    vocab = vocab or Vocabulary()
    tmp = Path(tempfile.mkdtemp(prefix="kneser-ney-", dir=workdir))
    try:
        return _estimate(sentences, order, writer, vocab, max(2, memory_rows), tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _estimate(sentences, order: int, writer: Writer, vocab: Vocabulary, rows: int, tmp: Path) -> Estimate:
    top = ExternalSorter(tmp / "count", suffix_priority(order), ("count",), rows)
    n_sent = count_ngrams(sentences, order, vocab, top, chunk_tokens=rows)
    if len(vocab) == 3 or n_sent == 0:
        raise ValueError("the LM text holds no words")
    adjusted = [Spool(tmp / f"adjusted{k}") for k in range(1, order + 1)]
    adjusted_counts(top.blocks(), order, adjusted)
    runs = top.runs or 1
    shutil.rmtree(tmp / "count", ignore_errors=True)
    t_all = [counts_of_counts(s) for s in adjusted]
    ds = [discounts(t, k) for k, t in enumerate(t_all, 1)]

    # unigrams in memory (vocabulary-sized arrays)
    a1 = np.zeros(len(vocab), dtype=np.int64)
    for blk in adjusted[0].blocks():
        a1[blk.grams[:, 0]] = blk.vals["count"]
    seen = a1 > 0
    seen[UNK_ID] = True
    denom = float(a1.sum())
    n1 = [int(((a1 == j) if j < 3 else (a1 >= 3)).sum()) for j in (1, 2, 3)]
    gamma0 = (ds[0][0] * n1[0] + ds[0][1] * n1[1] + ds[0][2] * n1[2]) / denom
    n_types = int(seen.sum())  # <unk> and </s> included, <s> never seen as a unigram
    p1 = np.where(seen, _discounted(a1, ds[0]) / denom + gamma0 / n_types, 0.0)

    probs: list[Spool | np.ndarray] = [p1]
    contexts: list[Spool | None] = [None]
    for k in range(2, order + 1):
        by_context = ExternalSorter(tmp / f"ctxsort{k}", context_priority(k), (), rows)
        for blk in adjusted[k - 1].blocks():
            by_context.add(blk)
        by_suffix = ExternalSorter(tmp / f"usort{k}", suffix_priority(k), (), rows)
        ctx = Spool(tmp / f"contexts{k}")
        initial_probabilities(by_context.blocks(), k, ds[k - 1], by_suffix, ctx)
        pk = Spool(tmp / f"p{k}")
        interpolate(by_suffix.blocks(), k, probs[-1], pk)
        probs.append(pk)
        contexts.append(ctx)
        for name in (f"ctxsort{k}", f"usort{k}"):
            shutil.rmtree(tmp / name, ignore_errors=True)

    counts = [int(seen.sum()) + 1] + [s.rows for s in adjusted[1:]]  # + 1: <s> in the unigrams
    _write_unigrams(writer, p1, seen, contexts[1] if order > 1 else None)
    for k in range(2, order + 1):
        _write_order(writer, k, probs[k - 1], contexts[k] if k < order else None, tmp, rows)
    return Estimate(n_sent, len(vocab), counts, ds, [t[1:] for t in t_all], runs)


def _log10(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.minimum(0.0, np.log10(x))


def _write_unigrams(writer: Writer, p1: np.ndarray, seen: np.ndarray, ctx: Spool | None) -> None:
    bow = np.ones(len(p1))
    if ctx is not None:
        for blk in ctx.blocks():
            bow[blk.grams[:, 0]] = blk.vals["gamma"]
    ids = np.flatnonzero(seen | (np.arange(len(p1)) == BOS_ID))
    logp = _log10(p1[ids])
    logp[ids == BOS_ID] = NO_PROB
    writer(1, ids[:, None].astype(np.uint32), logp, np.log10(bow[ids]))


def _write_order(writer: Writer, k: int, probs: Spool, ctx: Spool | None, tmp: Path, rows: int) -> None:
    """Order k's probabilities (suffix order) with their backoffs, the order-(k+1) contexts re-sorted into
    suffix order and merge-joined (a left join: an n-gram that is no context backs off with weight 1)."""
    ctx_blocks = None
    if ctx is not None:
        sorter = ExternalSorter(tmp / f"ctx_suffix{k}", suffix_priority(k), (), rows)
        for blk in ctx.blocks():
            sorter.add(blk)
        ctx_blocks = sorter.blocks()
    window: Block | None = None
    prio = suffix_priority(k)
    for blk in probs.blocks():
        bow = np.ones(len(blk))
        if ctx_blocks is not None:
            last = _keys(blk.grams[-1:], prio)[0].tobytes()
            while window is None or not len(window) or _keys(window.grams[-1:], prio)[0].tobytes() < last:
                nxt = next(ctx_blocks, None)
                if nxt is None:
                    break
                window = nxt if window is None or not len(window) else _concat([window, nxt])
            if window is not None and len(window):
                kw = _keys(window.grams, prio)
                at = np.searchsorted(kw, _keys(blk.grams, prio))
                ok = at < len(window)
                ok[ok] = (window.grams[at[ok]] == blk.grams[ok]).all(axis=1)
                bow[ok] = window.vals["gamma"][at[ok]]
                cut = int(np.searchsorted(kw, np.frombuffer(last, dtype=kw.dtype), side="right")[0])
                window = window.take(slice(cut, None))
        writer(k, blk.grams, _log10(blk.vals["p"]), np.log10(bow))


# ---- ARPA output ----------------------------------------------------------------------------------------
class ArpaWriter:
    """Writes each order's lines to its own temporary file, then the header and the sections in order."""

    def __init__(self, vocab: Vocabulary, folder: Path, order: int) -> None:
        self.vocab, self.order = vocab, order
        self.paths = [folder / f"section{k}.txt" for k in range(1, order + 1)]
        # open across many writer calls; closed by finish() (or write_arpa's finally)
        self.files = [open(p, "w", encoding="utf-8") for p in self.paths]  # noqa: SIM115
        self.counts = [0] * order
        self._words = np.array([], dtype=object)

    def __call__(self, k: int, grams: np.ndarray, logp: np.ndarray, bow: np.ndarray) -> None:
        if len(self._words) != len(self.vocab):  # the vocabulary is complete once output starts
            self._words = np.array(self.vocab.words, dtype=object)
        text = self._words[grams[:, 0]]
        for c in range(1, k):
            text = text + " " + self._words[grams[:, c]]  # element-wise str concatenation, no Python loop
        if k == self.order:
            lines = map("{:.6f}\t{}\n".format, logp.tolist(), text.tolist())
        else:
            lines = map("{:.6f}\t{}\t{:.6f}\n".format, logp.tolist(), text.tolist(), bow.tolist())
        self.files[k - 1].writelines(lines)
        self.counts[k - 1] += len(grams)

    def finish(self, out) -> None:
        for f in self.files:
            f.close()
        out.write("\n\\data\\\n")
        for k, n in enumerate(self.counts, 1):
            out.write(f"ngram {k}={n}\n")
        for k, path in enumerate(self.paths, 1):
            out.write(f"\n\\{k}-grams:\n")
            with open(path, encoding="utf-8") as f:
                shutil.copyfileobj(f, out, 1 << 20)
        out.write("\n\\end\\\n")


def write_arpa(sentences: Iterable[Sequence[str]], out_path: str | os.PathLike, order: int,
               memory_rows: int = DEFAULT_MEMORY_ROWS, workdir: str | os.PathLike | None = None) -> Estimate:
    """Estimate and write an ARPA file (through a temporary file renamed into place)."""
    out_path = Path(out_path)
    vocab = Vocabulary()
    with tempfile.TemporaryDirectory(prefix="arpa-", dir=workdir) as sections:
        writer = ArpaWriter(vocab, Path(sections), order)
        try:
            result = estimate(sentences, order, writer, vocab, memory_rows, workdir)
        finally:
            for f in writer.files:
                f.close()
        tmp = out_path.with_name(out_path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            writer.finish(out)
        os.replace(tmp, out_path)
    log.info("wrote %s: %s n-grams per order, discounts %s", out_path, result.counts,
             [tuple(round(x, 4) for x in d) for d in result.discounts])
    return result


def estimate_tables(sentences: Iterable[Sequence[str]], order: int,
                    memory_rows: int = DEFAULT_MEMORY_ROWS) -> list[dict[tuple[str, ...], tuple[float, float]]]:
    """The estimate as in-memory tables {n-gram words: (log10 p, log10 backoff)} per order (small texts)."""
    vocab = Vocabulary()
    tables: list[dict] = [{} for _ in range(order)]

    def collect(k: int, grams: np.ndarray, logp: np.ndarray, bow: np.ndarray) -> None:
        words = vocab.words
        for row, p, b in zip(grams.tolist(), logp.tolist(), bow.tolist()):
            tables[k - 1][tuple(words[i] for i in row)] = (p, b if k < order else 0.0)

    estimate(sentences, order, collect, vocab, memory_rows)
    return tables


def perplexity(log10_prob: Callable[[str, Sequence[str]], float], sentences: Iterable[Sequence[str]]) -> float:
    """Per-token perplexity (</s> counted, <s> not) of a scorer such as ``NGramLM.log10_prob``."""
    total, tokens = 0.0, 0
    for words in sentences:
        history = [BOS]
        for w in [*words, EOS]:
            total += log10_prob(w, history)
            history.append(w)
            tokens += 1
    return math.pow(10.0, -total / max(tokens, 1))
