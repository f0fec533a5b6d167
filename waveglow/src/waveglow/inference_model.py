"""``WaveGlowInference``: the synthesis-only form of a WaveGlow, with every derived weight computed once.

``WaveGlow.for_inference()`` builds it. It is a snapshot: the training model is not modified and later
changes to it (an optimizer step, an EMA ``copy_``) do not reach the snapshot; build a new one instead.
Nothing is cached lazily, so nothing can go stale: every tensor the object uses is one of its buffers,
computed in ``__init__``. Each change below is exact algebra on the trained weights (only float rounding
differs); ``WaveGlow.reverse_reference`` stays the definition and the tests compare the two.

* **Weight norm folded**: each conv's effective weight g * v / ||v|| is read once.
* **Inverse 1x1 convs**: W^-1 computed in fp32 and kept in fp32 whatever the object's dtype (glow.py also
  inverts in fp32); cast to the activations' dtype at use, as glow.py does.
* **Skip branch folded into the end conv**: the coupling output is ``end(sum_i skip_i(acts_i))``, linear in
  each layer's gated activations, so ``end_W @ skip_W_i`` (2 * n_half x C) replaces every C x C skip conv and
  the end conv; the residual half and this folded half share one matmul.
* **Layer biases folded into the conditioning bias**, saving one add over [B, 2C, T'] per layer.
* **1x1 convs as matmuls**: on CPU (oneDNN) a kernel-1 ``conv1d`` measured about 2x slower than the same
  matmul for the 256 -> 512 shape (bench/NOTES.md).

Batches of mels of different lengths: ``reverse(mel, z, lengths=...)`` zeroes each item's residual stream
past its own end before every dilated conv, which is exactly what the zero padding of a single-item run
does, so every item's samples equal its single-item synthesis (up to float rounding).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from waveglow.config import WaveGlowModelConfig
from waveglow.layout import group_conditioning, groups_to_audio, is_early_exit, n_remaining_channels
from waveglow.validate import check_mel_shape, check_mel_values, check_sigma, compute_dtype_for

# model.py imports this module (``WaveGlow.for_inference``), so this one never imports model.py: the models
# it reads are typed as nn.Module (a ``waveglow.model.WaveGlow`` and its ``WN`` coupling networks).


def _effective(conv: nn.Module) -> Tensor:
    """A conv's weight as used in its forward (weight norm applied), detached, fp32."""
    return conv.weight.detach().float()


class _FlowWeights(nn.Module):
    """One flow's folded inference weights, as buffers."""

    def __init__(self, wn: nn.Module, W_inverse: Tensor) -> None:
        super().__init__()
        C, L = wn.n_channels, wn.n_layers
        self.n_channels, self.n_half = C, wn.n_half
        end_w = wn.end.weight.detach().float()[:, :, 0]  # [2 * n_half, C]
        end_b = wn.end.bias.detach().float().clone()
        cond_b = wn.cond_layer.bias.detach().float().clone()
        self.dilations: list[int] = []
        for i in range(L):
            layer = wn.in_layers[i]
            self.register_buffer(f"in_w{i}", _effective(layer).clone())  # [2C, C, k]
            self.dilations.append(layer.dilation[0])
            cond_b[2 * C * i : 2 * C * (i + 1)] += layer.bias.detach().float()
            rs_w = _effective(wn.res_skip_layers[i])[:, :, 0]  # [2C or C, C]
            rs_b = wn.res_skip_layers[i].bias.detach().float()
            skip_w, skip_b = (rs_w[C:], rs_b[C:]) if i < L - 1 else (rs_w, rs_b)
            end_b += end_w @ skip_b
            folded = end_w @ skip_w  # [2 * n_half, C]
            if i < L - 1:
                self.register_buffer(f"res_out_w{i}", torch.cat([rs_w[:C], folded]))
                self.register_buffer(f"res_out_b{i}", torch.cat([rs_b[:C], torch.zeros_like(folded[:, 0])]))
            else:
                self.register_buffer(f"res_out_w{i}", folded)
                self.register_buffer(f"res_out_b{i}", torch.zeros_like(folded[:, 0]))
        self.register_buffer("W_inverse", W_inverse.float().clone())  # [c, c], kept fp32 (see _apply)
        self.register_buffer("start_w", _effective(wn.start)[:, :, 0].clone())  # [C, n_half]
        self.register_buffer("start_b", wn.start.bias.detach().float().clone())
        self.register_buffer("cond_w", _effective(wn.cond_layer)[:, :, 0].clone())  # [2C * L, n_mel * n_group]
        self.register_buffer("cond_b", cond_b)
        self.register_buffer("end_b", end_b)  # end bias plus the folded skip biases

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True):  # type: ignore[override]
        """``.to()`` / ``.half()`` move every buffer but keep W^-1 in fp32 (an fp16 inverse loses too much)."""
        master = self.W_inverse
        super()._apply(fn, recurse)
        self.W_inverse = master.to(self.start_w.device)
        return self

    def reverse(self, x: Tensor, cond: Tensor, mask: Tensor | None) -> Tensor:
        """Inverse coupling then inverse 1x1 conv; ``mask`` [B, 1, T'] (1 = inside the item) or None."""
        C, n_half = self.n_channels, self.n_half
        xa, xb = x[:, :n_half], x[:, n_half:]
        h = torch.matmul(self.start_w, xa) + self.start_b.unsqueeze(-1)  # [B, C, T']
        gates = torch.matmul(self.cond_w, cond)  # [B, 2C * L, T']
        gates += self.cond_b.unsqueeze(-1)
        out = None
        for i, dilation in enumerate(self.dilations):
            if mask is not None:
                h = h * mask  # what a single-item run's zero padding sees past this item's end
            in_w = getattr(self, f"in_w{i}")
            pre = F.conv1d(h, in_w, None, dilation=dilation, padding=dilation * (in_w.shape[-1] - 1) // 2)
            pre += gates[:, 2 * C * i : 2 * C * (i + 1)]
            acts = torch.tanh(pre[:, :C]) * torch.sigmoid(pre[:, C:])  # [B, C, T']
            res_out = torch.matmul(getattr(self, f"res_out_w{i}"), acts)
            res_out += getattr(self, f"res_out_b{i}").unsqueeze(-1)  # [B, C + 2 n_half or 2 n_half, T']
            if res_out.shape[1] > 2 * n_half:
                h = h + res_out[:, :C]
                res_out = res_out[:, C:]
            out = res_out if out is None else out + res_out
        out = out + self.end_b.unsqueeze(-1)  # [B, 2 * n_half, T']
        b, log_s = out[:, :n_half], out[:, n_half:]
        x = torch.cat([xa, (xb - b) * torch.exp(-log_s)], dim=1)
        return torch.matmul(self.W_inverse.to(x.dtype), x)  # [B, c, T']


class WaveGlowInference(nn.Module):
    """Synthesis-only WaveGlow: ``infer(mel, sigma)`` and ``reverse(mel, z)``, weights precomputed at construction."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.cfg: WaveGlowModelConfig = model.cfg
        ref = model.upsample.weight
        self.upsample = nn.ConvTranspose1d(self.cfg.n_mel_channels, self.cfg.n_mel_channels,
                                           self.cfg.upsample_kernel, stride=self.cfg.upsample_stride,
                                           device=ref.device, dtype=torch.float32)
        with torch.no_grad():
            self.upsample.weight.copy_(model.upsample.weight.detach().float())
            self.upsample.bias.copy_(model.upsample.bias.detach().float())
            self.flows = nn.ModuleList(
                _FlowWeights(model.WN[k], model.convinv[k].inverse_matrix()) for k in range(self.cfg.n_flows)
            )
        self.n_remaining_channels = n_remaining_channels(self.cfg)
        self.requires_grad_(False)
        self.eval()
        self.to(ref.dtype)

    def train(self, mode: bool = True) -> WaveGlowInference:
        if mode:
            raise RuntimeError("WaveGlowInference is synthesis-only; train the WaveGlow it was built from and "
                               "call model.for_inference() again")
        return super().train(False)

    @property
    def weight_ref(self) -> Tensor:
        """A tensor on the object's device and dtype (what callers such as the Denoiser allocate like)."""
        return self.upsample.weight

    def noise_shape(self, batch: int, frames: int) -> tuple[int, int, int]:
        return (batch, self.cfg.n_group, frames * self.cfg.upsample_stride // self.cfg.n_group)

    def _prepare(self, mel: Tensor, check_scale: bool) -> Tensor:
        check_mel_shape(mel, self.cfg)
        check_mel_values(mel, check_scale=check_scale)
        dtype = compute_dtype_for(mel, self.weight_ref)
        if mel.device != self.weight_ref.device:
            raise ValueError(f"mel is on {mel.device} but the model is on {self.weight_ref.device}; "
                             f"move it with mel.to({str(self.weight_ref.device)!r})")
        return mel.to(dtype)

    def _mask(self, lengths: Sequence[int] | Tensor | None, batch: int, n_groups: int,
              ref: Tensor) -> Tensor | None:
        """[B, 1, T'] mask from per-item lengths in mel frames; None when every item fills the batch."""
        if lengths is None:
            return None
        frames = torch.as_tensor(lengths, dtype=torch.long).cpu()
        groups_per_frame = self.cfg.upsample_stride // self.cfg.n_group
        if frames.shape != (batch,) or bool((frames < 1).any()) or int(frames.max()) * groups_per_frame > n_groups:
            raise ValueError(f"lengths must be {batch} frame counts in [1, mel frames], got {frames.tolist()}")
        if bool((frames * groups_per_frame == n_groups).all()):
            return None
        positions = torch.arange(n_groups)
        mask = (positions[None, :] < (frames * groups_per_frame)[:, None]).to(device=ref.device, dtype=ref.dtype)
        return mask.unsqueeze(1)

    @torch.no_grad()
    def reverse(self, mel: Tensor, z: Tensor, lengths: Sequence[int] | Tensor | None = None, *,
                check_scale: bool = True) -> Tensor:
        """(mel [B, n_mel, F], z [B, n_group, F * hop / n_group]) -> audio [B, F * hop].

        z uses ``WaveGlow.forward``'s layout (channels that left first come first). ``lengths``: each item's
        own frame count when shorter items are padded; its samples then equal a single-item run.
        """
        mel = self._prepare(mel, check_scale)
        expected = self.noise_shape(mel.shape[0], mel.shape[2])
        if tuple(z.shape) != expected:
            raise ValueError(f"z must have shape {expected}, got {tuple(z.shape)}")
        return self.reverse_unchecked(mel, z.to(mel.dtype), self._mask(lengths, mel.shape[0], z.shape[2], mel))

    def reverse_unchecked(self, mel: Tensor, z: Tensor, mask: Tensor | None = None) -> Tensor:
        """The flows alone, no input checks (for graph export: checks on values cannot be traced)."""
        cfg = self.cfg
        n_samples = mel.shape[2] * cfg.upsample_stride
        cond = group_conditioning(self.upsample(mel), n_samples, cfg.n_group)
        start = z.shape[1] - self.n_remaining_channels
        x = z[:, start:]
        for k in reversed(range(cfg.n_flows)):
            x = self.flows[k].reverse(x, cond, mask)
            if is_early_exit(cfg, k):
                start -= cfg.n_early_size
                x = torch.cat([z[:, start : start + cfg.n_early_size], x], dim=1)
        return groups_to_audio(x)

    def infer(self, mel: Tensor, sigma: float = 1.0, generator: torch.Generator | None = None,
              lengths: Sequence[int] | Tensor | None = None, *, check_scale: bool = True) -> Tensor:
        """Sample audio [B, F * hop] for mel [B, n_mel, F]: z ~ N(0, sigma^2) (sigma = 0: the mean)."""
        check_sigma(sigma)
        check_mel_shape(mel, self.cfg)
        z = torch.randn(self.noise_shape(mel.shape[0], mel.shape[2]), generator=generator, device=mel.device,
                        dtype=torch.float32)
        return self.reverse(mel, z * sigma, lengths, check_scale=check_scale)

    def forward(self, mel: Tensor, sigma: float = 1.0) -> Tensor:
        """``infer(mel, sigma)``: calling the object synthesises."""
        return self.infer(mel, sigma)

    def for_inference(self) -> WaveGlowInference:
        """Already the inference form (so code written for ``WaveGlow`` works on either)."""
        return self

    def prepare_for_inference(self) -> WaveGlowInference:
        return self
