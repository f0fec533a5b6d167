"""Inference-time control of Flowtron: what to feed ``Flowtron.infer`` as z, and which speaker vector to use.

* ``sample_z``: z ~ N(0, sigma^2 I). sigma = 0 gives the mean (flat prosody); larger sigma more variation in pitch
  and timing. The code's sigma is a standard deviation (the paper and demo page label values as sigma^2).
* ``posterior_z`` (style transfer, the official notebook): the forward pass maps K reference clips to z; each is
  tiled or cut to ``n_frames`` and averaged; with a standard normal prior and a Gaussian likelihood of variance
  ``lambda``, the posterior mean is (K/lambda) z_mean / (K/lambda + 1); z is sampled around it with ``sigma``.
  ``average="time_and_batch"`` also averages over frames (the notebook's second variant).
* ``interpolate_z`` / ``speaker_blend``: straight-line interpolation between two z's, or between two speakers'
  embeddings (speaker morphing).
* ``component_z``: with the Gaussian-mixture prior, z around one component's mean picks the style that component
  captured.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from flowtron.model import Flowtron, FlowtronInputError


def sample_z(n_frames: int, sigma: float, n_mel: int = 80, generator: torch.Generator | None = None) -> Tensor:
    if sigma < 0:
        raise FlowtronInputError(f"sigma must be >= 0 (a standard deviation), got {sigma}")
    if n_frames < 1:
        raise FlowtronInputError(f"the frame cap must be >= 1, got {n_frames}")
    return torch.randn(1, n_mel, n_frames, generator=generator) * sigma


def _fit_frames(z: Tensor, n_frames: int) -> Tensor:
    """[1, n_mel, T] tiled along time or cut to ``n_frames``."""
    reps = -(-n_frames // z.shape[2])
    return z.repeat(1, 1, reps)[:, :, :n_frames]


@torch.no_grad()
def posterior_z(model: Flowtron, references: Sequence[tuple[Tensor, Tensor]], speaker: int, n_frames: int,
                sigma: float = 1.0, lam: float = 1e-4, average: str = "batch",
                generator: torch.Generator | None = None) -> Tensor:
    """``references``: (mel [n_mel, T], text ids [L]) pairs; returns z [1, n_mel, n_frames]."""
    if not references:
        raise FlowtronInputError("style transfer needs at least one reference clip")
    if average not in ("batch", "time_and_batch"):
        raise FlowtronInputError(f"average must be 'batch' or 'time_and_batch', got {average!r}")
    zs = []
    spk = torch.tensor([speaker])
    for mel, text in references:
        out = model(mel[None], spk, text[None], torch.tensor([text.shape[0]]), None)
        zs.append(_fit_frames(out.z, n_frames))
    z = torch.cat(zs).mean(0, keepdim=True)
    if average == "time_and_batch":
        z = z.mean(2, keepdim=True).expand(-1, -1, n_frames)
    k = len(zs) / lam
    mu = k * z / (k + 1)
    return mu + sigma * torch.randn(mu.shape, generator=generator)


def interpolate_z(z_a: Tensor, z_b: Tensor, weight: float) -> Tensor:
    """(1 - weight) z_a + weight z_b (lengths cut to the shorter)."""
    n = min(z_a.shape[2], z_b.shape[2])
    return (1 - weight) * z_a[:, :, :n] + weight * z_b[:, :, :n]


@torch.no_grad()
def speaker_blend(model: Flowtron, a: int, b: int, weight: float) -> Flowtron:
    """A copy of ``model`` whose speaker row ``a`` holds (1 - weight) e_a + weight e_b: infer with speaker ``a``."""
    import copy

    blended = copy.deepcopy(model)
    table = blended.speaker_embedding.weight
    for s in (a, b):
        if not 0 <= s < table.shape[0]:
            raise FlowtronInputError(f"speaker {s} is outside this model's table (0..{table.shape[0] - 1})")
    table[a] = (1 - weight) * model.speaker_embedding.weight[a] + weight * model.speaker_embedding.weight[b]
    return blended


def component_z(model: Flowtron, component: int, n_frames: int, sigma: float = 1.0,
                generator: torch.Generator | None = None) -> Tensor:
    """z around mixture component ``component``'s mean (fixed-mean mixtures; learned means need a reference)."""
    mixture = getattr(model, "gaussian_mixture", None)
    if mixture is None or not mixture.fixed_gaussian:
        raise FlowtronInputError("component control needs a model trained with a fixed-mean Gaussian mixture "
                                 "(model.n_components > 1, fixed_gaussian true)")
    if not 0 <= component < mixture.n_components:
        raise FlowtronInputError(f"component must be in 0..{mixture.n_components - 1}, got {component}")
    mean = mixture.mean[0, :, component][None, :, None]
    std = torch.exp(0.5 * mixture.log_var[0, :, component])[None, :, None]
    return mean + sigma * std * torch.randn(1, mean.shape[1], n_frames, generator=generator)


__all__ = ["component_z", "interpolate_z", "posterior_z", "sample_z", "speaker_blend"]
