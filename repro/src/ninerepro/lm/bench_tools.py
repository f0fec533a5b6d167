"""Pieces of the prompting benchmarks (CGAP, MSDP): the naive baseline, the backend under test, the write-out.

- :func:`naive_generate`: one ``model.generate`` per prompt (batch 1), the loop the official code runs.
- :func:`bench_backend`: the tiny random Llama (``--tiny``) or a real model, with end-of-sequence disabled so
  every implementation generates the same number of tokens.
- :func:`emit`: print the environment line and the markdown table, append it to ``--results``, write the
  ``ninerepro.bench_report`` JSON to ``--json``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ninerepro.bench_report import BenchReport


def naive_generate(backend, prompts: Sequence[str], new_tokens: int, seeds: Sequence[int] | None = None,
                   **decode) -> int:
    """Generate ``new_tokens`` per prompt, one ``model.generate`` call each; returns the tokens generated.

    ``decode`` goes to ``generate`` (``do_sample=False`` for greedy, or ``do_sample=True, top_p=...``); with
    ``seeds``, ``torch.manual_seed(seeds[i])`` precedes prompt i."""
    import torch

    total = 0
    for i, prompt in enumerate(prompts):
        if seeds is not None:
            torch.manual_seed(seeds[i])
        ids = backend.tokenizer(prompt, return_tensors="pt").to(backend.device)
        out = backend.model.generate(**ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                     pad_token_id=backend.pad_id, **decode)
        total += out.shape[1] - ids["input_ids"].shape[1]
    return total


def bench_backend(device: str, tiny: bool, model: str | None, batch: int):
    """(backend, device string): the tiny random Llama or ``model`` (None = embedded SmolLM2), EOS disabled."""
    from ninerepro.lm.hf import HFBackend, resolve_device
    from ninerepro.lm.testing import tiny_backend

    dev = str(resolve_device(device))
    if tiny:
        return tiny_backend(batch_size=batch, device=dev), dev
    backend = HFBackend.load(model, device=dev, batch_size=batch)
    backend.eos_ids = set()  # forced length, as min_new_tokens does for the naive loop
    return backend, dev


def emit(rows: list[dict], rep: BenchReport, device: str, results: str | None, json_path: str | None) -> str:
    from ninerepro.envinfo import describe
    from ninerepro.viz import markdown_table

    env = describe(device)
    text = (f"\n## {env['date']}: {env['device']} (load {env['load']}), torch {env['torch']}, git {env['git']}\n"
            f"settings: {rep.settings}\n\n{markdown_table(rows, floatfmt='.2f')}\n")
    print(text)
    if results:
        with open(results, "a", encoding="utf-8") as f:
            f.write(text)
    if json_path:
        rep.write(json_path)
    return text
