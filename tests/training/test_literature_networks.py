"""The literature's networks: Enc-Dec-IRv2, DenseDepth (DenseNet-121/-169) and the plain encoder-decoder.

Shapes at two input sizes, the paper layouts at the default multipliers, two training steps from scratch and from
a local checkpoint, and ONNX export parity, each at tiny widths so that a test takes a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from depth_node.training.checkpoint import load_checkpoint
from depth_node.training.config import load_config
from depth_node.training.export import export_onnx
from depth_node.training.networks import ARCHS, build_network
from depth_node.training.networks.densedepth import DenseLayer
from depth_node.training.networks.inception_resnet import ResidualInception
from depth_node.training.train import train

# (arch, width_mult, depth_mult): the smallest variants that still have every stage.
TINY = [
    ("encdec_irv2", 0.1, 0.1),
    ("densedepth121", 0.25, 0.2),
    ("densedepth169", 0.25, 0.1),
    ("plain_encdec", 0.25, 1.0),
]


def test_config_offers_every_network(tmp_path: Path) -> None:
    for arch in ARCHS:
        assert load_config(tiny_config(tmp_path, arch, 0.25, 1.0)).model.arch == arch


@pytest.mark.parametrize(("arch", "width", "depth"), TINY)
@pytest.mark.parametrize(("height", "in_width"), [(64, 96), (128, 160)])
def test_shapes_at_two_sizes(arch: str, width: float, depth: float, height: int, in_width: int) -> None:
    torch.manual_seed(0)
    net = build_network(arch, width, 0.1, 10.0, depth).eval()
    with torch.no_grad():
        out = net(torch.randn(2, 3, height, in_width))
    assert out.shape == (2, 1, height, in_width)
    assert torch.isfinite(out).all() and float(out.min()) >= 0.1 - 1e-5 and float(out.max()) <= 10.0 + 1e-4
    feats = net.encoder(torch.randn(1, 3, height, in_width))  # type: ignore[operator]
    assert [f.shape[-2:] for f in feats] == [(height // s, in_width // s) for s in (2, 4, 8, 16, 32)]


def test_plain_encdec_uses_only_the_bottleneck() -> None:
    """The decoder receives nothing but the encoder's stride-32 map (no skip enters any decoder block)."""
    net = build_network("plain_encdec", 0.25).eval()
    seen: list[tuple[int, ...]] = []
    for block in net.decoder:  # type: ignore[union-attr]
        block.register_forward_hook(lambda _m, inp, _o: seen.append(tuple(inp[0].shape[1:])))
    with torch.no_grad():
        net(torch.randn(1, 3, 64, 64))
    c = net.encoder.channels  # type: ignore[union-attr]
    assert seen == [(c[4], 2, 2), (c[3], 4, 4), (c[2], 8, 8), (c[1], 16, 16)]  # each block: the previous one only
    skips = build_network("resnet_unet", 0.25)
    assert sum(p.numel() for p in net.parameters()) < sum(p.numel() for p in skips.parameters())


def test_paper_layouts_at_default_multipliers() -> None:
    irv2 = build_network("encdec_irv2")
    blocks = [m for m in irv2.modules() if isinstance(m, ResidualInception)]
    assert [b.scale for b in blocks] == [0.17] * 10 + [0.10] * 20 + [0.20] * 10
    assert not blocks[-1].relu and all(b.relu for b in blocks[:-1])  # the paper's last block has no ReLU
    assert irv2.encoder.channels[2:] == [320, 1088, 1536]  # type: ignore[index]
    for arch, layers, final in (("densedepth121", 58, 1024), ("densedepth169", 82, 1664)):
        net = build_network(arch)
        assert sum(isinstance(m, DenseLayer) for m in net.modules()) == layers
        assert net.encoder.channels[-1] == final  # type: ignore[index]
    small = build_network("encdec_irv2", 0.25, depth_mult=0.2)
    assert sum(isinstance(m, ResidualInception) for m in small.modules()) == 2 + 4 + 2


def tiny_config(tmp_path: Path, arch: str, width: float, depth: float, **model: object) -> Path:
    cfg = {
        "seed": 1,
        "out_dir": str(tmp_path / arch),
        "device": "cpu",
        "data": {"train_count": 4, "val_count": 2, "camera_width": 32, "camera_height": 24, "cache_dir": ""},
        "model": {"arch": arch, "width_mult": width, "depth_mult": depth, "input_width": 64, "input_height": 32,
                  **model},
        "optim": {"epochs": 1, "steps_per_epoch": 2, "batch_size": 2, "threads": 1},
    }  # fmt: skip
    path = tmp_path / f"{arch}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize(("arch", "width", "depth"), TINY)
def test_two_steps_then_export_parity(tmp_path: Path, arch: str, width: float, depth: float) -> None:
    result = train(load_config(tiny_config(tmp_path, arch, width, depth)), log=lambda _: None)
    state = load_checkpoint(result["last"])
    assert state["config"]["model"]["depth_mult"] == depth
    assert torch.isfinite(torch.tensor(result["metrics"]["train_loss"]))
    fresh = build_network(arch, width, 0.1, 10.0, depth).state_dict()
    changed = [k for k, v in state["model"].items() if v.dtype.is_floating_point and not torch.equal(v, fresh[k])]
    assert changed  # the two optimiser steps moved the weights (and the BN statistics)
    out = export_onnx(result["last"], tmp_path / f"{arch}.onnx")
    assert out.path.exists() and out.max_abs_diff_m < 1e-3
    assert out.spec.input_width == 64 and out.spec.input_height == 32


def test_training_starts_from_a_local_checkpoint(tmp_path: Path) -> None:
    arch, width, depth = TINY[1]
    first = train(load_config(tiny_config(tmp_path, arch, width, depth)), log=lambda _: None)
    logged: list[str] = []
    (tmp_path / "b").mkdir()
    again = load_config(tiny_config(tmp_path / "b", arch, width, depth, init_checkpoint=first["last"]))
    train(again, log=logged.append)
    total = len(build_network(arch, width, 0.1, 10.0, depth).state_dict())
    assert f"initialised {total} tensors from {first['last']} (0 left fresh)" in logged
