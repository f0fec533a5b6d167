"""Language-model toolkit shared by the prompting papers (CGAP closed-book QA, MSDP knowledge dialogue).

- :mod:`ninerepro.lm.types`: :class:`Sampling` (decoding settings) and :class:`Generation` (text + token log-probs).
- :mod:`ninerepro.lm.backend`: the :class:`LMBackend` protocol and :func:`build_backend` (``hf``, ``vllm``, ``openai``).
- :mod:`ninerepro.lm.hf`: transformers backend (model folder or GGUF; batched, shared-prefix prefill, seeded rows).
- :mod:`ninerepro.lm.vllm_backend`, :mod:`ninerepro.lm.openai_http`: in-process vLLM and OpenAI-compatible servers.
- :mod:`ninerepro.lm.jsonl_store`: resumable per-stage JSONL keyed by item id.
- :mod:`ninerepro.lm.retrieval`: few-shot demonstration retrieval (dense + FAISS, BM25), cached embeddings.
- :mod:`ninerepro.lm.runs`: run folders, backend from CLI arguments, resumable stage jobs, demo fitting.
- :mod:`ninerepro.lm.bench_tools`: the benchmarks' naive batch-1 baseline, backend under test and write-out.
- :mod:`ninerepro.lm.cli`: shared CLI arguments (backend, debug) and one-line user errors (exit 2);
  :mod:`ninerepro.lm.cli_testing` asserts them in tests.
- :mod:`ninerepro.lm.embedded`: where the offline default models (SmolLM2-135M GGUF, all-MiniLM-L6-v2) live.

Heavy imports (torch, transformers, faiss) happen inside the modules that need them, so importing this package
is cheap.
"""

from ninerepro.lm.backend import BACKENDS, LMBackend, build_backend, check_seeds
from ninerepro.lm.jsonl_store import JsonlStore, StoreMismatch
from ninerepro.lm.types import Generation, LMError, Sampling, cut_at_stop

__all__ = [
    "BACKENDS",
    "Generation",
    "JsonlStore",
    "LMBackend",
    "LMError",
    "Sampling",
    "StoreMismatch",
    "build_backend",
    "check_seeds",
    "cut_at_stop",
]
