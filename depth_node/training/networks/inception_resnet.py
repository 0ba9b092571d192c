"""Enc-Dec-IRv2: an Inception-ResNet-v2 encoder with multi-scale skips into an upsampling decoder.

Inception-ResNet-v2 (Szegedy et al., "Inception-v4, Inception-ResNet and the Impact of Residual Connections",
2016): a convolutional stem, 10 Inception-ResNet-A blocks at stride 8, reduction A, 20 Inception-ResNet-B
blocks at stride 16, reduction B, 10 Inception-ResNet-C blocks at stride 32 and a 1x1 convolution to 1536
channels. Each Inception-ResNet block adds its branch output, scaled by 0.17 / 0.10 / 0.20, to its input: the
paper found that unscaled residuals of this width make training die early. The stem here is the widely used
Mixed-5b variant with padded convolutions, so every stride divides the input exactly (the paper's unpadded stem
suits 299x299 classification, not a decoder that must map back to the input size).

The decoder follows the Enc-Dec-IRv2 depth network: the deepest features are projected with a 1x1 convolution,
then upsampled x2 four times, each time concatenated with the encoder's features at that stride (stem outputs at
strides 2 and 4, the A stage at 8, the B stage at 16) and fused by two 3x3 convolutions; a last x2 upsampling
returns to the input size. ``width_mult`` scales every channel count and ``depth_mult`` the block counts, so a
small variant trains on a CPU while the defaults are the paper's network.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from depth_node.training.networks.common import DepthHead, check_input, conv_bn_relu, scaled_channels
from depth_node.training.networks.resnet_unet import UpConcat

# Blocks per Inception-ResNet stage (A, B, C) in the paper.
IRV2_BLOCKS = (10, 20, 10)


def conv_kxl(cin: int, cout: int, kernel: tuple[int, int]) -> nn.Sequential:
    """A 1xn or nx1 convolution (the factorised 7x7 and 3x3 of the B and C blocks) with BN and ReLU."""
    pad = (kernel[0] // 2, kernel[1] // 2)
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, 1, pad, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ResidualInception(nn.Module):
    """Parallel branches, concatenated, projected back to ``channels`` by a 1x1 conv and added, scaled, to the input.

    Args:
        channels: Input and output channels.
        branches: The branches (each maps ``channels`` to some width).
        width: Sum of the branches' output widths.
        scale: Residual scaling (0.17 for A, 0.10 for B, 0.20 for C in the paper).
        relu: Apply ReLU after the sum (the very last C block of the paper does not).
    """

    def __init__(self, channels: int, branches: list[nn.Module], width: int, scale: float, relu: bool = True) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.project = nn.Conv2d(width, channels, 1)
        self.scale = scale
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x + scale * project(concat(branches(x)))."""
        out = x + self.scale * self.project(torch.cat([b(x) for b in self.branches], dim=1))
        return F.relu(out) if self.relu else out


def block_a(c: int, ch: float) -> ResidualInception:
    """Inception-ResNet-A (35x35 grid in the paper): 1x1 | 1x1-3x3 | 1x1-3x3-3x3."""
    w32, w48, w64 = (scaled_channels(n, ch) for n in (32, 48, 64))
    branches: list[nn.Module] = [
        conv_bn_relu(c, w32, 1),
        nn.Sequential(conv_bn_relu(c, w32, 1), conv_bn_relu(w32, w32)),
        nn.Sequential(conv_bn_relu(c, w32, 1), conv_bn_relu(w32, w48), conv_bn_relu(w48, w64)),
    ]
    return ResidualInception(c, branches, 2 * w32 + w64, 0.17)


def block_b(c: int, ch: float) -> ResidualInception:
    """Inception-ResNet-B (17x17 grid): 1x1 | 1x1-1x7-7x1."""
    w128, w160, w192 = (scaled_channels(n, ch) for n in (128, 160, 192))
    branches: list[nn.Module] = [
        conv_bn_relu(c, w192, 1),
        nn.Sequential(conv_bn_relu(c, w128, 1), conv_kxl(w128, w160, (1, 7)), conv_kxl(w160, w192, (7, 1))),
    ]
    return ResidualInception(c, branches, 2 * w192, 0.10)


def block_c(c: int, ch: float, relu: bool = True) -> ResidualInception:
    """Inception-ResNet-C (8x8 grid): 1x1 | 1x1-1x3-3x1."""
    w192, w224, w256 = (scaled_channels(n, ch) for n in (192, 224, 256))
    branches: list[nn.Module] = [
        conv_bn_relu(c, w192, 1),
        nn.Sequential(conv_bn_relu(c, w192, 1), conv_kxl(w192, w224, (1, 3)), conv_kxl(w224, w256, (3, 1))),
    ]
    return ResidualInception(c, branches, w192 + w256, 0.20, relu)


class Concat(nn.Module):
    """Run branches on the same input and concatenate them (the stem's Mixed-5b and the two reductions)."""

    def __init__(self, branches: list[nn.Module]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Concatenation along channels."""
        return torch.cat([b(x) for b in self.branches], dim=1)


class InceptionResNetV2Encoder(nn.Module):
    """Inception-ResNet-v2 features at strides 2, 4, 8, 16 and 32.

    Args:
        width_mult: Scales every channel count (1.0: the paper's 320 / 1088 / 2080 / 1536).
        blocks: Inception-ResNet-A, -B and -C blocks (the paper: 10, 20, 10).
    """

    def __init__(self, width_mult: float = 1.0, blocks: tuple[int, int, int] = IRV2_BLOCKS) -> None:
        super().__init__()
        ch = width_mult

        def s(n: int) -> int:
            return scaled_channels(n, ch)

        self.stem2 = nn.Sequential(conv_bn_relu(3, s(32), 3, 2), conv_bn_relu(s(32), s(32)), conv_bn_relu(s(32), s(64)))
        self.stem4 = nn.Sequential(nn.MaxPool2d(3, 2, 1), conv_bn_relu(s(64), s(80), 1), conv_bn_relu(s(80), s(192)))
        mixed_5b = Concat(
            [
                conv_bn_relu(s(192), s(96), 1),
                nn.Sequential(conv_bn_relu(s(192), s(48), 1), conv_bn_relu(s(48), s(64), 5)),
                nn.Sequential(conv_bn_relu(s(192), s(64), 1), conv_bn_relu(s(64), s(96)), conv_bn_relu(s(96), s(96))),
                nn.Sequential(nn.AvgPool2d(3, 1, 1, count_include_pad=False), conv_bn_relu(s(192), s(64), 1)),
            ]
        )
        ca = s(96) + s(64) + s(96) + s(64)  # 320 at width 1
        self.stage8 = nn.Sequential(nn.MaxPool2d(3, 2, 1), mixed_5b, *[block_a(ca, ch) for _ in range(blocks[0])])
        reduction_a = Concat(
            [
                conv_bn_relu(ca, s(384), 3, 2),
                nn.Sequential(
                    conv_bn_relu(ca, s(256), 1), conv_bn_relu(s(256), s(256)), conv_bn_relu(s(256), s(384), 3, 2)
                ),
                nn.MaxPool2d(3, 2, 1),
            ]
        )
        cb = ca + 2 * s(384)  # 1088
        self.stage16 = nn.Sequential(reduction_a, *[block_b(cb, ch) for _ in range(blocks[1])])
        reduction_b = Concat(
            [
                nn.Sequential(conv_bn_relu(cb, s(256), 1), conv_bn_relu(s(256), s(384), 3, 2)),
                nn.Sequential(conv_bn_relu(cb, s(256), 1), conv_bn_relu(s(256), s(288), 3, 2)),
                nn.Sequential(
                    conv_bn_relu(cb, s(256), 1), conv_bn_relu(s(256), s(288)), conv_bn_relu(s(288), s(320), 3, 2)
                ),
                nn.MaxPool2d(3, 2, 1),
            ]
        )
        cc = cb + s(384) + s(288) + s(320)  # 2080
        c_blocks = [block_c(cc, ch, relu=i < blocks[2] - 1) for i in range(blocks[2])]
        self.stage32 = nn.Sequential(reduction_b, *c_blocks, conv_bn_relu(cc, s(1536), 1))
        self.channels = [s(64), s(192), ca, cb, s(1536)]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps at strides 2, 4, 8, 16, 32."""
        feats = []
        for stage in (self.stem2, self.stem4, self.stage8, self.stage16, self.stage32):
            x = stage(x)
            feats.append(x)
        return feats


class EncDecIRv2(nn.Module):
    """Inception-ResNet-v2 encoder + concatenating upsampling decoder + log-scale depth head.

    Args:
        width_mult: Channel multiplier of encoder and decoder.
        min_depth: Smallest output depth, metres.
        max_depth: Largest output depth, metres.
        depth_mult: Multiplier of the A/B/C block counts (10/20/10 at 1.0; at least one block each).
    """

    def __init__(
        self, width_mult: float = 1.0, min_depth: float = 0.1, max_depth: float = 10.0, depth_mult: float = 1.0
    ) -> None:
        super().__init__()
        a, b, c = (max(1, round(n * depth_mult)) for n in IRV2_BLOCKS)
        self.encoder = InceptionResNetV2Encoder(width_mult, (a, b, c))
        c2, c4, c8, c16, c32 = self.encoder.channels
        d = [scaled_channels(n, width_mult) for n in (512, 256, 128, 64, 32)]
        self.bottleneck = conv_bn_relu(c32, d[0], 1)
        self.up = nn.ModuleList(
            [UpConcat(d[0], c16, d[1]), UpConcat(d[1], c8, d[2]), UpConcat(d[2], c4, d[3]), UpConcat(d[3], c2, d[4])]
        )
        self.final = conv_bn_relu(d[4], d[4])
        self.head = DepthHead(d[4], min_depth, max_depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Depth in metres (N, 1, H, W); H and W multiples of 32."""
        check_input(x, 32)
        f2, f4, f8, f16, f32 = self.encoder(x)
        y = self.bottleneck(f32)
        for up, skip in zip(self.up, (f16, f8, f4, f2), strict=True):
            y = up(y, skip)
        y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
        return self.head(self.final(y))
