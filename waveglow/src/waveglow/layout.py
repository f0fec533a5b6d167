"""How WaveGlow lays audio and conditioning out in groups of ``n_group`` samples (shared by training and synthesis).

Both the training model (``model.py``) and the inference object (``inference_model.py``) import these, so
neither has to import the other: the fold/unfold conventions live in one place and cannot drift apart.
"""

from __future__ import annotations

from torch import Tensor

from waveglow.config import WaveGlowModelConfig


def is_early_exit(cfg: WaveGlowModelConfig, k: int) -> bool:
    """True if ``n_early_size`` channels leave z just before flow ``k`` (glow.py: ``k % n_early_every == 0``)."""
    return k > 0 and k % cfg.n_early_every == 0


def n_remaining_channels(cfg: WaveGlowModelConfig) -> int:
    """Channels that pass through the last flow (4 for the official 12-flow model)."""
    n_exits = sum(is_early_exit(cfg, k) for k in range(cfg.n_flows))
    return cfg.n_group - n_exits * cfg.n_early_size


def audio_to_groups(audio: Tensor, n_group: int) -> Tensor:
    """[B, T] -> [B, n_group, T / n_group]: consecutive samples become one column (glow.py's unfold)."""
    B, T = audio.shape
    return audio.reshape(B, T // n_group, n_group).transpose(1, 2)


def groups_to_audio(x: Tensor) -> Tensor:
    """Inverse of :func:`audio_to_groups`: [B, n_group, T'] -> [B, n_group * T']."""
    B, g, n_groups = x.shape
    return x.transpose(1, 2).reshape(B, g * n_groups)


def group_conditioning(up: Tensor, n_samples: int, n_group: int) -> Tensor:
    """Upsampled mel [B, n_mel, >= n_samples] -> [B, n_mel * n_group, n_samples / n_group].

    Channel index = mel_bin * n_group + offset within the group, exactly as glow.py's unfold/permute.
    """
    up = up[:, :, :n_samples]
    B, n_mel, T = up.shape
    up = up.reshape(B, n_mel, T // n_group, n_group).permute(0, 1, 3, 2)  # [B, n_mel, g, T']
    return up.reshape(B, n_mel * n_group, T // n_group)
