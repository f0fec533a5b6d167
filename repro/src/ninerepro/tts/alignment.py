"""How diagonal an attention alignment is: the number a TTS training log and demo report need most.

Two complementary scores for one utterance's alignment ``[T_out, T_in]`` (frames x text tokens):

* ``focus``: mean over frames of the largest attention weight (1 = every frame attends to one token; a
  flat, never-learned attention over L tokens gives about 1/L);
* ``diagonal``: fraction of frames whose most-attended token lies within ``band`` (a fraction of the text) of the
  straight line from the first token at the first frame to the last token at the last frame; a learned
  monotonic alignment of roughly even speech scores near 1.
"""

from __future__ import annotations

import torch
from torch import Tensor


def alignment_scores(alignment: Tensor, text_length: int | None = None, mel_length: int | None = None,
                     band: float = 0.2) -> dict[str, float]:
    a = alignment.detach().float()
    T, L = a.shape
    T = mel_length or T
    L = text_length or L
    a = a[:T, :L]
    if T == 0 or L == 0:
        raise ValueError(f"alignment_scores: empty alignment {tuple(alignment.shape)}")
    focus = a.max(dim=1).values.mean().item()
    expected = torch.linspace(0, L - 1, T)
    diagonal = ((a.argmax(dim=1).float() - expected).abs() <= band * L).float().mean().item()
    return {"focus": focus, "diagonal": diagonal}
