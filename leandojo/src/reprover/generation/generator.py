"""ReProver's tactic generator at proof time: (retrieve,) format the input, beam search, clean up.

Decoding follows RP ``prover/tactic_generator.py``: beam search with ``num_beams =
num_return_sequences = num_samples``, no sampling, ``length_penalty = 0`` so a beam's score is its summed
token log-probability, which is what best-first search adds along a path. Outputs lose any ``<a>`` marks
and are de-duplicated keeping the first (best-scoring) copy, so fewer than ``num_samples`` may come back.
"""

from __future__ import annotations

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from reprover.data.positions import Pos
from reprover.data.records import remove_marks
from reprover.generation.augment import format_augmented_state
from reprover.retrieval.premise_text import premise_text
from reprover.retrieval.retriever import Query, Retriever
from reprover.search.generator_api import dedupe

__all__ = ["ReProverGenerator", "dedupe"]


class ReProverGenerator:
    """Implements :class:`reprover.search.generator_api.TacticGenerator`; ``retriever=None`` = no retrieval."""

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, retriever: Retriever | None = None,
                 num_retrieved: int = 100, max_inp_seq_len: int = 2048, max_oup_seq_len: int = 512,
                 length_penalty: float = 0.0, device: torch.device | str = "cpu", premise_marks: str = "strip") -> None:
        """``premise_marks``: "strip" removes ``<a>`` marks from the input (ours: the format the generator was
        trained on); "keep" leaves the premises' name marks in, as RP's proof-time ``generate`` does (RP strips
        them in training only)."""
        if premise_marks not in ("strip", "keep"):
            raise ValueError(f"--premise-marks {premise_marks}: use strip or keep")
        self.keep_marks = premise_marks == "keep"
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer, self.retriever = tokenizer, retriever
        self.num_retrieved = num_retrieved
        self.max_inp_seq_len, self.max_oup_seq_len = max_inp_seq_len, max_oup_seq_len
        self.length_penalty = length_penalty

    def model_input(self, state: str, file_path: str, theorem_pos: Pos) -> str:
        """The exact string the model reads for ``state`` (premises prepended when retrieval is on)."""
        if self.retriever is None:
            return remove_marks(state)
        ranked = self.retriever.retrieve([Query(state, file_path, theorem_pos)], self.num_retrieved)[0]
        return format_augmented_state(state, [premise_text(p) for p, _ in ranked], self.max_inp_seq_len,
                                      keep_marks=self.keep_marks)

    @torch.no_grad()
    def generate(self, state: str, file_path: str, theorem_full_name: str, theorem_pos: Pos,
                 num_samples: int) -> list[tuple[str, float]]:
        if num_samples < 1:
            raise ValueError(f"num_samples must be >= 1, got {num_samples}")
        text = self.model_input(state, file_path, theorem_pos)
        # +1: the byte budget counts content bytes, the tokenizer also counts the EOS it appends
        enc = self.tokenizer(text, max_length=self.max_inp_seq_len + 1, truncation=True, return_tensors="pt")
        out = self.model.generate(
            input_ids=enc["input_ids"].to(self.device), attention_mask=enc["attention_mask"].to(self.device),
            max_length=self.max_oup_seq_len, num_beams=num_samples, num_return_sequences=num_samples,
            length_penalty=self.length_penalty, do_sample=False, early_stopping=False,
            output_scores=True, return_dict_in_generate=True,
        )
        texts = self.tokenizer.batch_decode(out.sequences, skip_special_tokens=True)
        scores = out.sequences_scores.tolist() if num_samples > 1 else _greedy_scores(self.model, out)
        return dedupe([(remove_marks(t).strip(), s) for t, s in zip(texts, scores, strict=True)])


def _greedy_scores(model: PreTrainedModel, out) -> list[float]:
    """Summed log-probability of each greedy output (generate gives per-step logits, not a total)."""
    logps = model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)  # [N, T]
    return logps.sum(dim=1).tolist()
