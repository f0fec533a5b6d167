"""The benchmark's baseline: the CRNN written the straightforward way, as one nn.Sequential.

The paper has no official code, so "official" here is what a reader would write first: padding, conv, ReLU,
a reshape, the GRU, flatten, dense, ReLU, output. ``from_ours`` copies our weights in, and the benchmark
checks both give the same logits before timing anything.
"""

from __future__ import annotations

import torch
from torch import nn

from crnn_kws.model import CRNN


class ToSequence(nn.Module):
    """[B, C, T', F'] conv maps -> [B, T', C * F'] recurrent input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 1, 3).flatten(2)


class GRUOutputs(nn.Module):
    """A GRU that returns only its output sequence, so it fits in nn.Sequential."""

    def __init__(self, gru: nn.GRU) -> None:
        super().__init__()
        self.gru = gru

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gru(x)[0]


class AddChannel(nn.Module):
    """[B, n_mels, T] features -> [B, 1, T, n_mels] images."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2).unsqueeze(1)


def from_ours(model: CRNN) -> nn.Sequential:
    """A Sequential CRNN holding copies of ``model``'s weights."""
    front, rec, head = model.front, model.recurrent.rnn, model.classifier
    gru = nn.GRU(rec.input_size, rec.hidden_size, num_layers=rec.num_layers, batch_first=True,
                 bidirectional=rec.bidirectional)
    conv = nn.Conv2d(1, front.conv.out_channels, front.conv.kernel_size, front.conv.stride)
    dense, out = nn.Linear(head.dense.in_features, head.dense.out_features), nn.Linear(head.out.in_features,
                                                                                        head.out.out_features)
    plain = nn.Sequential(AddChannel(), nn.ZeroPad2d(front.pad), conv, nn.ReLU(), ToSequence(), GRUOutputs(gru),
                          nn.Flatten(1), dense, nn.ReLU(), out)
    for mine, theirs in ((front.conv, conv), (rec, gru), (head.dense, dense), (head.out, out)):
        theirs.load_state_dict(mine.state_dict())
    return plain.to(next(model.parameters()).device)
