"""The WaveGlow flow (Prenger et al., 2019), laid out exactly as the official glow.py.

Training direction (audio -> z), shapes for batch B, T samples, groups T' = T / n_group:

1. the mel [B, n_mel, F] is upsampled by a transposed conv (kernel = n_fft, stride = hop) to the audio
   rate, trimmed, and folded to [B, n_mel * n_group, T'] (channel index = mel_bin * n_group + offset);
2. the audio [B, T] is folded to [B, n_group, T'];
3. each of ``n_flows`` steps applies an invertible 1x1 conv W, then an affine coupling whose WN network
   sees the first half xa and the mel and outputs (b, log_s) for the second half: xb <- exp(log_s) xb + b;
   every ``n_early_every`` flows the first ``n_early_size`` channels leave early as part of z.

``forward`` returns what the loss needs; ``reverse`` is its exact inverse given z; ``infer`` samples z.
Weight norm is a parametrization during training and is removed by ``remove_weight_norm``; the fast
inference weights (inverse W, folded skip/end convs) are built once by ``prepare_for_inference``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

from waveglow.config import WaveGlowModelConfig, WNConfig


def at_least_fp32(t: Tensor) -> Tensor:
    """fp16/bf16 -> fp32 for numerically fragile steps (inverse, log-determinant); fp32/fp64 unchanged."""
    return t.to(torch.promote_types(t.dtype, torch.float32))


def gated_activation(x: Tensor, n_channels: int) -> Tensor:
    """WaveNet gate: tanh of the first ``n_channels`` channels times sigmoid of the rest."""
    return torch.tanh(x[:, :n_channels]) * torch.sigmoid(x[:, n_channels:])


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
        self.convinv = nn.ModuleList()
        self.WN = nn.ModuleList()  # named as in glow.py (and the paper's figure) so keys map one to one
        n_remaining = n_group
        for k in range(cfg.n_flows):
            if self.is_early_exit(k):
                n_remaining -= cfg.n_early_size
            self.convinv.append(Invertible1x1Conv(n_remaining))
            self.WN.append(WN(n_remaining // 2, n_mel * n_group, cfg.wn))
        self.n_remaining_channels = n_remaining
        self._fast = None  # built by prepare_for_inference (waveglow.fast.FastInference)

    def is_early_exit(self, k: int) -> bool:
        """True if ``n_early_size`` channels leave z just before flow ``k``."""
        return k > 0 and k % self.cfg.n_early_every == 0

    # -- conditioning --------------------------------------------------------------------------------
    def check_mel(self, mel: Tensor) -> None:
        """Boundary checks with the fix in the message (a wrong mel otherwise fails deep in a conv)."""
        n_mel = self.cfg.n_mel_channels
        if mel.dim() != 3 or mel.shape[1] != n_mel:
            raise ValueError(
                f"WaveGlow expects a mel of shape [batch, {n_mel}, frames], got {tuple(mel.shape)}; "
                f"compute it with the config's data settings (n_mel_channels={n_mel}) or add a batch axis"
            )
        if mel.shape[2] < 1:
            raise ValueError(
                "mel has 0 frames; the upsampler trims "
                f"{self.cfg.upsample_kernel - self.cfg.upsample_stride} samples, so at least 1 frame is needed"
            )

    def upsample_mel(self, mel: Tensor, n_samples: int) -> Tensor:
        """mel [B, n_mel, F] -> grouped conditioning [B, n_mel * n_group, n_samples / n_group]."""
        up = self.upsample(mel)[:, :, :n_samples]  # [B, n_mel, T]
        B, n_mel, T = up.shape
        g = self.cfg.n_group
        up = up.reshape(B, n_mel, T // g, g).permute(0, 1, 3, 2)  # [B, n_mel, g, T']
        return up.reshape(B, n_mel * g, T // g)  # channel = mel_bin * g + offset, as glow.py's unfold

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
    def forward(self, mel: Tensor, audio: Tensor) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """(mel [B, n_mel, F], audio [B, T]) -> (z [B, n_group, T'], log_s per flow, log|det W| per flow)."""
        self._check_pair(mel, audio)
        cond = self.upsample_mel(mel, audio.shape[1])
        B, T = audio.shape
        x = audio.reshape(B, T // self.cfg.n_group, self.cfg.n_group).transpose(1, 2)  # [B, g, T']
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

        z uses ``forward``'s layout: the channels that left first come first. This plain path recomputes
        everything per call; after ``prepare_for_inference`` the cached fast path gives the same result.
        """
        self.check_mel(mel)
        n_samples = mel.shape[2] * self.cfg.upsample_stride
        if z.shape != (mel.shape[0], self.cfg.n_group, n_samples // self.cfg.n_group):
            raise ValueError(f"z must have shape {(mel.shape[0], self.cfg.n_group, n_samples // self.cfg.n_group)}, "
                             f"got {tuple(z.shape)}")
        if self._fast is not None:
            return self._fast.reverse(self, mel, z)
        cond = self.upsample_mel(mel, n_samples)
        return self._reverse_reference(cond, z)

    def _reverse_reference(self, cond: Tensor, z: Tensor) -> Tensor:
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
        B, g, n_groups = x.shape
        return x.transpose(1, 2).reshape(B, g * n_groups)  # [B, T]

    def infer(self, mel: Tensor, sigma: float = 1.0, generator: torch.Generator | None = None) -> Tensor:
        """Sample audio [B, F * hop] for mel [B, n_mel, F]; z ~ N(0, sigma^2) (sigma = 0 gives the mean)."""
        if not sigma >= 0:  # also catches NaN
            raise ValueError(f"sigma must be >= 0 (0 = deterministic, 0.6-1.0 typical), got {sigma}")
        self.check_mel(mel)
        n_groups = mel.shape[2] * self.cfg.upsample_stride // self.cfg.n_group
        z = torch.randn(mel.shape[0], self.cfg.n_group, n_groups, generator=generator,
                        device=mel.device, dtype=mel.dtype)
        return self.reverse(mel, z * sigma)

    # -- inference preparation -----------------------------------------------------------------------
    def remove_weight_norm(self) -> WaveGlow:
        """Fold each weight-norm parametrization into a plain weight (g * v / ||v||); idempotent."""
        for module in [m for m in self.modules() if parametrize.is_parametrized(m, "weight")]:
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
        return self

    def prepare_for_inference(self) -> WaveGlow:
        """eval mode, weight norm removed, fast-path weights built once from the current parameters."""
        from waveglow.fast import FastInference

        self.eval()
        self.remove_weight_norm()
        self._fast = FastInference.build(self)
        return self

    def train(self, mode: bool = True) -> WaveGlow:
        if mode:
            self._fast = None  # cached inference weights would go stale once parameters change
        return super().train(mode)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):  # type: ignore[override]
        self._fast = None
        return super().load_state_dict(state_dict, strict=strict, assign=assign)
