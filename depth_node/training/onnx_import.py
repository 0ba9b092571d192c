"""An exported ONNX model back into a trainable checkpoint, so a shipped model can be fine-tuned without its ``.pt``.

The exporter folds every BatchNorm into the convolution before it (weights and a bias), so the ONNX file holds
one weight and one bias per convolution and no BatchNorm statistics. Loading the folded weights into the
convolutions with BatchNorm set to the identity reproduces the network in eval mode, but not in training mode,
where BatchNorm normalises by the batch's own statistics. So the BatchNorm layers are rebuilt from data: the
per-channel mean and variance of every convolution's output on a calibration batch become the running statistics,
and the affine weight and bias undo the normalisation (gamma = sqrt(var + eps), beta = mean + folded bias). Eval
mode then gives the ONNX model's output exactly, and a training batch from the same distribution sees nearly
the same function, so fine-tuning starts where the shipped model is.

The convolutions are matched in order (the graph's Conv nodes against the network's ``Conv2d`` modules) and by
shape; the result is checked against ONNX Runtime before it is written (see :func:`import_onnx`).

    python -m depth_node.training.onnx_import models/fastdepth_synthetic.onnx --out runs/shipped.pt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from depth_node.errors import ModelError
from depth_node.training.checkpoint import make_state, save_checkpoint
from depth_node.training.config import TrainConfig, load_config
from depth_node.training.networks import build_network

PARITY_TOLERANCE_M = 1e-3


def _conv_pairs(model: nn.Module) -> list[tuple[nn.Conv2d, nn.BatchNorm2d | None]]:
    """Every convolution in registration order, with the BatchNorm that directly follows it (or None)."""
    modules = list(model.modules())
    pairs: list[tuple[nn.Conv2d, nn.BatchNorm2d | None]] = []
    for i, m in enumerate(modules):
        if isinstance(m, nn.Conv2d):
            after = modules[i + 1] if i + 1 < len(modules) else None
            pairs.append((m, after if isinstance(after, nn.BatchNorm2d) else None))
    return pairs


def _onnx_convs(path: Path) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """(weight, bias or None) of every Conv node, in graph order."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    out = []
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        if node.input[1] not in init:
            raise ModelError(f"{path}: Conv node {node.name!r} has a weight that is not an initializer")
        bias = init.get(node.input[2]) if len(node.input) > 2 else None
        out.append((init[node.input[1]], bias))
    return out


def load_folded(model: nn.Module, path: Path) -> list[tuple[nn.BatchNorm2d, torch.Tensor]]:
    """Load the folded ONNX convolutions into ``model`` (BatchNorm as identity plus the folded bias).

    Returns:
        (BatchNorm, folded bias) of every convolution followed by a BatchNorm, for :func:`calibrate`.

    Raises:
        ModelError: the graph's convolutions do not match the network's in number, order and shape.
    """
    pairs, convs = _conv_pairs(model), _onnx_convs(path)
    if len(pairs) != len(convs):
        raise ModelError(f"{path} has {len(convs)} convolutions, the network {len(pairs)}: another architecture")
    folded = []
    with torch.no_grad():
        for index, ((conv, bn), (weight, bias)) in enumerate(zip(pairs, convs, strict=True)):
            if tuple(conv.weight.shape) != weight.shape:
                raise ModelError(
                    f"{path}: convolution {index} has weight shape {weight.shape}, the network's "
                    f"{tuple(conv.weight.shape)}: another architecture or width"
                )
            conv.weight.copy_(torch.from_numpy(np.array(weight)))
            b = torch.from_numpy(np.array(bias)) if bias is not None else torch.zeros(weight.shape[0])
            if bn is None:
                if conv.bias is None:
                    raise ModelError(f"{path}: convolution {index} has a bias the network has no place for")
                conv.bias.copy_(b)
                continue
            if conv.bias is not None:
                conv.bias.zero_()
            assert bn.running_mean is not None and bn.running_var is not None  # BatchNorm2d tracks them
            bn.weight.fill_(1.0)
            bn.bias.copy_(b)
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)  # sqrt(var + eps) = 1: the identity
            folded.append((bn, b.clone()))
    return folded


def calibrate(model: nn.Module, folded: list[tuple[nn.BatchNorm2d, torch.Tensor]], batch: torch.Tensor) -> None:
    """Rebuild each BatchNorm's statistics from ``batch`` without changing the eval-mode function."""
    stats: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], _output: torch.Tensor) -> None:
        x = inputs[0]
        stats[id(module)] = (x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=False))

    handles = [bn.register_forward_hook(hook) for bn, _ in folded]
    model.eval()
    with torch.no_grad():
        model(batch)
        for bn, bias in folded:
            mean, var = stats[id(bn)]
            assert bn.running_mean is not None and bn.running_var is not None
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            bn.weight.copy_(torch.sqrt(var + bn.eps))
            bn.bias.copy_(mean + bias)
    for h in handles:
        h.remove()


def parity(model: nn.Module, path: Path, batch: torch.Tensor) -> float:
    """Largest absolute difference (m) between the network in eval mode and ONNX Runtime on ``batch``."""
    import onnxruntime as ort

    model.eval()
    with torch.no_grad():
        ref = model(batch).numpy()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: batch.numpy()})[0]
    if got.shape != ref.shape:
        raise ModelError(f"{path}: output shape {got.shape} differs from the network's {ref.shape}")
    return float(np.max(np.abs(got - ref)))


def calibration_batch(config: TrainConfig, count: int = 64, first_seed: int = 40_000_000) -> torch.Tensor:
    """Normalised input images of the training world (seeds disjoint from the training/val/test splits)."""
    from depth_node.training.datasets.factory import _augmenter
    from depth_node.training.datasets.synthetic import SyntheticDataset

    d = config.data
    data = SyntheticDataset(
        count,
        first_seed,
        (d.camera_width, d.camera_height),
        d.fx_over_width,
        _augmenter(config),
        train=False,
        floor_clutter=d.floor_clutter,
        passages=d.passages,
    )
    return torch.stack([data[i][0] for i in range(count)])


def import_onnx(onnx_path: str | Path, config: TrainConfig, out: str | Path, count: int = 64) -> float:
    """Write a checkpoint of ``config``'s network holding the ONNX model's weights; returns the parity (m).

    Raises:
        ModelError: the architectures do not match, or the rebuilt network differs from ONNX Runtime by more
            than ``PARITY_TOLERANCE_M`` (then nothing is written).
    """
    path = Path(onnx_path)
    if not path.is_file():
        raise ModelError(f"ONNX model {path} does not exist")
    m = config.model
    model = build_network(m.arch, m.width_mult, m.min_depth, m.max_depth, m.depth_mult)
    folded = load_folded(model, path)
    batch = calibration_batch(config, count)
    calibrate(model, folded, batch)
    diff = parity(model, path, batch[:8])
    if not diff <= PARITY_TOLERANCE_M:
        raise ModelError(f"{path}: the rebuilt network differs from ONNX Runtime by {diff:.3g} m (limit 1e-3 m)")
    save_checkpoint(out, make_state(config, model, imported_from=str(path), parity_m=diff))
    return diff


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m depth_node.training.onnx_import MODEL.onnx --out CKPT.pt [--config YAML]``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("onnx", help="the exported model (e.g. models/fastdepth_synthetic.onnx)")
    ap.add_argument("--out", required=True, help="checkpoint to write (.pt)")
    ap.add_argument("--config", default="config/train_synthetic.yaml", help="the training config it was made with")
    args = ap.parse_args(argv)
    try:
        diff = import_onnx(args.onnx, load_config(args.config), args.out)
    except (ModelError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: max abs difference to ONNX Runtime {diff:.2g} m")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
