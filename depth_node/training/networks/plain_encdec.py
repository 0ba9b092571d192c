"""The plain encoder-decoder: ResNet-UNet's encoder and decoder widths, with the skips taken away.

The baseline that shows what skips buy: everything the decoder knows about edges and thin objects has to pass
through the stride-32 bottleneck (5x4 cells at 160x128). Compared at the same ``width_mult`` with
``resnet_unet``, the only difference is the concatenation of encoder features in each decoder step (and the
parameters of the convolutions that take them).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from depth_node.training.networks.common import DepthHead, check_input, conv_bn_relu
from depth_node.training.networks.resnet_unet import ResNetEncoder


class UpBlock(nn.Module):
    """Bilinear x2 upsampling and two 3x3 convolutions, no skip."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(conv_bn_relu(cin, cout), conv_bn_relu(cout, cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upsample and refine."""
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False))


class PlainEncoderDecoder(nn.Module):
    """ResNet encoder -> stride-32 bottleneck -> four upsampling blocks, x2, one conv -> log-scale depth head.

    Args:
        width_mult: Scales the encoder base width (64 at 1.0), as in ``resnet_unet``.
        min_depth: Smallest output depth, metres.
        max_depth: Largest output depth, metres.
        layers: Residual blocks per encoder stage (ResNet-18: 2, 2, 2, 2).
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
        self.decoder = nn.Sequential(UpBlock(c32, c16), UpBlock(c16, c8), UpBlock(c8, c4), UpBlock(c4, c2))
        self.final = conv_bn_relu(c2, c2)
        self.head = DepthHead(c2, min_depth, max_depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Depth in metres (N, 1, H, W); H and W multiples of 32."""
        check_input(x, 32)
        y = self.decoder(self.encoder(x)[-1])
        y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
        return self.head(self.final(y))
