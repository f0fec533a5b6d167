"""A backend that needs no model: answers from the prompt text, counts every prompt it is asked to generate."""

from __future__ import annotations

from ninerepro.lm import Generation


class CountingBackend:
    """Stage 1: a context naming the seed. Stage 2 / direct: ``Answer: <last word of the question>``.

    ``fail_after`` raises after that many prompts, to simulate a run killed midway."""

    name = "fake"

    def __init__(self, fail_after: int | None = None):
        self.prompts: list[str] = []
        self.seeds: list[int] = []
        self.fail_after = fail_after

    def generate(self, prompts, sampling, seeds=None):
        out = []
        for p, seed in zip(prompts, seeds or [0] * len(prompts)):
            if self.fail_after is not None and len(self.prompts) >= self.fail_after:
                raise KeyboardInterrupt("simulated kill")
            self.prompts.append(p)
            self.seeds.append(seed)
            last = p.rstrip("\n").rsplit("\n", 1)[-1]
            if last.startswith("Q: "):
                text = f"A: generated passage for seed {seed}.\nQ: more"
            else:
                word = last.rstrip("?").split()[-1]
                text = f"Answer: {word if seed % 2 == 0 else 'other'}\nContext:"
            out.append(Generation(text, [text[:3], text[3:]], [-0.5, -1.0], "length"))
        return out
