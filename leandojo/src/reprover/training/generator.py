"""Train the tactic generator with ``ninerepro.train.Trainer``.

With ``data.retriever`` set, the trained retriever ranks premises for every train/val state once before
training (RP reads them from the retriever's ``predict`` pickle); without it this is "ReProver w/o
retrieval". Validation decodes val states greedily and reports exact-match accuracy of the top tactic
(RP validates with beam 1 and top-k exact match); the best model so far is exported to ``<run>/best``,
the final one to ``<run>/final``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from ninerepro.data.sampler import BucketBatchSampler
from ninerepro.train import DistEnv, StepOutput, Trainer, init_distributed
from ninerepro.train.distributed import unwrap_model
from ninerepro.train.rng import seed_everything
from reprover.data.benchmark import Benchmark
from reprover.generation.augment import format_augmented_state
from reprover.generation.config import GeneratorRunConfig
from reprover.generation.dataset import GeneratorCollator, GeneratorDataset, GeneratorExample, generator_examples
from reprover.generation.model import build_seq2seq
from reprover.retrieval.arch import build_tokenizer
from reprover.training.export import export_model, save_run_side_files

log = logging.getLogger(__name__)


def generation_step(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> StepOutput:
    """Token cross-entropy of the human tactic (the HF model averages over non -100 labels)."""
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
    return StepOutput(loss=out.loss, samples=len(batch["labels"]), tokens=int((batch["labels"] != -100).sum()))


@torch.no_grad()
def exact_match(model, tokenizer, examples: list[GeneratorExample], cfg: GeneratorRunConfig,
                device: torch.device) -> float:
    """Share of ``examples`` whose greedy tactic equals the human one (inputs built without dropout)."""
    bs, hits = max(1, cfg.data.eval_batch_size), 0
    for lo in range(0, len(examples), bs):
        chunk = examples[lo:lo + bs]
        texts = [format_augmented_state(e.state, e.premises, cfg.model.max_inp_seq_len) for e in chunk]
        enc = tokenizer(texts, padding="longest", max_length=cfg.model.max_inp_seq_len + 1, truncation=True,
                        return_tensors="pt").to(device)
        out = model.generate(**enc, max_length=cfg.model.max_oup_seq_len, num_beams=1, do_sample=False)
        preds = tokenizer.batch_decode(out, skip_special_tokens=True)
        hits += sum(p.strip() == e.tactic.strip() for p, e in zip(preds, chunk, strict=True))
    return hits / max(1, len(examples))


class GeneratorValidation:
    def __init__(self, cfg: GeneratorRunConfig, examples: list[GeneratorExample], tokenizer, run_dir: Path,
                 env: DistEnv) -> None:
        self.cfg, self.examples, self.tokenizer, self.run_dir, self.env = cfg, examples, tokenizer, run_dir, env
        self.best = float("-inf")

    def __call__(self, model) -> dict[str, float]:
        acc = exact_match(model, self.tokenizer, self.examples, self.cfg, self.env.device)
        if self.env.is_main and acc > self.best:
            self.best = acc
            export_model(self.run_dir / "best", model, model.config, self.cfg, self.tokenizer)
        return {"exact_match@1": 100.0 * acc}


def _examples(cfg: GeneratorRunConfig, bench: Benchmark, device: torch.device):
    d = cfg.data
    retriever = None
    if d.retriever is not None:
        from reprover.retrieval.checkpoint import load_dense_retriever

        retriever = load_dense_retriever(d.retriever, bench.corpus, device=device)
    train = generator_examples(bench.split(d.split, "train"), retriever, d.num_retrieved,
                               insert_gold=d.insert_gold_premise, seed=cfg.train.seed)
    val = generator_examples(bench.split(d.split, "val"), retriever, d.num_retrieved)
    if d.val_max_examples:
        val = val[:d.val_max_examples]
    return train, val


def build_generator_trainer(cfg: GeneratorRunConfig, run_dir: str | Path, env: DistEnv | None = None) -> Trainer:
    run_dir = Path(run_dir)
    env = env or init_distributed(cfg.train.device)
    bench = Benchmark(cfg.data.data_path)
    tokenizer = build_tokenizer(cfg.model.arch)
    # The Trainer seeds only once it exists, after the weights are drawn: seed here too, or every fresh run of
    # one config starts from different weights (same stream on every rank: DDP starts them equal anyway).
    seed_everything(cfg.train.seed)
    model = build_seq2seq(cfg.model.arch)
    if env.is_main:
        save_run_side_files(run_dir, model.config, tokenizer)
    train, val = _examples(cfg, bench, env.device)
    dataset = GeneratorDataset(train, cfg.model.max_inp_seq_len, cfg.data.p_drop,
                               cfg.data.rename_premises)
    sampler = BucketBatchSampler(None, cfg.data.batch_size, num_items=len(dataset), num_replicas=env.world_size,
                                 rank=env.rank, seed=cfg.train.seed)
    collate = GeneratorCollator(tokenizer, cfg.model.max_inp_seq_len, cfg.model.max_oup_seq_len)
    loader = DataLoader(dataset, batch_sampler=sampler, collate_fn=collate, num_workers=cfg.data.num_workers)
    log.info("generator: %d training tactics, %d val, retrieval %s", len(train), len(val),
             "on" if cfg.data.retriever else "off")
    val_fn = GeneratorValidation(cfg, val, tokenizer, run_dir, env) if val else None
    trainer = Trainer(cfg.train, model, generation_step, loader, run_dir, val_fn=val_fn, full_config=cfg, env=env)
    trainer.tokenizer = tokenizer  # for the final export
    return trainer


def train_generator(cfg: GeneratorRunConfig, run_dir: str | Path) -> Path:
    """Train (or resume) and export the final weights; returns ``<run>/final``."""
    trainer = build_generator_trainer(cfg, run_dir)
    trainer.fit()
    out = Path(run_dir) / "final"
    if trainer.env.is_main:
        model = unwrap_model(trainer.model)
        export_model(out, model, model.config, cfg, trainer.tokenizer)
    return out
