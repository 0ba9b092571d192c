"""The networks, chosen by name from the training config."""

from __future__ import annotations

from torch import nn

from depth_node.training.networks.attention_unet import AttentionUNet
from depth_node.training.networks.densedepth import DenseDepth
from depth_node.training.networks.inception_resnet import EncDecIRv2
from depth_node.training.networks.mobilenet import FastDepth
from depth_node.training.networks.plain_encdec import PlainEncoderDecoder
from depth_node.training.networks.resnet_unet import ResNetUNet

ARCHS = (
    "fastdepth",
    "resnet_unet",
    "attention_unet",
    "encdec_irv2",
    "densedepth121",
    "densedepth169",
    "plain_encdec",
)


def build_network(
    arch: str, width_mult: float = 1.0, min_depth: float = 0.1, max_depth: float = 10.0, depth_mult: float = 1.0
) -> nn.Module:
    """A freshly initialised network.

    ``depth_mult`` scales the block counts of the networks that have a paper layout to shrink (Inception-ResNet-v2's
    10/20/10 blocks, DenseNet's layers per dense block); the others ignore it.

    Raises:
        ValueError: an unknown architecture name.
    """
    if arch == "fastdepth":
        return FastDepth(width_mult, min_depth, max_depth)
    if arch == "resnet_unet":
        return ResNetUNet(width_mult, min_depth, max_depth)
    if arch == "attention_unet":
        return AttentionUNet(width_mult, min_depth, max_depth)
    if arch == "encdec_irv2":
        return EncDecIRv2(width_mult, min_depth, max_depth, depth_mult)
    if arch in ("densedepth121", "densedepth169"):
        return DenseDepth(width_mult, min_depth, max_depth, depth_mult, variant=int(arch[-3:]))
    if arch == "plain_encdec":
        return PlainEncoderDecoder(width_mult, min_depth, max_depth)
    raise ValueError(f"unknown network {arch!r}; known: {', '.join(ARCHS)}")


__all__ = [
    "ARCHS",
    "AttentionUNet",
    "DenseDepth",
    "EncDecIRv2",
    "FastDepth",
    "PlainEncoderDecoder",
    "ResNetUNet",
    "build_network",
]
