"""Every network: output shape, depth range, refusal of unusable input sizes."""

from __future__ import annotations

import pytest
import torch

from depth_node.training.networks import ARCHS, build_network


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize(("height", "width"), [(32, 32), (64, 96), (96, 64)])
def test_output_shape_and_range(arch: str, height: int, width: int) -> None:
    torch.manual_seed(0)
    net = build_network(arch, width_mult=0.25, min_depth=0.2, max_depth=8.0).eval()
    with torch.no_grad():
        out = net(torch.randn(2, 3, height, width))
    assert out.shape == (2, 1, height, width)
    assert float(out.min()) >= 0.2 - 1e-5 and float(out.max()) <= 8.0 + 1e-4


@pytest.mark.parametrize("arch", ARCHS)
def test_bad_input_size_is_refused(arch: str) -> None:
    net = build_network(arch, width_mult=0.25)
    with pytest.raises(ValueError, match=r"multiples of 32, got \(1, 3, 40, 32\)"):
        net(torch.zeros(1, 3, 40, 32))


def test_unknown_network_named() -> None:
    with pytest.raises(ValueError, match="unknown network 'vit'"):
        build_network("vit")


def test_default_fastdepth_is_small() -> None:
    params = sum(p.numel() for p in build_network("fastdepth").parameters())
    assert params * 4 < 10 * 1024 * 1024  # the shipped ONNX must stay under 10 MB
