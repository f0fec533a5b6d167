"""Inference-only weights for WaveGlow, precomputed once so ``reverse`` does the least work per call.

Each change is exact algebra on the trained weights (only float rounding differs), and the reference path
in ``model.py`` stays the definition: tests compare the two.

* **Inverse 1x1 conv**: W^-1 is computed once in fp32 (glow.py does the same lazily) and applied as one
  batched matmul instead of a conv.
* **Skip branch folded into the end conv**: the coupling output is ``end(sum_i skip_i(acts_i))``, a linear map
  of each layer's gated activations, so ``end_W @ skip_W_i`` (2 * n_half x C) replaces the C x C skip conv
  of every layer and the end conv disappears; the residual half and this folded half share one matmul.
* **Layer biases folded into the conditioning conv**: the dilated convs' biases are added to the fused
  conditioning bias, so each layer saves an add over a [B, 2C, T'] tensor.
* **1x1 convs as matmuls**: start, conditioning, residual/skip and inverse W run as ``torch.matmul`` on
  [B, C, T'] tensors; on CPU (oneDNN) a kernel-1 ``conv1d`` measured about 2x slower than the same matmul
  for the 256 -> 512 residual/skip shape (bench/NOTES.md).
* **Gating without copies**: tanh and sigmoid are applied to views of one pre-activation tensor.

The folded weights are kept in fp32 and cast once per (device, dtype) on first use, so ``model.half()``
after preparation still gets an fp32-accurate inverse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from waveglow.model import WN, WaveGlow


@dataclass
class _FlowWeights:
    """One flow's folded inference weights (fp32 master copies)."""

    W_inverse: Tensor  # [c, c]
    start_w: Tensor  # [C, n_half]
    start_b: Tensor  # [C]
    cond_w: Tensor  # [2C * L, n_mel * n_group]
    cond_b: Tensor  # [2C * L], dilated-conv biases folded in
    in_w: list[Tensor]  # per layer [2C, C, k]
    dilations: list[int]
    res_out_w: list[Tensor]  # per layer [C + 2 * n_half, C] (last layer: [2 * n_half, C])
    res_out_b: list[Tensor]
    end_b: Tensor  # [2 * n_half], end bias plus folded skip biases

    def to(self, device: torch.device, dtype: torch.dtype) -> _FlowWeights:
        def cast(t: Tensor) -> Tensor:
            return t.to(device=device, dtype=dtype)

        return _FlowWeights(
            cast(self.W_inverse), cast(self.start_w), cast(self.start_b), cast(self.cond_w), cast(self.cond_b),
            [cast(w) for w in self.in_w], list(self.dilations), [cast(w) for w in self.res_out_w],
            [cast(b) for b in self.res_out_b], cast(self.end_b),
        )


def _fold_wn(wn: WN, W_inverse: Tensor) -> _FlowWeights:
    C, L = wn.n_channels, wn.n_layers
    end_w = wn.end.weight.detach().float()[:, :, 0]  # [2 * n_half, C]
    end_b = wn.end.bias.detach().float().clone()
    cond_b = wn.cond_layer.bias.detach().float().clone()
    in_w, dilations, res_out_w, res_out_b = [], [], [], []
    for i in range(L):
        layer = wn.in_layers[i]
        in_w.append(layer.weight.detach().float())
        dilations.append(layer.dilation[0])
        cond_b[2 * C * i : 2 * C * (i + 1)] += layer.bias.detach().float()
        rs_w = wn.res_skip_layers[i].weight.detach().float()[:, :, 0]  # [2C or C, C]
        rs_b = wn.res_skip_layers[i].bias.detach().float()
        skip_w, skip_b = (rs_w[C:], rs_b[C:]) if i < L - 1 else (rs_w, rs_b)
        end_b += end_w @ skip_b
        folded = end_w @ skip_w  # [2 * n_half, C]
        if i < L - 1:
            res_out_w.append(torch.cat([rs_w[:C], folded]))
            res_out_b.append(torch.cat([rs_b[:C], torch.zeros_like(folded[:, 0])]))
        else:
            res_out_w.append(folded)
            res_out_b.append(torch.zeros_like(folded[:, 0]))
    return _FlowWeights(
        W_inverse, wn.start.weight.detach().float()[:, :, 0], wn.start.bias.detach().float(),
        wn.cond_layer.weight.detach().float()[:, :, 0], cond_b, in_w, dilations, res_out_w, res_out_b, end_b,
    )


@dataclass
class FastInference:
    """Folded weights for every flow plus per-(device, dtype) casts of them."""

    flows: list[_FlowWeights]
    _casts: dict[tuple[torch.device, torch.dtype], list[_FlowWeights]] = field(default_factory=dict)

    @classmethod
    def build(cls, model: WaveGlow) -> FastInference:
        with torch.no_grad():
            flows = [_fold_wn(model.WN[k], model.convinv[k].inverse_matrix()) for k in range(model.cfg.n_flows)]
        return cls(flows)

    def weights_for(self, ref: Tensor) -> list[_FlowWeights]:
        key = (ref.device, ref.dtype)
        if key not in self._casts:
            self._casts[key] = [f.to(ref.device, ref.dtype) for f in self.flows]
        return self._casts[key]

    def reverse(self, model: WaveGlow, mel: Tensor, z: Tensor) -> Tensor:
        """Same contract as ``WaveGlow.reverse`` (already validated there)."""
        cfg = model.cfg
        with torch.no_grad():
            n_samples = mel.shape[2] * cfg.upsample_stride
            cond = model.upsample_mel(mel, n_samples)
            flows = self.weights_for(z)
            start = z.shape[1] - model.n_remaining_channels
            x = z[:, start:]
            for k in reversed(range(cfg.n_flows)):
                x = _reverse_flow(flows[k], x, cond)
                if model.is_early_exit(k):
                    start -= cfg.n_early_size
                    x = torch.cat([z[:, start : start + cfg.n_early_size], x], dim=1)
            B, g, n_groups = x.shape
            return x.transpose(1, 2).reshape(B, g * n_groups)


def _reverse_flow(w: _FlowWeights, x: Tensor, cond: Tensor) -> Tensor:
    """Inverse coupling then inverse 1x1 conv for one flow, with the folded weights."""
    n_half = x.shape[1] // 2
    xa, xb = x[:, :n_half], x[:, n_half:]
    C = w.start_w.shape[0]
    h = torch.matmul(w.start_w, xa) + w.start_b.unsqueeze(-1)  # [B, C, T']
    gates = torch.matmul(w.cond_w, cond)  # [B, 2C * L, T']
    gates += w.cond_b.unsqueeze(-1)
    out = None
    for i, (in_w, dilation) in enumerate(zip(w.in_w, w.dilations)):
        pre = F.conv1d(h, in_w, None, dilation=dilation, padding=dilation * (in_w.shape[-1] - 1) // 2)
        pre += gates[:, 2 * C * i : 2 * C * (i + 1)]
        acts = torch.tanh(pre[:, :C]) * torch.sigmoid(pre[:, C:])  # [B, C, T']
        res_out = torch.matmul(w.res_out_w[i], acts) + w.res_out_b[i].unsqueeze(-1)  # [B, C + 2 n_half, T']
        if res_out.shape[1] > 2 * n_half:
            h = h + res_out[:, :C]
            res_out = res_out[:, C:]
        out = res_out if out is None else out + res_out
    out = out + w.end_b.unsqueeze(-1)  # [B, 2 * n_half, T']
    b, log_s = out[:, :n_half], out[:, n_half:]
    x = torch.cat([xa, (xb - b) * torch.exp(-log_s)], dim=1)
    return torch.matmul(w.W_inverse, x)  # [B, c, T']
