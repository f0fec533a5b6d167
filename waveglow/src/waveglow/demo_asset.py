"""The demo's pretrained asset: a small file of tiny-WaveGlow weights that this project trained itself.

Why a separate format: ``configs/tiny.json``'s upsampler (a transposed conv, 80 x 80 x 1024) holds 6.55M of
its 7.34M weights, 26 MB in fp32. The run behind the asset (``configs/tiny_pretrain.json``) keeps the
upsampler frozen at its seeded initial weights (config ``freeze``), so the asset stores only the other
weights (about 3 MB, fp32, no optimizer) and the loader rebuilds the frozen ones from the seed, checking
them against the SHA-256 digests recorded when the asset was made. If a future torch draws different
initial weights for the same seed, loading fails with that message instead of vocoding noise.

``python -m waveglow.demo_asset CKPT OUT --meta META.json`` writes an asset from one of our training
checkpoints; ``load_asset(path, cfg)`` returns the full weight-normed ``WaveGlow`` for ``cfg``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ninerepro.atomic import atomic_save
from ninerepro.train.config import from_dict, to_dict
from waveglow.checkpoint import load_training_state
from waveglow.config import WaveGlowConfig
from waveglow.data_settings import differences
from waveglow.model import WaveGlow

ASSET_FORMAT = "waveglow-demo-asset"
ASSET_VERSION = 1
ASSET = Path(__file__).resolve().parents[2] / "demo_assets" / "tiny_pretrained.pt"
RESTORE = "git checkout -- waveglow/demo_assets/tiny_pretrained.pt"


class AssetError(ValueError):
    """The asset is missing, corrupt, or was made for another model; the message names the file and the fix."""


def _digest(t: Tensor) -> str:
    return hashlib.sha256(t.detach().contiguous().cpu().numpy().tobytes()).hexdigest()


def _seeded(cfg: WaveGlowConfig, seed: int) -> WaveGlow:
    torch.manual_seed(seed)  # as waveglow.train.build_model
    return WaveGlow(cfg.model)


def save_asset(checkpoint: str | Path, out: str | Path, meta: dict[str, Any] | None = None,
               prior_steps: int = 0) -> Path:
    """Our training checkpoint -> asset: the trained weights minus the frozen ones, which must equal the seed's.

    ``prior_steps``: the steps the run's starting weights already had when it began with ``--init-from`` (its
    step counter restarts at 0), so the asset's ``steps`` counts every update the weights received.
    """
    if prior_steps < 0:
        raise AssetError(f"--prior-steps {prior_steps}: must be >= 0 (the steps of the --init-from weights)")
    found = load_training_state(checkpoint)
    if found.config is None:
        raise AssetError(f"{checkpoint}: has no saved config; make the asset from a waveglow training checkpoint")
    cfg, seed = found.config, found.config.train.seed
    init = _seeded(cfg, seed).state_dict()
    rebuilt = {k: _digest(init[k]) for k in init if any(k.startswith(p) for p in cfg.freeze)}
    for k in rebuilt:
        if not torch.equal(found.state[k], init[k]):
            raise AssetError(f"{checkpoint}: {k} differs from its seeded initial value, so it cannot be rebuilt; "
                             "train with freeze (configs/tiny_pretrain.json)")
    state = {k: v.detach().float().clone() for k, v in found.state.items() if k not in rebuilt}
    payload = {"format": ASSET_FORMAT, "version": ASSET_VERSION, "config": to_dict(cfg), "state": state,
               "rebuilt_from_seed": {"seed": seed, "sha256": rebuilt},
               "steps": None if found.iteration is None else found.iteration + prior_steps,
               "meta": meta or {}}
    return atomic_save(out, lambda f: torch.save(payload, f))


def read_asset(path: str | Path) -> dict[str, Any]:
    """The asset's payload, checked for shape; every problem is an AssetError naming the file and the fix."""
    path = Path(path)
    fix = f"restore it ({RESTORE}) or run the demo with --from-scratch"
    if not path.is_file():
        raise AssetError(f"{path}: pretrained demo asset not found; {fix}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise AssetError(f"{path}: cannot be read ({type(e).__name__}); it is truncated or not a demo asset; "
                         f"{fix}") from None
    if not isinstance(payload, dict) or payload.get("format") != ASSET_FORMAT:
        raise AssetError(f"{path}: not a WaveGlow demo asset (python -m waveglow.demo_asset writes them); {fix}")
    if payload.get("version") != ASSET_VERSION:
        raise AssetError(f"{path}: asset version {payload.get('version')}, this code reads {ASSET_VERSION}; {fix}")
    return payload


def load_asset(path: str | Path, cfg: WaveGlowConfig) -> tuple[WaveGlow, dict[str, Any]]:
    """The asset's model for ``cfg`` (weight-normed, train mode) and its payload (steps, meta).

    The asset must have been trained with ``cfg``'s model and audio settings; a difference is listed.
    """
    payload = read_asset(path)
    fix = f"restore it ({RESTORE}) or run the demo with --from-scratch"
    try:
        saved = from_dict(WaveGlowConfig, payload["config"])
    except Exception as e:
        raise AssetError(f"{path}: its saved config is invalid ({e}); {fix}") from None
    mine, theirs = asdict(cfg.model), asdict(saved.model)
    changed = [f"model.{k}: {theirs[k]} -> {mine[k]}" for k in mine if mine[k] != theirs.get(k)]
    changed += [f"data.{d}" for d in differences(saved.data, cfg.data)]
    if changed:
        raise AssetError(f"{path}: made for another model or audio settings ({'; '.join(changed)}); "
                         "run the demo with --from-scratch or with the asset's config")
    seed_info = payload.get("rebuilt_from_seed", {})
    model = _seeded(saved, int(seed_info.get("seed", saved.train.seed)))
    full = model.state_dict()
    for k, digest in seed_info.get("sha256", {}).items():
        if k not in full or _digest(full[k]) != digest:
            raise AssetError(f"{path}: {k} rebuilt from seed {seed_info.get('seed')} does not match the asset "
                             f"(torch {torch.__version__} draws other initial weights?); run the demo with "
                             "--from-scratch")
    state = payload["state"]
    missing = sorted(set(full) - set(state) - set(seed_info.get("sha256", {})))
    extra = sorted(set(state) - set(full))
    bad = [k for k in state if k in full and tuple(state[k].shape) != tuple(full[k].shape)]
    if missing or extra or bad:
        raise AssetError(f"{path}: weights do not fit the model (missing {missing[:3]}, unexpected {extra[:3]}, "
                         f"wrong shape {bad[:3]}); {fix}")
    full.update(state)
    model.load_state_dict(full)
    if not all(torch.isfinite(v).all() for v in state.values()):
        raise AssetError(f"{path}: holds non-finite weights; {fix}")
    return model, payload


def main(argv: list[str] | None = None) -> int:
    """``python -m waveglow.demo_asset CKPT OUT [--meta META.json]``: write the demo asset from a checkpoint."""
    p = argparse.ArgumentParser(prog="python -m waveglow.demo_asset", description=main.__doc__)
    p.add_argument("checkpoint", type=Path, help="one of our training checkpoints (run folder ckpt_*.pt)")
    p.add_argument("out", type=Path, help="the asset to write (.pt)")
    p.add_argument("--meta", type=Path, help="JSON of provenance (command, hours, git, machine) stored inside")
    p.add_argument("--prior-steps", type=int, default=0, metavar="N",
                   help="steps the run's --init-from weights already had (its counter restarted at 0); the asset "
                        "records checkpoint steps + N")
    args = p.parse_args(argv)
    try:
        meta = json.loads(args.meta.read_text()) if args.meta else {}
        out = save_asset(args.checkpoint, args.out, meta, prior_steps=args.prior_steps)
    except (OSError, ValueError, RuntimeError) as e:
        print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
