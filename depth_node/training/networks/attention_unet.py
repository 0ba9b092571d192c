"""U-Net with attention gates on the skips (Oktay et al., "Attention U-Net", 2018).

Each skip is multiplied by a per-pixel weight in [0, 1] computed from the skip and the coarser decoder signal,
so the decoder can suppress encoder texture that is not depth structure (tile grout, wood grain).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from depth_node.training.networks.common import DepthHead, check_input, conv_bn_relu


def double_conv(cin: int, cout: int) -> nn.Sequential:
    """The U-Net unit: two 3x3 conv-BN-ReLU."""
    return nn.Sequential(conv_bn_relu(cin, cout), conv_bn_relu(cout, cout))


class AttentionGate(nn.Module):
    """Additive attention: alpha = sigmoid(psi(relu(W_x x + W_g g))), output x * alpha."""

    def __init__(self, c_skip: int, c_gate: int, c_inter: int) -> None:
        super().__init__()
        self.w_x = nn.Conv2d(c_skip, c_inter, 1, bias=False)
        self.w_g = nn.Conv2d(c_gate, c_inter, 1)
        self.psi = nn.Conv2d(c_inter, 1, 1)

    def forward(self, skip: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        """The gated skip (the gate signal is already at the skip's resolution)."""
        alpha = torch.sigmoid(self.psi(F.relu(self.w_x(skip) + self.w_g(gate))))
        return skip * alpha


class AttentionUNet(nn.Module):
    """Five-level U-Net (strides 1..16) with attention-gated skips and the log-scale depth head.

    Args:
        width_mult: Scales the base width (32 at 1.0).
        min_depth: Smallest output depth, metres.
        max_depth: Largest output depth, metres.
    """

    def __init__(self, width_mult: float = 1.0, min_depth: float = 0.1, max_depth: float = 10.0) -> None:
        super().__init__()
        base = max(8, int(32 * width_mult))
        widths = [base, base * 2, base * 4, base * 8, base * 16]
        self.down = nn.ModuleList()
        cin = 3
        for w in widths:
            self.down.append(double_conv(cin, w))
            cin = w
        self.gates = nn.ModuleList()
        self.up = nn.ModuleList()
        for i in range(len(widths) - 1, 0, -1):
            coarse, fine = widths[i], widths[i - 1]
            self.gates.append(AttentionGate(fine, coarse, max(fine // 2, 4)))
            self.up.append(double_conv(coarse + fine, fine))
        self.head = DepthHead(base, min_depth, max_depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Depth in metres (N, 1, H, W); H and W multiples of 16 (checked as 32 like the others)."""
        check_input(x, 32)
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        y = skips.pop()
        for gate, up in zip(self.gates, self.up, strict=True):
            skip = skips.pop()
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = up(torch.cat([y, gate(skip, y)], dim=1))
        return self.head(y)
