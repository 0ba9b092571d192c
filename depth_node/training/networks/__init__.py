"""The networks, chosen by name from the training config."""

from __future__ import annotations

from torch import nn

from depth_node.training.networks.attention_unet import AttentionUNet
from depth_node.training.networks.mobilenet import FastDepth
from depth_node.training.networks.resnet_unet import ResNetUNet

ARCHS = ("fastdepth", "resnet_unet", "attention_unet")


def build_network(arch: str, width_mult: float = 1.0, min_depth: float = 0.1, max_depth: float = 10.0) -> nn.Module:
    """A freshly initialised network.

    Raises:
        ValueError: an unknown architecture name.
    """
    if arch == "fastdepth":
        return FastDepth(width_mult, min_depth, max_depth)
    if arch == "resnet_unet":
        return ResNetUNet(width_mult, min_depth, max_depth)
    if arch == "attention_unet":
        return AttentionUNet(width_mult, min_depth, max_depth)
    raise ValueError(f"unknown network {arch!r}; known: {', '.join(ARCHS)}")


__all__ = ["ARCHS", "AttentionUNet", "FastDepth", "ResNetUNet", "build_network"]
