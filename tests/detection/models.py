"""Tiny ONNX detectors the tests build themselves: a graph whose output is a constant we construct.

The network ignores its input and returns the given array, so a test writes exactly the raw output of
a YOLOv8, YOLOX or FastestDet head and knows every box the decoder must find.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from depth_node.detection.detector import Detector
from depth_node.detection.params import DetectorParams
from tests.onnx_models import save_model


def write_constant_detector(
    path: Path,
    output: np.ndarray,
    input_hw: tuple[int | str, int | str] = (64, 64),
    metadata: Mapping[str, str] | None = None,
    half_input: bool = False,
) -> Path:
    """Write a model with input ``images`` [1, 3, H, W] whose only output is ``output``; returns ``path``.

    ``input_hw`` may name symbolic sizes ("H", "W") for a dynamic input; ``half_input`` declares it float16.
    """
    h, w = input_hw
    in_type = TensorProto.FLOAT16 if half_input else TensorProto.FLOAT
    inp = helper.make_tensor_value_info("images", in_type, [1, 3, h, w])
    value = np.ascontiguousarray(output, dtype=np.float32)
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(value.shape))
    node = helper.make_node("Constant", [], ["output0"], value=numpy_helper.from_array(value))
    graph = helper.make_graph([node], "constant_detector", [inp], [out])
    return save_model(path, graph, metadata)


def load(path: Path, **params: object) -> Detector:
    """A CPU detector of ``path`` with parameter overrides."""
    return Detector(DetectorParams(model_path=str(path), providers=("cpu",), **params))  # type: ignore[arg-type]
