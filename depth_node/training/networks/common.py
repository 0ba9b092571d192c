"""Building blocks shared by the networks, and the depth head every network ends with."""

from __future__ import annotations

import math

import torch
from torch import nn


def conv_bn_relu(cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """Convolution, batch norm and ReLU: the unit every encoder and decoder here is made of."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class DepthHead(nn.Module):
    """1x1 convolution to one channel, then a sigmoid mapped to depth in [min_depth, max_depth] on a log scale.

    Bounding the output keeps early training stable (no negative or exploding depth), and a log scale gives
    near and far pixels the same relative resolution, which is what abs_rel and delta1 measure.
    """

    def __init__(self, cin: int, min_depth: float, max_depth: float) -> None:
        super().__init__()
        if not 0.0 < min_depth < max_depth:
            raise ValueError(f"depth head needs 0 < min_depth < max_depth, got {min_depth}, {max_depth}")
        self.conv = nn.Conv2d(cin, 1, 1)
        self.log_min = math.log(min_depth)
        self.log_range = math.log(max_depth) - math.log(min_depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Depth in metres, shape (N, 1, H, W)."""
        return torch.exp(self.log_min + self.log_range * torch.sigmoid(self.conv(x)))


def check_input(x: torch.Tensor, multiple: int) -> None:
    """Refuse inputs whose size the encoder-decoder cannot map back to the same size."""
    h, w = x.shape[-2:]
    if x.dim() != 4 or x.shape[1] != 3 or h % multiple or w % multiple:
        raise ValueError(f"expected an (N, 3, H, W) input with H and W multiples of {multiple}, got {tuple(x.shape)}")


def scaled_channels(channels: int, mult: float, divisor: int = 4) -> int:
    """``channels * mult`` rounded to a multiple of ``divisor`` (at least ``divisor``): the width multiplier rule.

    Exact at ``mult == 1`` for the papers' channel counts, and never zero for the tiny widths tests use.
    """
    return max(divisor, round(channels * mult / divisor) * divisor)
