"""DenseDepth: a DenseNet-121 / -169 encoder and a decoder of bilinear upsampling, concatenated skips, 2x 3x3 conv.

DenseNet (Huang et al., CVPR 2017): every layer of a dense block receives the concatenation of all earlier
layers' outputs (BN-ReLU-1x1 to 4k channels, BN-ReLU-3x3 to k, growth rate k = 32), and transitions between
blocks halve channels and resolution. DenseNet-121 has 6/12/24/16 layers per block, DenseNet-169 6/12/32/32.
DenseDepth (Alhashim and Wonka, 2018) puts on it a decoder that starts with a 1x1 convolution of the last
features, then upsamples x2 bilinearly four times, concatenating the encoder's features at that stride (the
stem's convolution at stride 2, and the pooled outputs at strides 4, 8 and 16) and applying two 3x3 convolutions
with LeakyReLU(0.2) each time, halving the channels at every step. DenseDepth predicts at half resolution; here
a last bilinear x2 brings the output to the input size like the other networks of this package.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from depth_node.training.networks.common import DepthHead, check_input, scaled_channels

DENSENET_BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32)}


def bn_relu_conv(cin: int, cout: int, kernel: int) -> nn.Sequential:
    """DenseNet's pre-activation unit."""
    return nn.Sequential(
        nn.BatchNorm2d(cin), nn.ReLU(inplace=True), nn.Conv2d(cin, cout, kernel, 1, kernel // 2, bias=False)
    )


class DenseLayer(nn.Module):
    """Bottleneck layer: BN-ReLU-1x1 (4k) then BN-ReLU-3x3 (k); its output is concatenated to its input."""

    def __init__(self, cin: int, growth: int) -> None:
        super().__init__()
        self.body = nn.Sequential(bn_relu_conv(cin, 4 * growth, 1), bn_relu_conv(4 * growth, growth, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The input with ``growth`` new channels appended."""
        return torch.cat([x, self.body(x)], dim=1)


def dense_block(cin: int, layers: int, growth: int) -> nn.Sequential:
    """``layers`` dense layers; output has ``cin + layers * growth`` channels."""
    return nn.Sequential(*[DenseLayer(cin + i * growth, growth) for i in range(layers)])


class DenseNetEncoder(nn.Module):
    """DenseNet features at strides 2 (stem conv), 4 (pool), 8, 16 (transition pools) and 32 (final, BN-ReLU).

    Args:
        width_mult: Scales the growth rate (32) and the stem width (64).
        blocks: Dense layers per block.
    """

    def __init__(self, width_mult: float = 1.0, blocks: tuple[int, int, int, int] = DENSENET_BLOCKS[121]) -> None:
        super().__init__()
        growth = scaled_channels(32, width_mult)
        c = 2 * growth
        self.stem = nn.Sequential(nn.Conv2d(3, c, 7, 2, 3, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.channels = [c, c]
        self.blocks = nn.ModuleList()
        self.transitions = nn.ModuleList()
        for i, n in enumerate(blocks):
            self.blocks.append(dense_block(c, n, growth))
            c += n * growth
            if i < len(blocks) - 1:
                self.transitions.append(nn.Sequential(bn_relu_conv(c, c // 2, 1), nn.AvgPool2d(2)))
                c //= 2
                if i < 2:  # the transitions' outputs at strides 8 and 16 are skips
                    self.channels.append(c)
        self.channels.append(c)
        self.final = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps at strides 2, 4, 8, 16, 32."""
        x = self.stem(x)
        feats = [x]
        x = F.max_pool2d(x, 3, 2, 1)
        feats.append(x)
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i < len(self.transitions):
                x = self.transitions[i](x)
                if i < 2:
                    feats.append(x)
        feats.append(self.final(x))
        return feats


class UpSample(nn.Module):
    """DenseDepth's decoder unit: bilinear up to the skip's size, concatenate, 3x3 conv + LeakyReLU, twice."""

    def __init__(self, cin: int, cskip: int, cout: int) -> None:
        super().__init__()
        self.conv_a = nn.Conv2d(cin + cskip, cout, 3, 1, 1)
        self.conv_b = nn.Conv2d(cout, cout, 3, 1, 1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """Upsample, fuse with the skip."""
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=True)
        x = F.leaky_relu(self.conv_a(torch.cat([x, skip], dim=1)), 0.2)
        return F.leaky_relu(self.conv_b(x), 0.2)


class DenseDepth(nn.Module):
    """DenseNet encoder + DenseDepth decoder + log-scale depth head.

    Args:
        width_mult: Scales growth rate and stem (1.0: DenseNet's k = 32).
        min_depth: Smallest output depth, metres.
        max_depth: Largest output depth, metres.
        depth_mult: Multiplier of the layers per dense block (at least one each).
        variant: 121 or 169.
        decoder_width: Decoder channels after the 1x1 convolution, as a share of the encoder's last channels
            (DenseDepth used 1.0 with DenseNet-169; 0.5 halves the decoder's cost).
    """

    def __init__(
        self,
        width_mult: float = 1.0,
        min_depth: float = 0.1,
        max_depth: float = 10.0,
        depth_mult: float = 1.0,
        variant: int = 121,
        decoder_width: float = 0.5,
    ) -> None:
        super().__init__()
        if variant not in DENSENET_BLOCKS:
            raise ValueError(f"DenseNet variant must be one of {sorted(DENSENET_BLOCKS)}, got {variant}")
        blocks = tuple(max(1, round(n * depth_mult)) for n in DENSENET_BLOCKS[variant])
        self.encoder = DenseNetEncoder(width_mult, blocks)  # type: ignore[arg-type]
        c2, c4, c8, c16, c32 = self.encoder.channels
        d = max(16, int(c32 * decoder_width))
        self.conv2 = nn.Conv2d(c32, d, 1)
        widths = [max(4, d // k) for k in (2, 4, 8, 16)]
        self.up = nn.ModuleList(
            [
                UpSample(d, c16, widths[0]),
                UpSample(widths[0], c8, widths[1]),
                UpSample(widths[1], c4, widths[2]),
                UpSample(widths[2], c2, widths[3]),
            ]
        )
        self.conv3 = nn.Conv2d(widths[3], widths[3], 3, 1, 1)
        self.head = DepthHead(widths[3], min_depth, max_depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Depth in metres (N, 1, H, W); H and W multiples of 32."""
        check_input(x, 32)
        f2, f4, f8, f16, f32 = self.encoder(x)
        y = self.conv2(f32)
        for up, skip in zip(self.up, (f16, f8, f4, f2), strict=True):
            y = up(y, skip)
        y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=True)
        return self.head(F.leaky_relu(self.conv3(y), 0.2))
