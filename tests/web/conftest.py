"""Fixtures of the web tests: tiny real ONNX models (metric, relative, spec from a sidecar YAML) and images."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.onnx_models import plain_spec, write_affine_model

W, H = 64, 48


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """metric.onnx (depth = 4 r/255 + 1 m, fixed 48x64), relative.onnx (relative depth, any size) and
    plain.onnx (no spec in the file; plain.yaml beside it says it is relative inverse depth at 32x32)."""
    root = tmp_path_factory.mktemp("web_models")
    write_affine_model(root / "metric.onnx", plain_spec())
    write_affine_model(
        root / "relative.onnx", plain_spec(output_kind="relative_depth"), gain=2.0, offset=0.5, fixed_hw=None
    )
    write_affine_model(root / "plain.onnx", None, gain=1.0, offset=0.2, fixed_hw=None)
    (root / "plain.yaml").write_text(
        "depth_node:\n  ros__parameters:\n    model:\n      output_kind: relative_inverse_depth\n"
        "      input_width: 32\n      input_height: 32\n      mean: [0.0, 0.0, 0.0]\n      std: [1.0, 1.0, 1.0]\n",
        encoding="utf-8",
    )
    return root


def png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    assert ok
    return bytes(buf)


def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def from_b64_npy(text: str) -> np.ndarray:
    return np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)


@pytest.fixture(scope="session")
def image_bgr() -> np.ndarray:
    """64x48 BGR image whose red channel ramps left to right (so the metric model's depth ramps 1..5 m)."""
    img = np.zeros((H, W, 3), np.uint8)
    img[..., 2] = np.linspace(0, 255, W, dtype=np.float32).round().astype(np.uint8)[None, :]
    img[..., 1] = 80
    return img


@pytest.fixture(scope="session")
def gt_m() -> np.ndarray:
    """Ground truth in metres near the metric model's output, with unknown (NaN) and far pixels."""
    v, u = np.indices((H, W))
    gt = (1.2 + 3.5 * u / (W - 1) + 0.01 * v).astype(np.float32)
    gt[:5, :7] = np.nan
    gt[40:, 60:] = 12.0  # beyond the scored range (10 m)
    return gt
