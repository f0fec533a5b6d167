"""Training a dense or MoE GPT with ninerepro's Trainer (DDP under torchrun, FSDP2 with train.fsdp=true).

The paper's two LR recipes are plain schedule configs: *reset* = ``optimizer.lr`` at the pretraining
peak with ``schedule.name=cosine`` (``min_lr_ratio`` down to the pretraining minimum); *constant* =
``optimizer.lr`` at the pretraining minimum with ``schedule.name=constant``.

Starting weights: a run folder with a checkpoint always resumes from it (``init.init_from`` is ignored
then, so re-running the same command continues); a fresh folder starts from ``init.init_from`` (upcycled
when the config has an ``moe`` section) or from random weights.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from pathlib import Path

import torch
from torch import nn

from ninerepro.train import StepOutput, Trainer, init_distributed
from ninerepro.train.checkpoint import find_latest_valid
from upcycling.checkpoints import initial_state, read_checkpoint_configs
from upcycling.config import RunConfig
from upcycling.data import TokenFile, train_loader, val_batches
from upcycling.loss import lm_loss, total_loss
from upcycling.model import GPT, build_model
from upcycling.moe.balance import ExpertBiasBalancer

log = logging.getLogger(__name__)


def step_fn(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor],
            balancer: ExpertBiasBalancer | None = None) -> StepOutput:
    """LM + aux loss and the routing metrics; ``balancer`` (moe.expert_bias) records the expert counts."""
    x, y = batch
    out = model(x)
    loss, metrics = total_loss(out, y)
    if balancer is not None:
        balancer.record(out.moe)
    for i, stats in enumerate(out.moe):
        n = stats.load.numel()
        # load × N: 1.0 everywhere is perfect balance; max shows the hottest expert, min a dying one
        metrics[f"moe/layer{i}/max_load"] = stats.load.max() * n
        metrics[f"moe/layer{i}/min_load"] = stats.load.min() * n
        metrics[f"moe/layer{i}/dropped"] = torch.tensor(float(stats.dropped))
    return StepOutput(loss=loss, metrics=metrics, samples=x.shape[0], tokens=x.numel())


def make_val_fn(batches: list[tuple[torch.Tensor, torch.Tensor]]):
    def val_fn(model: nn.Module) -> dict[str, float]:
        device = next(model.parameters()).device
        total = 0.0
        for x, y in batches:
            total += lm_loss(model(x.to(device)).logits, y.to(device)).item()
        return {"loss": total / len(batches)}

    return val_fn


def check_resume_matches(cfg: RunConfig, run_dir: Path) -> None:
    """A run folder's checkpoint must have this config's model and MoE layout; say which field differs."""
    found = find_latest_valid(run_dir)
    if found is None:
        return
    path, state = found
    model_cfg, moe_cfg = read_checkpoint_configs(state, str(path))
    want = None if cfg.moe is None else dataclasses.asdict(cfg.moe)
    have = None if moe_cfg is None else dataclasses.asdict(moe_cfg)
    if want != have:
        describe = lambda m: "dense (no moe section)" if m is None else m  # noqa: E731
        raise ValueError(
            f"cannot resume {path}: it was trained with moe={describe(have)} but the config asks for "
            f"moe={describe(want)}. Resume with the run folder's config.json, or start a new --run-dir."
        )
    if dataclasses.asdict(model_cfg) != dataclasses.asdict(cfg.model):
        raise ValueError(f"cannot resume {path}: its model section differs from the config's; use its config.json")


def build_model_for_run(cfg: RunConfig, run_dir: Path) -> GPT:
    model = build_model(cfg.model, cfg.moe)
    if cfg.init.init_from and find_latest_valid(run_dir) is None:
        sd = initial_state(cfg.init.init_from, cfg.model, cfg.moe, weight_scaling=cfg.init.weight_scaling,
                           router_init_std=cfg.init.router_init_std, seed=cfg.train.seed,
                           glu_scaling=cfg.init.glu_scaling)
        model.load_state_dict(sd, strict=True)
        log.info("initialised from %s%s", cfg.init.init_from,
                 f" upcycled to {cfg.moe.name()}" if cfg.moe is not None else "")
    return model


def uses_sharded_init(cfg: RunConfig, run_dir: Path, distributed: bool) -> bool:
    """Meta-device build + per-shard loading: FSDP under torchrun, a fresh run, init from one of our files."""
    return (cfg.train.fsdp and distributed and cfg.scale.meta_init and bool(cfg.init.init_from)
            and Path(cfg.init.init_from).is_file() and find_latest_valid(run_dir) is None)


def build_for_run(cfg: RunConfig, run_dir: Path, env) -> GPT:
    """The model a run trains, already FSDP2-sharded (bf16 mixed precision) when ``train.fsdp`` is on."""
    from ninerepro.train.precision import resolve_precision
    from upcycling.sharded import LazyUpcycledSource, build_sharded, fsdp_shard

    precision = resolve_precision(cfg.train.precision, env.device)
    if uses_sharded_init(cfg, run_dir, env.is_distributed):
        source = LazyUpcycledSource(cfg.init.init_from, cfg.model, cfg.moe, weight_scaling=cfg.init.weight_scaling,
                                    glu_scaling=cfg.init.glu_scaling, router_init_std=cfg.init.router_init_std,
                                    seed=cfg.train.seed)
        model = build_sharded(cfg.model, cfg.moe, source, env.device, precision)
        log.info("built on the meta device and filled per shard from %s", cfg.init.init_from)
    else:
        model = build_model_for_run(cfg, run_dir)
        if cfg.train.fsdp and env.is_distributed:
            fsdp_shard(model.to(env.device), precision)  # ninerepro's wrap_model leaves sharded modules alone
    model.layers.checkpointing = cfg.scale.activation_checkpointing
    return model


def run(cfg: RunConfig, run_dir: str | Path) -> Trainer:
    """Build everything from ``cfg`` and train to ``train.max_steps``; returns the finished Trainer."""
    run_dir = Path(run_dir)
    check_resume_matches(cfg, run_dir)
    tokens = TokenFile(cfg.data.path)
    if tokens.vocab_size > cfg.model.vocab_size:
        raise ValueError(f"{cfg.data.path} has vocab {tokens.vocab_size} > model.vocab_size={cfg.model.vocab_size}")
    env = init_distributed(cfg.train.device)
    torch.manual_seed(cfg.train.seed)  # the same random init on every rank
    model = build_for_run(cfg, run_dir, env)
    loader = train_loader(tokens, cfg.data.seq_len, cfg.data.batch_size, seed=cfg.train.seed, rank=env.rank,
                          world_size=env.world_size)
    val = make_val_fn(val_batches(tokens, cfg.data.seq_len, cfg.data.batch_size, cfg.data.val_batches))
    balancer = ExpertBiasBalancer(model)  # empty unless moe.expert_bias
    fn = functools.partial(step_fn, balancer=balancer) if balancer else step_fn
    trainer = Trainer(cfg.train, model, fn, loader, run_dir, val_fn=val, full_config=cfg, env=env)
    if balancer:
        balancer.attach(trainer.optimizer)  # b moves once per optimizer step (DeepSeek-V3)
    trainer.fit()
    return trainer
