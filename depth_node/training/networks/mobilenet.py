"""FastDepth-style network: a MobileNetV2 encoder and an NNConv5 decoder with additive skips.

FastDepth (Wofk et al., ICRA 2019) pairs a MobileNet encoder with a decoder of five depthwise-separable 5x5
convolutions, each followed by nearest-neighbour upsampling, and adds (not concatenates) encoder features at
matching resolutions: the cheapest decoder that still recovers edges. This one uses MobileNetV2 blocks and stops
the encoder at the 320-channel stage (the 1280-channel 1x1 conv costs much and adds little to dense prediction).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from depth_node.training.networks.common import DepthHead, check_input, conv_bn_relu

# (expansion t, channels c, repeats n, stride s) of MobileNetV2 (Sandler et al., 2018), minus the last 1x1 conv.
MOBILENET_V2 = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def _round(channels: float, divisor: int = 8) -> int:
    """Channel counts rounded to a multiple of 8, as MobileNet does for efficient kernels."""
    return max(divisor, int(channels + divisor / 2) // divisor * divisor)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, 1x1 linear projection, residual when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(conv_bn_relu(cin, hidden, 1))
        layers += [
            conv_bn_relu(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block."""
        out = self.block(x)
        return x + out if self.residual else out


class MobileNetV2Encoder(nn.Module):
    """MobileNetV2 features at strides 2, 4, 8, 16 and 32 (the skips the decoder adds back)."""

    def __init__(self, width_mult: float = 1.0) -> None:
        super().__init__()
        stem = _round(32 * width_mult)
        self.stem = conv_bn_relu(3, stem, 3, 2)
        stages: list[nn.Module] = []
        self.channels: list[int] = []
        cin = stem
        for t, c, n, s in MOBILENET_V2:
            cout = _round(c * width_mult)
            blocks = [InvertedResidual(cin if i == 0 else cout, cout, s if i == 0 else 1, t) for i in range(n)]
            stages.append(nn.Sequential(*blocks))
            self.channels.append(cout)
            cin = cout
        self.stages = nn.ModuleList(stages)
        # Stage index whose output is the last one at each stride 2, 4, 8, 16, 32.
        self.taps = (0, 1, 2, 4, 6)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps at strides 2, 4, 8, 16, 32."""
        feats = []
        x = self.stem(x)
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.taps:
                feats.append(x)
        return feats

    def tap_channels(self) -> list[int]:
        """Channels of the feature maps :meth:`forward` returns."""
        return [self.channels[i] for i in self.taps]


class NNConv5Block(nn.Module):
    """Depthwise 5x5 + pointwise conv, then nearest-neighbour x2 upsampling (FastDepth's NNConv5 unit)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.dw = conv_bn_relu(cin, cin, 5, groups=cin)
        self.pw = conv_bn_relu(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Refine, change channels, upsample."""
        return F.interpolate(self.pw(self.dw(x)), scale_factor=2.0, mode="nearest")


class FastDepth(nn.Module):
    """MobileNetV2 encoder + NNConv5 decoder with additive skips + log-scale depth head.

    Args:
        width_mult: MobileNetV2 width multiplier (0.5 halves channels, about 3x fewer FLOPs).
        min_depth: Smallest depth the head can output, metres.
        max_depth: Largest depth the head can output, metres.
    """

    def __init__(self, width_mult: float = 1.0, min_depth: float = 0.1, max_depth: float = 10.0) -> None:
        super().__init__()
        self.encoder = MobileNetV2Encoder(width_mult)
        c2, c4, c8, c16, c32 = self.encoder.tap_channels()
        # Each decoder block ends at the channel count of the skip it is added to.
        self.decoder = nn.ModuleList(
            [NNConv5Block(c32, c16), NNConv5Block(c16, c8), NNConv5Block(c8, c4), NNConv5Block(c4, c2)]
        )
        self.last = NNConv5Block(c2, c2)
        self.head = DepthHead(c2, min_depth, max_depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Depth in metres (N, 1, H, W) of a normalised RGB batch (N, 3, H, W), H and W multiples of 32."""
        check_input(x, 32)
        f2, f4, f8, f16, f32 = self.encoder(x)
        y = f32
        for block, skip in zip(self.decoder, (f16, f8, f4, f2), strict=True):
            y = block(y) + skip
        return self.head(self.last(y))
