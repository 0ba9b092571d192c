"""Tiny ONNX depth models the tests build themselves (onnx.helper, no torch, no downloads).

The "network" reads channel 0 of the normalised input x and returns ``a * x + b``: with mean 0, std 1 and
scale 1/255, a uniform image of value v gives the output a * v / 255 + b, so every test knows the exact
depth to expect. :func:`affine_head` is that computation, :func:`save_model` what every test model (the
detectors' of ``tests/detection/models.py`` too) does with its graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
from onnx import NodeProto, TensorProto, ValueInfoProto, helper, numpy_helper

from depth_node.model_spec import ModelSpec


def image_input(h: int | str, w: int | str) -> ValueInfoProto:
    """The model's input: ``image``, float [N, 3, h, w] (a str names a dynamic size)."""
    return helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, h, w])


def affine_head(gain: float, offset: float, out: str = "depth") -> tuple[list[TensorProto], list[NodeProto]]:
    """Initializers and nodes computing ``out`` = ``gain * image[:, 0:1] + offset`` (bounds ``c0``, ``c1``)."""
    inits = [
        numpy_helper.from_array(np.array([0], dtype=np.int64), "c0"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "c1"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
        numpy_helper.from_array(np.array(gain, dtype=np.float32), "gain"),
        numpy_helper.from_array(np.array(offset, dtype=np.float32), "offset"),
    ]
    nodes = [
        helper.make_node("Slice", ["image", "c0", "c1", "axes"], ["c0_image"]),
        helper.make_node("Mul", ["c0_image", "gain"], ["scaled"]),
        helper.make_node("Add", ["scaled", "offset"], [out]),
    ]
    return inits, nodes


def save_model(path: Path, graph: onnx.GraphProto, metadata: Mapping[str, str] | None = None) -> Path:
    """Write ``graph`` as a checked opset-17 model (``metadata`` in its metadata_props) to ``path``; returns it."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _metadata(spec: ModelSpec | None) -> dict[str, str] | None:
    return None if spec is None else spec.to_metadata()


def write_affine_model(
    path: Path,
    spec: ModelSpec | None,
    *,
    gain: float = 4.0,
    offset: float = 1.0,
    fixed_hw: tuple[int, int] | None = (48, 64),
    squeeze_channel: bool = False,
) -> Path:
    """Write a model computing ``gain * x[:, 0:1] + offset``; returns ``path``.

    Args:
        path: Output .onnx path.
        spec: Stored in metadata_props when given (a user's plain export has none).
        gain: Multiplier.
        offset: Added after the multiplier.
        fixed_hw: Fixed input height and width, or None for dynamic H and W.
        squeeze_channel: Output (N, H, W) instead of (N, 1, H, W).
    """
    h, w = fixed_hw if fixed_hw is not None else ("H", "W")
    out_shape = ["N", h, w] if squeeze_channel else ["N", 1, h, w]
    out = helper.make_tensor_value_info("depth", TensorProto.FLOAT, out_shape)
    inits, nodes = affine_head(gain, offset, "pre" if squeeze_channel else "depth")
    if squeeze_channel:
        inits.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "squeeze_axes"))
        nodes.append(helper.make_node("Squeeze", ["pre", "squeeze_axes"], ["depth"]))
    graph = helper.make_graph(nodes, "affine_depth", [image_input(h, w)], [out], initializer=inits)
    return save_model(path, graph, _metadata(spec))


def plain_spec(**changes: object) -> ModelSpec:
    """A spec whose normalisation is x = pixel / 255 (mean 0, std 1), so outputs are easy to predict."""
    base = ModelSpec(mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), min_depth_m=0.01, max_depth_m=100.0)
    return base.replace(**changes) if changes else base


def write_slow_model(path: Path, spec: ModelSpec | None, *, matmuls: int = 96, size: int = 1024) -> Path:
    """Write the affine model's ``4 x + 1`` made slow: ``matmuls`` products of ``size`` x ``size`` matrices.

    The products start from the input's mean, so ONNX Runtime cannot fold them away at load time, and
    they are added times zero, so the depth stays the affine one. About a second per frame on a loaded
    2-core machine: long enough that a Ctrl-C lands while a frame is in inference.
    """
    h, w = 48, 64
    out = helper.make_tensor_value_info("depth", TensorProto.FLOAT, ["N", 1, h, w])
    inits, nodes = affine_head(4.0, 1.0, "affine")
    inits += [
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
        # Rows summing to one: the products stay finite however many there are.
        numpy_helper.from_array(np.full((size, size), 1.0 / size, np.float32), "w"),
    ]
    nodes += [
        helper.make_node("ReduceMean", ["image"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["w", "mean"], ["m0"]),
    ]
    for i in range(matmuls):
        nodes.append(helper.make_node("MatMul", [f"m{i}", "w"], [f"m{i + 1}"]))
    nodes += [
        helper.make_node("ReduceMean", [f"m{matmuls}"], ["busy"], keepdims=0),
        helper.make_node("Mul", ["busy", "zero"], ["nothing"]),
        helper.make_node("Add", ["affine", "nothing"], ["depth"]),
    ]
    graph = helper.make_graph(nodes, "slow_affine_depth", [image_input(h, w)], [out], initializer=inits)
    return save_model(path, graph, _metadata(spec))


def write_confidence_sky_model(path: Path, spec: ModelSpec, *, gain: float = 4.0, offset: float = 1.0) -> Path:
    """Three outputs, as a Depth Anything 3 export has: ``depth`` = gain * x[:, 0:1] + offset, ``confidence`` =
    x[:, 1:2] and ``sky`` = x[:, 2:3] (fixed 48x64). With :func:`plain_spec`, a pixel's green / 255 is its
    confidence and its blue / 255 its sky score."""
    outs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 1, 48, 64]) for n in ("depth", "confidence", "sky")
    ]
    inits, nodes = affine_head(gain, offset)
    inits += [numpy_helper.from_array(np.array([c], dtype=np.int64), f"c{c}") for c in (2, 3)]
    nodes += [
        helper.make_node("Slice", ["image", "c1", "c2", "axes"], ["confidence"]),
        helper.make_node("Slice", ["image", "c2", "c3", "axes"], ["sky"]),
    ]
    graph = helper.make_graph(nodes, "depth_confidence_sky", [image_input(48, 64)], outs, initializer=inits)
    return save_model(path, graph, spec.to_metadata())


def depth_pro_like_spec(width: int = 64, height: int = 48) -> ModelSpec:
    """What export-hf writes for Depth Pro, at a small fixed size: metric inverse depth at a normalised focal of 1
    (``trained_fx`` = input width) and a field-of-view output; normalisation pixel / 255 (see :func:`plain_spec`)."""
    return plain_spec(
        input_width=width,
        input_height=height,
        output_kind="metric_inverse_depth",
        trained_fx=float(width),
        trained_width=width,
        fov_output="field_of_view",
        min_depth_m=1e-4,
        max_depth_m=1e4,
    )


def write_fov_model(
    path: Path,
    spec: ModelSpec,
    *,
    gain: float = 4.0,
    offset: float = 1.0,
    fov_gain: float = 40.0,
    fov_offset: float = 50.0,
) -> Path:
    """Depth Pro's two outputs on a fixed 48x64 input: ``inverse_depth`` = gain * x[:, 0:1] + offset and
    ``field_of_view`` (N, 1) = fov_gain * mean(x[:, 0:1]) + fov_offset degrees, so each frame has its own field of
    view (with :func:`plain_spec`'s normalisation: the red channel's mean / 255)."""
    outs = [
        helper.make_tensor_value_info("inverse_depth", TensorProto.FLOAT, ["N", 1, 48, 64]),
        helper.make_tensor_value_info("field_of_view", TensorProto.FLOAT, ["N", 1]),
    ]
    inits, nodes = affine_head(gain, offset, out="inverse_depth")
    inits += [
        numpy_helper.from_array(np.array(fov_gain, dtype=np.float32), "fov_gain"),
        numpy_helper.from_array(np.array(fov_offset, dtype=np.float32), "fov_offset"),
    ]
    nodes += [
        helper.make_node("ReduceMean", ["c0_image"], ["mean"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Mul", ["mean", "fov_gain"], ["fov_scaled"]),
        helper.make_node("Add", ["fov_scaled", "fov_offset"], ["fov"]),
        helper.make_node("Unsqueeze", ["fov", "c1"], ["field_of_view"]),
    ]
    graph = helper.make_graph(nodes, "depth_pro_like", [image_input(48, 64)], outs, initializer=inits)
    return save_model(path, graph, spec.to_metadata())
