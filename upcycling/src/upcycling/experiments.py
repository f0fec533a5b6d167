"""The paper's comparisons at CPU scale (`make demo` / `make reproduce`), as restartable stages.

Stages: (1) data — byte-level tokens of the Python standard library; (2) pretrain a small dense GPT;
(3) continue from its final checkpoint for the same number of added tokens in every arm; (4) report —
a markdown table and loss-curve PNGs under ``out_dir``. A finished run leaves ``done.json`` in its folder
and is skipped on re-run; a cut-off run resumes from its checkpoint (ninerepro's Trainer). The demo is the
first two arms of the full suite with identical configs, so `make reproduce` after `make demo` reuses them.

Arms (paper §3): the reference arm is E8G1T2, softmax-then-topK, weight scaling, LR reset to
the pretraining peak + cosine. (a) dense continued training (same LR recipe) vs the reference;
(b) topK-then-softmax; (c) E8G8T8 and E8G1T2 with and without weight scaling; (d) constant LR at the
pretraining minimum. The ``options`` suite adds the layouts beyond the paper's main runs (issue 18 item 8),
each against the same reference and dense arms: (e) a shared expert, E8G1T1 + 1 shared (DeepSeekMoE: the same
two active experts per token as E8G1T2, one of them always on); (f) MoE in every second layer (Megatron
``--moe-layer-freq 2``); (g) aux-loss-free balancing (DeepSeek-V3 expert bias, γ = 1e-3, α = 0).
Continuation arms are independent, so they run ``jobs`` at a time, one thread each
(on 2 shared cores one thread per process is several times faster than two threads fighting).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import torch

from ninerepro.atomic import atomic_write_text
from ninerepro.train import load_config
from ninerepro.viz import loss_curves_figure, markdown_table, read_metrics_jsonl, save_figure
from upcycling.config import MoEConfig, RunConfig

log = logging.getLogger(__name__)

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "experiments.json"


@dataclass(frozen=True)
class Arm:
    name: str
    comparison: str
    moe: str | None
    router: str = "softmax_topk"
    scaling: bool = True
    lr: str = "reset"
    options: tuple[tuple[str, object], ...] = ()
    """further ``MoEConfig`` fields as (name, value) pairs, e.g. (("moe_every", 2),)"""


REFERENCE = Arm("E8G1T2", "a b c d", "E8G1T2")
ARMS = {
    "demo": [Arm("dense", "a", None), REFERENCE],
    "full": [
        Arm("dense", "a", None), REFERENCE,
        Arm("E8G1T2-topk_softmax", "b", "E8G1T2", router="topk_softmax"),
        Arm("E8G1T2-noscale", "c", "E8G1T2", scaling=False),
        Arm("E8G8T8", "c", "E8G8T8"),
        Arm("E8G8T8-noscale", "c", "E8G8T8", scaling=False),
        Arm("E8G1T2-constlr", "d", "E8G1T2", lr="constant"),
    ],
    "options": [
        Arm("dense", "e f g", None), Arm("E8G1T2", "e f g", "E8G1T2"),
        Arm("E8G1T1-shared1", "e", "E8G1T1", options=(("shared_experts", 1),)),
        Arm("E8G1T2-every2", "f", "E8G1T2", options=(("moe_every", 2),)),
        Arm("E8G1T2-expertbias", "g", "E8G1T2", options=(("expert_bias", True), ("aux_loss_coeff", 0.0))),
    ],
}


def base_config(data_path: str, device: str, config: str | Path = CONFIG) -> RunConfig:
    cfg = load_config(RunConfig, config)
    cfg.data.path, cfg.train.device = data_path, device
    return cfg


def arm_config(base: RunConfig, arm: Arm, dense_ckpt: str, steps: int) -> RunConfig:
    """Continuation config: same model and data, ``steps`` more steps, the arm's MoE / router / LR."""
    cfg = copy.deepcopy(base)
    cfg.train.max_steps = steps
    cfg.init.init_from, cfg.init.weight_scaling = dense_ckpt, arm.scaling
    if arm.moe is not None:
        cfg = dataclasses.replace(cfg, moe=MoEConfig.from_notation(arm.moe, router_order=arm.router,
                                                                   **dict(arm.options)))
    peak, floor = base.train.optimizer.lr, base.train.optimizer.lr * base.train.schedule.min_lr_ratio
    if arm.lr == "constant":  # the paper's constant-LR recipe: the pretraining minimum, held
        cfg.train.optimizer.lr = floor
        cfg.train.schedule = dataclasses.replace(cfg.train.schedule, name="constant", warmup_steps=0)
    else:  # (ii): back to the pretraining peak, cosine down to the same minimum
        cfg.train.optimizer.lr = peak
        cfg.train.schedule = dataclasses.replace(cfg.train.schedule, name="cosine", warmup_steps=steps // 20)
    return cfg


def train_once(cfg: RunConfig, run_dir: str, threads: int) -> dict:
    """One run to completion (resuming if cut off); writes and returns ``done.json``."""
    done = Path(run_dir) / "done.json"
    if done.is_file():
        return json.loads(done.read_text())
    torch.set_num_threads(threads)
    from upcycling.data import TokenFile, val_batches
    from upcycling.train import build_model_for_run, make_val_fn, run

    tokens = TokenFile(cfg.data.path)
    val = make_val_fn(val_batches(tokens, cfg.data.seq_len, cfg.data.batch_size, cfg.data.val_batches))
    start_file = Path(run_dir) / "start.json"  # the step-0 loss survives a restart of the run
    if start_file.is_file():
        val0 = json.loads(start_file.read_text())["val_loss_start"]
    else:
        torch.manual_seed(cfg.train.seed)
        with torch.no_grad():
            val0 = val(build_model_for_run(cfg, Path(run_dir)).eval())["loss"]
        atomic_write_text(start_file, json.dumps({"val_loss_start": val0}) + "\n")
    start = time.time()
    trainer = run(cfg, run_dir)
    model = trainer.model
    n_params = sum(p.numel() for p in model.parameters())
    result = {"val_loss_start": val0, "val_loss": trainer.validate()["loss"], "steps": cfg.train.max_steps,
              "tokens": cfg.train.max_steps * cfg.data.batch_size * cfg.data.seq_len,
              "wall_s": time.time() - start, "params": n_params, "active_params": _active_params(cfg, n_params)}
    atomic_write_text(done, json.dumps(result, indent=2) + "\n")
    return result


def _active_params(cfg: RunConfig, n_params: int) -> int:
    """Parameters a token touches: the T of N routed experts in each MoE layer, the router, the shared experts,
    everything else (dense layers of an interleaved model whole)."""
    if cfg.moe is None:
        return n_params
    m, moe = cfg.model, cfg.moe
    per_expert = (3 if m.activation == "swiglu" else 2) * m.hidden * moe.expert_ffn_hidden(m.ffn_hidden)
    return n_params - len(moe.moe_layers(m.n_layers)) * (moe.num_experts - moe.topk) * per_expert


def run_name(arm: Arm, seed_index: int) -> str:
    """Run folder of one arm and continuation seed: the first seed keeps the arm's name (earlier results reuse)."""
    return arm.name if seed_index == 0 else f"{arm.name}-seed{seed_index}"


def run_suite(suite: str, out_dir: str, data_path: str, device: str = "cpu", jobs: int = 2, threads: int = 1,
              config: str | Path = CONFIG, seeds: int = 1) -> str:
    """Pretrain once, then every arm with ``seeds`` continuation seeds (``train.seed`` + i: router init and
    data order); the table gives the mean and spread over the seeds."""
    out = Path(out_dir)
    prepare_data(data_path)
    base = base_config(data_path, device, config)
    pre_dir = out / "runs" / "pretrain-dense"
    log.info("stage 2: pretraining the dense model (%d steps)", base.train.max_steps)
    pre = train_once(base, str(pre_dir), threads=threads)
    dense_ckpt = str(sorted(pre_dir.glob("ckpt_*.pt"))[-1])
    steps = base.train.max_steps // 2
    arms = ARMS[suite]
    log.info("stage 3: %d continuation arms of %d steps, %d at a time", len(arms), steps, jobs)
    ctx = get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = {}
        for i in range(seeds):
            for a in arms:
                cfg = arm_config(base, a, dense_ckpt, steps)
                cfg.train.seed = base.train.seed + i
                futures[run_name(a, i)] = pool.submit(train_once, cfg, str(out / "runs" / run_name(a, i)), threads)
        results = {name: f.result() for name, f in futures.items()}
    return report(out, suite, arms, results, pre, seeds)


def prepare_data(data_path: str) -> None:
    """Stage 1: ~8 MB of standard-library source as byte tokens, 5% of the files held out."""
    from upcycling.prepare import meta_path, prepare_tokens, stdlib_files

    if Path(data_path).is_file() and meta_path(data_path).is_file():
        return
    log.info("stage 1: tokenising the standard library into %s", data_path)
    prepare_tokens(stdlib_files(), data_path, tokenizer="byte", val_fraction=0.05, max_bytes=8_000_000)


def _mean_spread(values: list[float]) -> str:
    """"mean ± sample std (n)" of several seeds, or the single value."""
    if len(values) == 1:
        return f"{values[0]:.4f}"
    t = torch.tensor(values, dtype=torch.float64)
    return f"{t.mean().item():.4f} ± {t.std().item():.4f} ({len(values)})"


def report(out: Path, suite: str, arms: list[Arm], results: dict[str, dict], pre: dict, seeds: int = 1) -> str:
    """Stage 4: the markdown table (with several seeds: mean ± std and the per-seed values) and one loss-curve
    PNG per comparison (first seed)."""
    if seeds > 1:
        table = _seed_table(arms, results, pre, seeds)
        atomic_write_text(out / f"results_{suite}_seeds{seeds}.md", table + "\n")
        return table
    rows = [{"run": "pretrain dense", "compares": "-", "val loss at start": pre["val_loss_start"],
             "val loss": pre["val_loss"], "tokens": pre["tokens"], "wall min": pre["wall_s"] / 60,
             "params M (active)": f"{pre['params'] / 1e6:.2f}"}]
    for a in arms:
        r = results[a.name]
        rows.append({"run": a.name, "compares": a.comparison, "val loss at start": r["val_loss_start"],
                     "val loss": r["val_loss"], "tokens": r["tokens"], "wall min": r["wall_s"] / 60,
                     "params M (active)": f"{r['params'] / 1e6:.2f} ({r['active_params'] / 1e6:.2f})"})
    table = markdown_table(rows, floatfmt=".4f")
    atomic_write_text(out / f"results_{suite}.md", table + "\n")
    for group in sorted({c for a in arms for c in a.comparison.split()}):
        members = [a for a in arms if group in a.comparison.split()]
        if len(members) < 2:  # the demo holds only comparison (a)
            continue
        series = {"val loss": {}, "train lm_loss": {}}
        for a in members:
            m = read_metrics_jsonl(out / "runs" / a.name / "metrics.jsonl")
            series["val loss"][a.name] = m.get("loss", {}).get("val", {})
            series["train lm_loss"][a.name] = m.get("lm_loss", {}).get("train", {})
        save_figure(loss_curves_figure(series, ["val loss", "train lm_loss"]), out / f"curves_{suite}_{group}.png")
    return table


def _seed_table(arms: list[Arm], results: dict[str, dict], pre: dict, seeds: int) -> str:
    dense = [results[run_name(arms[0], i)]["val_loss"] for i in range(seeds)] if arms[0].moe is None else None
    rows = [{"run": "pretrain dense", "compares": "-", "val loss at start": f"{pre['val_loss_start']:.4f}",
             "val loss (mean ± std, n)": f"{pre['val_loss']:.4f}", "vs dense, same seed": "-", "per seed": "-"}]
    for a in arms:
        rs = [results[run_name(a, i)] for i in range(seeds)]
        finals = [r["val_loss"] for r in rs]
        rel = "-"
        if dense is not None and a.moe is not None:
            t = torch.tensor([100 * (f / d - 1) for f, d in zip(finals, dense, strict=True)], dtype=torch.float64)
            rel = f"{t.mean().item():+.2f}% ± {t.std().item():.2f}"
        rows.append({"run": a.name, "compares": a.comparison,
                     "val loss at start": _mean_spread([r["val_loss_start"] for r in rs]),
                     "val loss (mean ± std, n)": _mean_spread(finals), "vs dense, same seed": rel,
                     "per seed": ", ".join(f"{f:.4f}" for f in finals)})
    return markdown_table(rows)
