"""The WaveGlow flow (Prenger et al., 2019), laid out exactly as the official glow.py.

Training direction (audio -> z), shapes for batch B, T samples, groups T' = T / n_group:

1. the mel [B, n_mel, F] is upsampled by a transposed conv (kernel = n_fft, stride = hop) to the audio
   rate, trimmed, and folded to [B, n_mel * n_group, T'] (channel index = mel_bin * n_group + offset);
2. the audio [B, T] is folded to [B, n_group, T'];
3. each of ``n_flows`` steps applies an invertible 1x1 conv W, then an affine coupling whose WN network
   sees the first half xa and the mel and outputs (b, log_s) for the second half: xb <- exp(log_s) xb + b;
   every ``n_early_every`` flows the first ``n_early_size`` channels leave early as part of z.

``forward`` returns what the loss needs; ``reverse`` is its exact inverse given z (the reference definition);
``infer`` samples z. Weight norm is a parametrization during training and is removed by
``remove_weight_norm``. Synthesis with precomputed weights is ``for_inference()``, which returns a separate
``WaveGlowInference`` snapshot; this module keeps no derived weights, so nothing in it can go stale.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

from waveglow.config import WaveGlowModelConfig, WNConfig
from waveglow.inference_model import WaveGlowInference
from waveglow.layout import audio_to_groups, group_conditioning, groups_to_audio
from waveglow.layout import is_early_exit as _is_early_exit
from waveglow.layout import n_remaining_channels as _n_remaining
from waveglow.validate import check_mel_shape


def at_least_fp32(t: Tensor) -> Tensor:
    """fp16/bf16 -> fp32 for numerically fragile steps (inverse, log-determinant); fp32/fp64 unchanged."""
    return t.to(torch.promote_types(t.dtype, torch.float32))


def gated_activation(x: Tensor, n_channels: int) -> Tensor:
    """WaveNet gate: tanh of the first ``n_channels`` channels times sigmoid of the rest."""
    return torch.tanh(x[:, :n_channels]) * torch.sigmoid(x[:, n_channels:])


LINEAR_UPSAMPLE_GAIN = 0.05
"""peak of the "linear" upsampler's triangle: log-mels (about -11 to 2) come out at a scale near that of
torch's random init, so the WN's gates do not start saturated"""


@torch.no_grad()
def linear_interpolation_init(up: nn.ConvTranspose1d) -> None:
    """Set ``up`` (stride = hop) to per-bin linear interpolation between frame centres, one hop late.

    Frame f reaches output samples f * hop + k for k in [0, kernel); a triangle peaking at k = hop and zero
    at k = 0 and 2 * hop gives sample f * hop + hop + r the mix (1 - r/hop) frame f + (r/hop) frame f+1, a
    partition of unity. Deterministic, so a frozen copy needs no seed to rebuild.
    """
    hop = up.stride[0]
    k = torch.arange(up.kernel_size[0], dtype=torch.float32)
    triangle = (1 - (k - hop).abs() / hop).clamp(min=0) * LINEAR_UPSAMPLE_GAIN
    up.weight.zero_()
    up.bias.zero_()
    idx = torch.arange(min(up.in_channels, up.out_channels))
    up.weight[idx, idx] = triangle.to(up.weight.dtype)


class Invertible1x1Conv(nn.Module):
    """Channel mixing z = W x with a learned square W; log|det W| per group enters the likelihood."""

    def __init__(self, n_channels: int) -> None:
        super().__init__()
        # A random orthonormal start keeps |det W| = 1; flipping one column makes det = +1, so W starts in
        # the rotation component and never has to pass through a singular matrix while training.
        W = torch.linalg.qr(torch.randn(n_channels, n_channels))[0]
        if not W.is_meta and torch.det(W) < 0:  # meta: shapes only (parameter counting)
            W[:, 0] = -W[:, 0]
        self.W = nn.Parameter(W)  # [c, c]

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """x [B, c, T'] -> (W x, B * T' * log|det W|)."""
        batch, _, n_groups = x.shape
        log_det_W = batch * n_groups * torch.linalg.slogdet(at_least_fp32(self.W))[1]
        return F.conv1d(x, self.W.unsqueeze(-1)), log_det_W

    def inverse_matrix(self) -> Tensor:
        """W^-1 computed in at least fp32 whatever the parameter dtype (fp16 inversion loses too much)."""
        return torch.linalg.inv(at_least_fp32(self.W))

    def reverse(self, z: Tensor) -> Tensor:
        """Plain reference inverse: W^-1 z (recomputes the inverse each call)."""
        return F.conv1d(z, self.inverse_matrix().to(z.dtype).unsqueeze(-1))


class WN(nn.Module):
    """Non-causal WaveNet-like coupling network: (xa, grouped mel) -> (b, log_s) for the other half."""

    def __init__(self, n_half: int, n_cond_channels: int, cfg: WNConfig) -> None:
        super().__init__()
        C, L, k = cfg.n_channels, cfg.n_layers, cfg.kernel_size
        self.n_channels, self.n_layers, self.n_half = C, L, n_half
        self.start = weight_norm(nn.Conv1d(n_half, C, 1))
        # One conv produces the conditioning of all layers at once (2C channels per layer).
        self.cond_layer = weight_norm(nn.Conv1d(n_cond_channels, 2 * C * L, 1))
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        for i in range(L):
            dilation = 2**i
            self.in_layers.append(
                weight_norm(nn.Conv1d(C, 2 * C, k, dilation=dilation, padding=dilation * (k - 1) // 2))
            )
            # The last layer has no residual branch: nothing reads it.
            self.res_skip_layers.append(weight_norm(nn.Conv1d(C, 2 * C if i < L - 1 else C, 1)))
        # A zero end layer makes every coupling the identity at initialisation (log_s = 0, b = 0), which
        # the paper and glow.py use for training stability.
        self.end = nn.Conv1d(C, 2 * n_half, 1)
        nn.init.zeros_(self.end.weight)
        nn.init.zeros_(self.end.bias)

    def forward(self, xa: Tensor, cond: Tensor) -> tuple[Tensor, Tensor]:
        """xa [B, n_half, T'], cond [B, n_mel * n_group, T'] -> (b, log_s), each [B, n_half, T']."""
        C = self.n_channels
        h = self.start(xa)  # [B, C, T']
        gates = self.cond_layer(cond)  # [B, 2C * L, T']
        skip = torch.zeros_like(h)
        for i in range(self.n_layers):
            acts = gated_activation(self.in_layers[i](h) + gates[:, 2 * C * i : 2 * C * (i + 1)], C)
            res_skip = self.res_skip_layers[i](acts)  # [B, 2C or C, T']
            if i < self.n_layers - 1:
                h = h + res_skip[:, :C]
                skip = skip + res_skip[:, C:]
            else:
                skip = skip + res_skip
        out = self.end(skip)  # [B, 2 * n_half, T']: shift b first, then log_s (glow.py order)
        return out[:, : self.n_half], out[:, self.n_half :]


class WaveGlow(nn.Module):
    """Mel-conditioned normalising flow over groups of audio samples."""

    def __init__(self, cfg: WaveGlowModelConfig | None = None) -> None:
        super().__init__()
        cfg = cfg if cfg is not None else WaveGlowModelConfig()
        self.cfg = cfg
        n_mel, n_group = cfg.n_mel_channels, cfg.n_group
        self.upsample = nn.ConvTranspose1d(n_mel, n_mel, cfg.upsample_kernel, stride=cfg.upsample_stride)
        if cfg.upsample_init == "linear":
            linear_interpolation_init(self.upsample)
        self.convinv = nn.ModuleList()
        self.WN = nn.ModuleList()  # named as in glow.py (and the paper's figure) so keys map one to one
        n_remaining = n_group
        for k in range(cfg.n_flows):
            if self.is_early_exit(k):
                n_remaining -= cfg.n_early_size
            self.convinv.append(Invertible1x1Conv(n_remaining))
            self.WN.append(WN(n_remaining // 2, n_mel * n_group, cfg.wn))
        self.n_remaining_channels = n_remaining
        assert n_remaining == _n_remaining(cfg)

    def is_early_exit(self, k: int) -> bool:
        """True if ``n_early_size`` channels leave z just before flow ``k``."""
        return _is_early_exit(self.cfg, k)

    # -- conditioning --------------------------------------------------------------------------------
    def check_mel(self, mel: Tensor) -> None:
        """Boundary checks with the fix in the message (a wrong mel otherwise fails deep in a conv)."""
        check_mel_shape(mel, self.cfg)

    def upsample_mel(self, mel: Tensor, n_samples: int) -> Tensor:
        """mel [B, n_mel, F] -> grouped conditioning [B, n_mel * n_group, n_samples / n_group]."""
        return group_conditioning(self.upsample(mel), n_samples, self.cfg.n_group)

    def _check_pair(self, mel: Tensor, audio: Tensor) -> None:
        self.check_mel(mel)
        g, hop, trim = self.cfg.n_group, self.cfg.upsample_stride, self.cfg.upsample_kernel - self.cfg.upsample_stride
        if audio.dim() != 2 or audio.shape[0] != mel.shape[0]:
            raise ValueError(f"audio must be [batch, samples] with the mel's batch, got {tuple(audio.shape)}")
        if audio.shape[1] % g != 0 or audio.shape[1] == 0:
            raise ValueError(f"audio length {audio.shape[1]} must be a positive multiple of n_group={g}; crop it")
        if mel.shape[2] * hop + trim < audio.shape[1]:
            raise ValueError(
                f"mel of {mel.shape[2]} frames covers at most {mel.shape[2] * hop + trim} samples but the audio has "
                f"{audio.shape[1]}; compute the mel from this audio (1 + samples // {hop} frames)"
            )

    # -- training direction --------------------------------------------------------------------------
    def forward(self, mel: Tensor | tuple[Tensor, Tensor] | list[Tensor],
                audio: Tensor | None = None) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """(mel [B, n_mel, F], audio [B, T]) -> (z [B, n_group, T'], log_s per flow, log|det W| per flow).

        ``model((mel, audio))``, the official glow.py call with one tuple, is accepted too.
        """
        if audio is None:
            if not (isinstance(mel, tuple | list) and len(mel) == 2):
                raise TypeError("WaveGlow.forward takes (mel, audio) or one (mel, audio) tuple as glow.py does")
            mel, audio = mel
        self._check_pair(mel, audio)
        cond = self.upsample_mel(mel, audio.shape[1])
        x = audio_to_groups(audio, self.cfg.n_group)  # [B, g, T']
        early, log_s_list, log_det_W_list = [], [], []
        for k in range(self.cfg.n_flows):
            if self.is_early_exit(k):
                early.append(x[:, : self.cfg.n_early_size])
                x = x[:, self.cfg.n_early_size :]
            x, log_det_W = self.convinv[k](x)
            n_half = x.shape[1] // 2
            xa, xb = x[:, :n_half], x[:, n_half:]
            b, log_s = self.WN[k](xa, cond)
            x = torch.cat([xa, torch.exp(log_s) * xb + b], dim=1)
            log_s_list.append(log_s)
            log_det_W_list.append(log_det_W)
        return torch.cat([*early, x], dim=1), log_s_list, log_det_W_list

    # -- synthesis direction -------------------------------------------------------------------------
    def reverse(self, mel: Tensor, z: Tensor) -> Tensor:
        """Exact inverse of ``forward``: (mel, z [B, n_group, F * hop / n_group]) -> audio [B, F * hop].

        The reference definition, computed from the parameters as they are now (weight norm, W^-1 and all);
        ``for_inference().reverse`` is the fast equivalent, and the tests hold them equal.
        """
        self.check_mel(mel)
        n_samples = mel.shape[2] * self.cfg.upsample_stride
        if z.shape != (mel.shape[0], self.cfg.n_group, n_samples // self.cfg.n_group):
            raise ValueError(f"z must have shape {(mel.shape[0], self.cfg.n_group, n_samples // self.cfg.n_group)}, "
                             f"got {tuple(z.shape)}")
        cond = self.upsample_mel(mel, n_samples)
        n_early, stop = self.cfg.n_early_size, z.shape[1]
        start = stop - self.n_remaining_channels
        x = z[:, start:]
        for k in reversed(range(self.cfg.n_flows)):
            n_half = x.shape[1] // 2
            xa, xb = x[:, :n_half], x[:, n_half:]
            b, log_s = self.WN[k](xa, cond)
            x = torch.cat([xa, (xb - b) / torch.exp(log_s)], dim=1)
            x = self.convinv[k].reverse(x)
            if self.is_early_exit(k):
                start -= n_early
                x = torch.cat([z[:, start : start + n_early], x], dim=1)
        return groups_to_audio(x)  # [B, T]

    def infer(self, mel: Tensor, sigma: float = 1.0, generator: torch.Generator | None = None,
              lengths: Sequence[int] | Tensor | None = None, *, check_scale: bool = True) -> Tensor:
        """Sample audio [B, F * hop] for mel [B, n_mel, F]; z ~ N(0, sigma^2) (sigma = 0 gives the mean).

        The mel is validated (finite, natural-log scale; ``check_scale=False`` skips the scale check). This
        builds the fast weights from the current parameters on every call (a few ms, never stale); for
        repeated synthesis build them once with ``for_inference()`` and call its ``infer``.
        """
        return self.for_inference().infer(mel, sigma, generator, lengths, check_scale=check_scale)

    # -- inference preparation -----------------------------------------------------------------------
    @torch.no_grad()
    def for_inference(self) -> WaveGlowInference:
        """A synthesis-only snapshot: weight norm folded, W^-1 and fused weights computed now, eval mode.

        The snapshot does not follow later changes to this model (optimizer steps, EMA updates); build a
        new one after them. This model is left as it is.
        """
        return WaveGlowInference(self)

    def remove_weight_norm(self) -> WaveGlow:
        """Fold each weight-norm parametrization into a plain weight (g * v / ||v||); idempotent."""
        for module in [m for m in self.modules() if parametrize.is_parametrized(m, "weight")]:
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
        return self

    @staticmethod
    def remove_weightnorm(model: WaveGlow) -> WaveGlow:
        """glow.py's spelling: ``waveglow = waveglow.remove_weightnorm(waveglow)``; same as ``remove_weight_norm``."""
        return model.remove_weight_norm()

    def prepare_for_inference(self) -> WaveGlow:
        """eval mode and weight norm removed (kept for callers of the old API; ``for_inference()`` is faster)."""
        self.eval()
        return self.remove_weight_norm()


def remove_weightnorm(model: WaveGlow) -> WaveGlow:
    """``waveglow.remove_weightnorm(model)``: fold weight norm into plain weights, in place; returns the model."""
    return model.remove_weight_norm()
