"""Train the premise retriever with ``ninerepro.train.Trainer`` (DDP, AMP, exact resume come from there).

Validation re-embeds the corpus with the current weights and computes R@1/R@10/MRR on the val split; the
best R@10 so far is exported to ``<run>/best`` (RP keeps the checkpoint with the best ``Recall@10_val``;
early stopping is left to the user: ``ninerepro.train`` trains to ``max_steps``). The final weights are
exported to ``<run>/final``.
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
from reprover.retrieval.arch import build_tokenizer
from reprover.retrieval.config import RetrieverRunConfig
from reprover.retrieval.dataset import RetrievalCollator, RetrievalDataset, retrieval_examples
from reprover.retrieval.evaluate import evaluate_retrieval
from reprover.retrieval.loss import retrieval_loss
from reprover.retrieval.model import PremiseRetriever, build_encoder
from reprover.retrieval.retriever import DenseRetriever
from reprover.training.export import export_model, save_run_side_files

log = logging.getLogger(__name__)


def retrieval_step(cfg: RetrieverRunConfig):
    """``step_fn`` for the Trainer: one encoder pass over states + candidates, then the chosen loss."""

    def step(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> StepOutput:
        emb = model(batch["input_ids"], batch["attention_mask"])  # [B + C, H]
        b = int(batch["num_queries"])
        sim = emb[:b] @ emb[b:].T  # [B, C] cosines
        loss = retrieval_loss(sim, batch["labels"], cfg.loss.name, cfg.loss.temperature)
        return StepOutput(loss=loss, samples=b, tokens=int(batch["attention_mask"].sum()))

    return step


class RetrieverValidation:
    """``val_fn``: val-split metrics with freshly embedded premises; exports the best model by R@10."""

    def __init__(self, cfg: RetrieverRunConfig, bench: Benchmark, tokenizer, run_dir: Path, env: DistEnv) -> None:
        self.cfg, self.bench, self.tokenizer, self.run_dir, self.env = cfg, bench, tokenizer, run_dir, env
        self.best = float("-inf")

    def __call__(self, model: PremiseRetriever) -> dict[str, float]:
        d = self.cfg.data
        retriever = DenseRetriever(model, self.tokenizer, self.bench.corpus, self.cfg.model.index_max_seq_len,
                                   d.eval_batch_size, self.env.device)
        m = evaluate_retrieval(retriever, self.bench.split(d.split, "val"), d.num_retrieved,
                               max_queries=d.val_max_queries)
        if self.env.is_main and m["n"] and m["R@10"] > self.best:
            self.best = m["R@10"]
            export_model(self.run_dir / "best", model, model.encoder.config, self.cfg, self.tokenizer)
        return {"R@1": m["R@1"], "R@10": m["R@10"], "MRR": m["MRR"]}


def build_retriever_trainer(cfg: RetrieverRunConfig, run_dir: str | Path, env: DistEnv | None = None) -> Trainer:
    run_dir = Path(run_dir)
    env = env or init_distributed(cfg.train.device)
    bench = Benchmark(cfg.data.data_path)
    d = cfg.data
    tokenizer = build_tokenizer(cfg.model.arch)
    # The Trainer seeds only once it exists, after the weights are drawn: seed here too, or every fresh run of
    # one config starts from different weights (same stream on every rank: DDP starts them equal anyway).
    seed_everything(cfg.train.seed)
    model = PremiseRetriever(build_encoder(cfg.model.arch))
    if env.is_main:
        save_run_side_files(run_dir, model.encoder.config, tokenizer)
    examples = retrieval_examples(bench.corpus, bench.split(d.split, "train"))
    dataset = RetrievalDataset(bench.corpus, examples, d.num_negatives, d.num_in_file_negatives)
    sampler = BucketBatchSampler(None, d.batch_size, num_items=len(dataset), num_replicas=env.world_size,
                                 rank=env.rank, seed=cfg.train.seed)
    loader = DataLoader(dataset, batch_sampler=sampler, collate_fn=RetrievalCollator(tokenizer, cfg.model.max_seq_len),
                        num_workers=d.num_workers)
    log.info("retriever: %d training examples, %d premises", len(dataset), len(bench.corpus))
    val = RetrieverValidation(cfg, bench, tokenizer, run_dir, env)
    trainer = Trainer(cfg.train, model, retrieval_step(cfg), loader, run_dir, val_fn=val, full_config=cfg, env=env)
    trainer.tokenizer = tokenizer  # for the final export
    return trainer


def train_retriever(cfg: RetrieverRunConfig, run_dir: str | Path) -> Path:
    """Train (or resume) and export the final weights; returns ``<run>/final``."""
    trainer = build_retriever_trainer(cfg, run_dir)
    trainer.fit()
    model = unwrap_model(trainer.model)
    out = Path(run_dir) / "final"
    if trainer.env.is_main:
        export_model(out, model, model.encoder.config, cfg, trainer.tokenizer)
    return out
