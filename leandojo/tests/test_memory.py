"""Building generator examples with retrieval stays small at benchmark scale (issue #19: < 4 GB peak RSS for a
180k-premise, 20k-theorem corpus). Before, one dense accessibility mask per theorem was kept for the whole
split (20k x 180 KB = 3.6 GB here, ~21 GB for the Lean 4 train split) and each example held its own copies of
100 premise texts."""

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent('''
    import resource, sys, time
    import numpy as np
    import torch
    from transformers import ByT5Tokenizer, T5Config, T5EncoderModel
    from reprover.data.corpus import Corpus, CorpusFile
    from reprover.data.positions import Pos
    from reprover.data.records import Premise, TheoremRecord, TracedTactic
    from reprover.generation.dataset import generator_examples
    from reprover.retrieval.index import PremiseIndex
    from reprover.retrieval.model import PremiseRetriever
    from reprover.retrieval.retriever import DenseRetriever

    NUM_PREMISES, NUM_FILES, NUM_THEOREMS, GROUP = 180_000, 5_000, 20_000, 1_000
    per_file = NUM_PREMISES // NUM_FILES
    files, premises = [], []
    for f in range(NUM_FILES):
        path = f"Mathlib/F{f}.lean"
        imports = (f"Mathlib/F{f - 1}.lean",) if f % GROUP else ()  # chains of 1,000 files: ~10 % accessible on average
        lo = len(premises)
        for k in range(per_file):
            premises.append(Premise(path, f"F{f}.p{k}", Pos(10 * k + 1, 1), Pos(10 * k + 5, 1),
                                    f"theorem p{k} (x : Nat) : f{f} x = g{k} x", "commanddeclaration"))
        files.append(CorpusFile(path, imports, lo, len(premises)))
    corpus = Corpus(files, premises)
    theorems = [TheoremRecord("u", "c" * 40, f"Mathlib/F{(7 * t) % NUM_FILES}.lean", f"T{t}", Pos(200, 1),
                              Pos(201, 1), (TracedTactic(f"rw [p{t % 30}]", f"rw [p{t % 30}]", (),
                                                         f"x : Nat\\n⊢ f{t % NUM_FILES} x = {t}", "no goals"),))
                for t in range(NUM_THEOREMS)]
    torch.manual_seed(0)
    cfg = T5Config(vocab_size=384, d_model=8, d_ff=16, d_kv=4, num_heads=2, num_layers=1)
    model = PremiseRetriever(T5EncoderModel(cfg))
    emb = np.random.default_rng(0).standard_normal((NUM_PREMISES, 8)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    retriever = DenseRetriever(model, ByT5Tokenizer(), corpus, max_seq_len=64, batch_size=256,
                               index=PremiseIndex(emb))
    t0 = time.perf_counter()
    examples = generator_examples(theorems, retriever, num_retrieved=100)
    full = sum(len(e.premises) == 100 for e in examples)  # the first files of a chain see fewer than 100
    assert len(examples) == NUM_THEOREMS and full > 0.9 * NUM_THEOREMS, full
    print(f"peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} "
          f"seconds={time.perf_counter() - t0:.1f}")
''')


@pytest.mark.slow
def test_generator_examples_for_180k_premises_and_20k_theorems_stay_under_4_gb():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = proc.stdout.strip().splitlines()[-1]
    rss_mb = float(line.split()[0].split("=")[1])
    print(line)
    assert rss_mb < 4096, line
