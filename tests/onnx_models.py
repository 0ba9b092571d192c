"""Tiny ONNX depth models the tests build themselves (onnx.helper, no torch, no downloads).

The "network" reads channel 0 of the normalised input x and returns ``a * x + b``: with mean 0, std 1 and
scale 1/255, a uniform image of value v gives the output a * v / 255 + b, so every test knows the exact
depth to expect.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from depth_node.model_spec import ModelSpec


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
    inp = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, h, w])
    out_shape = ["N", h, w] if squeeze_channel else ["N", 1, h, w]
    out = helper.make_tensor_value_info("depth", TensorProto.FLOAT, out_shape)
    inits = [
        numpy_helper.from_array(np.array([0], dtype=np.int64), "starts"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "ends"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
        numpy_helper.from_array(np.array(gain, dtype=np.float32), "gain"),
        numpy_helper.from_array(np.array(offset, dtype=np.float32), "offset"),
    ]
    nodes = [
        helper.make_node("Slice", ["image", "starts", "ends", "axes"], ["c0"]),
        helper.make_node("Mul", ["c0", "gain"], ["scaled"]),
        helper.make_node("Add", ["scaled", "offset"], ["pre" if squeeze_channel else "depth"]),
    ]
    if squeeze_channel:
        inits.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "squeeze_axes"))
        nodes.append(helper.make_node("Squeeze", ["pre", "squeeze_axes"], ["depth"]))
    graph = helper.make_graph(nodes, "affine_depth", [inp], [out], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if spec is not None:
        for key, value in spec.to_metadata().items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


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
    inp = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, h, w])
    out = helper.make_tensor_value_info("depth", TensorProto.FLOAT, ["N", 1, h, w])
    inits = [
        numpy_helper.from_array(np.array([0], dtype=np.int64), "starts"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "ends"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
        numpy_helper.from_array(np.array(4.0, dtype=np.float32), "gain"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "offset"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
        # Rows summing to one: the products stay finite however many there are.
        numpy_helper.from_array(np.full((size, size), 1.0 / size, np.float32), "w"),
    ]
    nodes = [
        helper.make_node("Slice", ["image", "starts", "ends", "axes"], ["c0"]),
        helper.make_node("Mul", ["c0", "gain"], ["scaled"]),
        helper.make_node("Add", ["scaled", "offset"], ["affine"]),
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
    graph = helper.make_graph(nodes, "slow_affine_depth", [inp], [out], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if spec is not None:
        for key, value in spec.to_metadata().items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def write_confidence_sky_model(path: Path, spec: ModelSpec, *, gain: float = 4.0, offset: float = 1.0) -> Path:
    """Three outputs, as a Depth Anything 3 export has: ``depth`` = gain * x[:, 0:1] + offset, ``confidence`` =
    x[:, 1:2] and ``sky`` = x[:, 2:3] (fixed 48x64). With :func:`plain_spec`, a pixel's green / 255 is its
    confidence and its blue / 255 its sky score."""
    inp = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 48, 64])
    outs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 1, 48, 64]) for n in ("depth", "confidence", "sky")
    ]
    inits = [numpy_helper.from_array(np.array([c], dtype=np.int64), f"c{c}") for c in range(4)] + [
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
        numpy_helper.from_array(np.array(gain, dtype=np.float32), "gain"),
        numpy_helper.from_array(np.array(offset, dtype=np.float32), "offset"),
    ]
    nodes = [
        helper.make_node("Slice", ["image", "c0", "c1", "axes"], ["r"]),
        helper.make_node("Mul", ["r", "gain"], ["scaled"]),
        helper.make_node("Add", ["scaled", "offset"], ["depth"]),
        helper.make_node("Slice", ["image", "c1", "c2", "axes"], ["confidence"]),
        helper.make_node("Slice", ["image", "c2", "c3", "axes"], ["sky"]),
    ]
    graph = helper.make_graph(nodes, "depth_confidence_sky", [inp], outs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in spec.to_metadata().items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


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
    inp = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 48, 64])
    outs = [
        helper.make_tensor_value_info("inverse_depth", TensorProto.FLOAT, ["N", 1, 48, 64]),
        helper.make_tensor_value_info("field_of_view", TensorProto.FLOAT, ["N", 1]),
    ]
    inits = [
        numpy_helper.from_array(np.array([0], dtype=np.int64), "c0"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "c1"),
        numpy_helper.from_array(np.array([1, 2, 3], dtype=np.int64), "spatial"),
        numpy_helper.from_array(np.array(gain, dtype=np.float32), "gain"),
        numpy_helper.from_array(np.array(offset, dtype=np.float32), "offset"),
        numpy_helper.from_array(np.array(fov_gain, dtype=np.float32), "fov_gain"),
        numpy_helper.from_array(np.array(fov_offset, dtype=np.float32), "fov_offset"),
    ]
    nodes = [
        helper.make_node("Slice", ["image", "c0", "c1", "c1"], ["red"]),
        helper.make_node("Mul", ["red", "gain"], ["scaled"]),
        helper.make_node("Add", ["scaled", "offset"], ["inverse_depth"]),
        helper.make_node("ReduceMean", ["red", "spatial"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "fov_gain"], ["fov_scaled"]),
        helper.make_node("Add", ["fov_scaled", "fov_offset"], ["fov"]),
        helper.make_node("Unsqueeze", ["fov", "c1"], ["field_of_view"]),
    ]
    graph = helper.make_graph(nodes, "depth_pro_like", [inp], outs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    for key, value in spec.to_metadata().items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path
