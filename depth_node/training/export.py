"""Checkpoint -> ONNX with the model spec in ``metadata_props``, and a parity check against torch.

The graph takes ``image`` (float32 N x 3 x H x W, normalised as the spec says) and returns ``depth`` (float32
N x 1 x H x W, metres along the optical axis), with a dynamic batch dimension. The TorchScript-based exporter is
used (``dynamo=False``): it needs no onnxscript, and these convolutional graphs are what it handles best.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from depth_node.errors import ModelError
from depth_node.model_spec import IMAGENET_MEAN, IMAGENET_STD, ModelSpec, OutputKind
from depth_node.training.checkpoint import model_from_checkpoint
from depth_node.training.config import TrainConfig

OPSET = 17
PARITY_TOLERANCE_M = 1e-3


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_onnx` wrote and how closely ONNX Runtime matched torch."""

    path: Path
    spec: ModelSpec
    max_abs_diff_m: float
    size_bytes: int


def spec_for(config: TrainConfig) -> ModelSpec:
    """The model spec of a network trained with ``config``: fixed input size, ImageNet normalisation, metric depth.

    ``trained_fx``/``trained_width`` are the focal length of the training camera at its width, so the estimator
    can rescale the depth for a camera with another field of view. (The resize of a 4:3 camera frame to the
    input size scales x and y by different factors; the reference is the horizontal focal over the width.)
    """
    m, d = config.model, config.data
    trained_width = d.camera_width if d.kind == "synthetic" else m.input_width
    trained_fx = d.fx_over_width * trained_width if d.kind == "synthetic" else 0.0
    return ModelSpec(
        input_width=m.input_width,
        input_height=m.input_height,
        size_multiple=32,
        color_order="rgb",
        scale=1.0 / 255.0,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        output_kind=OutputKind.METRIC_DEPTH,
        min_depth_m=m.min_depth,
        max_depth_m=m.max_depth,
        trained_fx=trained_fx,
        trained_width=trained_width,
    )


def _parity(model: nn.Module, path: Path, sample: torch.Tensor) -> float:
    import onnxruntime as ort

    with torch.no_grad():
        ref = model(sample).numpy()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(["depth"], {"image": sample.numpy()})[0]
    if got.shape != ref.shape:
        raise ModelError(f"ONNX output shape {got.shape} differs from torch's {ref.shape}")
    return float(np.max(np.abs(got - ref)))


def export_onnx(checkpoint: str | Path, out: str | Path, spec: ModelSpec | None = None, seed: int = 0) -> ExportResult:
    """Export a training checkpoint; the file appears only after the parity check passed.

    Args:
        checkpoint: A ``.pt`` written by ``depth-node train``.
        out: Target ``.onnx`` path.
        spec: Overrides the spec derived from the checkpoint's config.
        seed: Seed of the random parity inputs (batch of 2, to exercise the dynamic batch).

    Raises:
        ModelError: unreadable checkpoint, or ONNX and torch differing by more than 1e-3 m.
    """
    import onnx

    model, config, _ = model_from_checkpoint(checkpoint)
    spec = spec or spec_for(config)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    dummy = torch.zeros(1, 3, spec.input_height, spec.input_width)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            model,
            (dummy,),
            str(tmp),
            input_names=["image"],
            output_names=["depth"],
            dynamic_axes={"image": {0: "batch"}, "depth": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    proto = onnx.load(str(tmp))
    del proto.metadata_props[:]
    for key, value in spec.to_metadata().items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = f"depth_node {config.model.arch} trained with data.kind={config.data.kind}"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(tmp))
    sample = torch.randn(2, 3, spec.input_height, spec.input_width, generator=torch.Generator().manual_seed(seed))
    diff = _parity(model, tmp, sample)
    if not diff < PARITY_TOLERANCE_M:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"ONNX/torch parity failed: max abs difference {diff:.3g} m >= {PARITY_TOLERANCE_M} m")
    os.replace(tmp, target)
    return ExportResult(target, spec, diff, target.stat().st_size)
