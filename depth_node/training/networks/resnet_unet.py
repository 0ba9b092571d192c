"""ResNet-UNet: a ResNet (BasicBlock) encoder and a U-Net decoder that concatenates skips.

Concatenation lets the decoder choose what to take from each encoder level (more parameters and memory than
FastDepth's addition, usually sharper edges). The encoder is defined here and trained from scratch or from a
local checkpoint; ``layers=(2, 2, 2, 2)`` is ResNet-18's layout.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from depth_node.training.networks.common import DepthHead, check_input, conv_bn_relu


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity (or 1x1 projected) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = conv_bn_relu(cin, cout, 3, stride)
        self.conv2 = nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.short: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual block."""
        return F.relu(self.conv2(self.conv1(x)) + self.short(x))


class ResNetEncoder(nn.Module):
    """Stem (stride 2) + max-pool + four stages; features at strides 2, 4, 8, 16, 32."""

    def __init__(self, base: int = 64, layers: tuple[int, int, int, int] = (2, 2, 2, 2)) -> None:
        super().__init__()
        self.stem = conv_bn_relu(3, base, 7, 2)
        widths = [base, base * 2, base * 4, base * 8]
        stages = []
        cin = base
        for i, (w, n) in enumerate(zip(widths, layers, strict=True)):
            blocks = [BasicBlock(cin if j == 0 else w, w, (1 if i == 0 else 2) if j == 0 else 1) for j in range(n)]
            stages.append(nn.Sequential(*blocks))
            cin = w
        self.stages = nn.ModuleList(stages)
        self.channels = [base, *widths]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps at strides 2, 4, 8, 16, 32."""
        x = self.stem(x)
        feats = [x]
        x = F.max_pool2d(x, 3, 2, 1)
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


class UpConcat(nn.Module):
    """Bilinear x2 upsampling, concatenation with the skip, two 3x3 convolutions."""

    def __init__(self, cin: int, cskip: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(conv_bn_relu(cin + cskip, cout), conv_bn_relu(cout, cout))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """Upsample to the skip's size and fuse."""
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(torch.cat([x, skip], dim=1))


class ResNetUNet(nn.Module):
    """ResNet encoder + concatenating U-Net decoder + log-scale depth head.

    Args:
        width_mult: Scales the encoder base width (64 at 1.0).
        min_depth: Smallest output depth, metres.
        max_depth: Largest output depth, metres.
        layers: Blocks per stage.
    """

    def __init__(
        self,
        width_mult: float = 1.0,
        min_depth: float = 0.1,
        max_depth: float = 10.0,
        layers: tuple[int, int, int, int] = (2, 2, 2, 2),
    ) -> None:
        super().__init__()
        base = max(8, int(64 * width_mult))
        self.encoder = ResNetEncoder(base, layers)
        c2, c4, c8, c16, c32 = self.encoder.channels
        self.up = nn.ModuleList(
            [UpConcat(c32, c16, c16), UpConcat(c16, c8, c8), UpConcat(c8, c4, c4), UpConcat(c4, c2, c2)]
        )
        self.final = conv_bn_relu(c2, c2)
        self.head = DepthHead(c2, min_depth, max_depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Depth in metres (N, 1, H, W); H and W multiples of 32."""
        check_input(x, 32)
        f2, f4, f8, f16, f32 = self.encoder(x)
        y = f32
        for up, skip in zip(self.up, (f16, f8, f4, f2), strict=True):
            y = up(y, skip)
        y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
        return self.head(self.final(y))
