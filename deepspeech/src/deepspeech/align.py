"""Word timings of any decoded text: CTC forced (Viterbi) alignment of that text to the posteriors.

Timings must come from the decoder that produced the text: an LM beam search can output words that the
greedy path never spelt, so timing them from the greedy path gives times for the wrong words. Aligning the
decoder's own text to the same posteriors gives one frame span per character of *that* text. For greedy
text the alignment is the greedy path itself (the per-frame argmax path is the best path of all, hence of
its own labelling), so ``word_timings`` is the special case (tested).
"""

from __future__ import annotations

import numpy as np

from ninerepro.text.ctc import CharVocab

NEG_INF = -np.inf


def ctc_viterbi(log_probs: np.ndarray, labels: list[int], blank: int = 0) -> np.ndarray:
    """[T] state path of the most likely CTC alignment of ``labels``: entry t is the index into
    ``labels`` emitted at frame t, or -1 for a blank frame."""
    lp = np.asarray(log_probs, dtype=np.float64)
    T, L = len(lp), len(labels)
    ext = np.full(2 * L + 1, blank, dtype=np.int64)  # blank, l1, blank, l2, ..., blank
    ext[1::2] = labels
    S = len(ext)
    # a label state may be entered from two states back when it differs from that label (no blank needed)
    skip = np.zeros(S, dtype=bool)
    skip[3::2] = ext[3::2] != ext[1:-2:2]
    score = np.full(S, NEG_INF)
    score[0] = lp[0, ext[0]]
    if S > 1:
        score[1] = lp[0, ext[1]]
    back = np.zeros((T, S), dtype=np.int8)  # 0 = stay, 1 = from s-1, 2 = from s-2
    for t in range(1, T):
        stay, one = score, np.concatenate([[NEG_INF], score[:-1]])
        two = np.where(skip, np.concatenate([[NEG_INF, NEG_INF], score[:-2]]), NEG_INF)
        cand = np.stack([stay, one, two])  # [3, S]
        back[t] = cand.argmax(axis=0)
        score = cand.max(axis=0) + lp[t, ext]
    ends = [S - 1] + ([S - 2] if S > 1 else [])
    s = max(ends, key=lambda e: score[e])
    if not np.isfinite(score[s]):
        raise ValueError(f"a text of {L} characters cannot be aligned to {T} frames of CTC output")
    path = np.empty(T, dtype=np.int64)
    for t in range(T - 1, -1, -1):
        path[t] = s
        s -= int(back[t, s])
    return np.where(path % 2 == 1, path // 2, -1)


def aligned_word_timings(log_probs: np.ndarray, text: str, vocab: CharVocab, frame_seconds: float) -> list[dict]:
    """``[{"word", "start", "end"}]`` of ``text`` (in the vocabulary's case) from its forced alignment:
    a word starts at the first frame of its first character and ends after the last frame of its last one."""
    if not text.strip():
        return []
    labels = vocab.encode(text)
    path = ctc_viterbi(log_probs, labels)
    first = np.full(len(labels), -1)
    last = np.full(len(labels), -1)
    for t, i in enumerate(path.tolist()):
        if i >= 0:
            if first[i] < 0:
                first[i] = t
            last[i] = t
    words, begin = [], 0
    for position in range(len(text) + 1):
        if position == len(text) or text[position] == " ":
            if position > begin:
                words.append({"word": text[begin:position], "start": float(first[begin]) * frame_seconds,
                              "end": float(last[position - 1] + 1) * frame_seconds})
            begin = position + 1
    return words
