"""A model's confidence and sky outputs: spec fields, the estimator's masks, the node parameters and messages.

The model (tests/onnx_models.py) returns depth from the red channel, confidence = green / 255 and a sky
score = blue / 255, so every expected pixel is known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from depth_node.camera import CameraModel
from depth_node.depth_params import DepthNodeParams
from depth_node.errors import ModelError, ParameterError
from depth_node.estimator import OnnxEstimator
from depth_node.msgs import MessageSet, decode_image
from depth_node.processing import DepthFrameProcessor
from tests.onnx_models import plain_spec, write_affine_model, write_confidence_sky_model

CAMERA = CameraModel(64, 48, 50.0, 50.0, 31.5, 23.5)


def _frame() -> np.ndarray:
    """Red 51 (depth 4 * 0.2 + 1 = 1.8 m); green rises left to right; blue >= 0.3 * 255 in the top rows."""
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[..., 0] = 51
    rgb[..., 1] = np.linspace(10, 250, 64).astype(np.uint8)[None, :]
    rgb[:12, :, 2] = 200
    rgb[12:, :, 2] = 20
    return rgb


@pytest.fixture
def model(tmp_path: Path) -> Path:
    spec = plain_spec(input_width=64, input_height=48, confidence_output="confidence", sky_output="sky")
    return write_confidence_sky_model(tmp_path / "conf_sky.onnx", spec)


def test_sky_is_nan_and_confidence_comes_out(model: Path) -> None:
    estimator = OnnxEstimator(model, providers=["cpu"])
    rgb = _frame()
    out = estimator.predict_outputs(rgb, CAMERA)
    assert np.isnan(out.depth[:12]).all()
    np.testing.assert_allclose(out.depth[12:], 1.8, rtol=1e-5)
    assert out.confidence is not None and out.confidence.dtype == np.float32
    np.testing.assert_allclose(out.confidence, rgb[..., 1] / 255.0, atol=1e-6)
    np.testing.assert_array_equal(np.isnan(estimator.predict(rgb, CAMERA)), np.isnan(out.depth))


def test_mask_sky_off_and_min_confidence(model: Path) -> None:
    estimator = OnnxEstimator(model, providers=["cpu"])
    estimator.set_output_options(mask_sky=False, min_confidence=0.5)
    rgb = _frame()
    depth = estimator.predict(rgb, CAMERA)
    unsure = rgb[..., 1] / 255.0 < 0.5
    np.testing.assert_array_equal(np.isnan(depth), unsure)
    np.testing.assert_allclose(depth[~unsure], 1.8, rtol=1e-5)


def test_a_spec_naming_a_missing_output_is_refused(tmp_path: Path) -> None:
    path = write_affine_model(tmp_path / "plain.onnx", plain_spec(sky_output="sky"))
    with pytest.raises(ModelError, match="sky_output 'sky' is not an output"):
        OnnxEstimator(path, providers=["cpu"])


def test_min_confidence_without_a_confidence_output_names_the_parameter(tmp_path: Path) -> None:
    path = write_affine_model(tmp_path / "plain.onnx", plain_spec())
    params = DepthNodeParams(model_path=str(path), providers=("cpu",), min_confidence=2.0)
    with pytest.raises(ParameterError, match="parameter 'min_confidence'.*no confidence output"):
        params.build_estimator()


def test_processor_publishes_confidence_with_the_depth_header(model: Path) -> None:
    messages = MessageSet.from_rosbags()
    params = DepthNodeParams(model_path=str(model), providers=("cpu",), publish_confidence=True, publish_cloud=False)
    processor = DepthFrameProcessor(messages, params.build_estimator(), params)
    header = messages.header(1_700_000_000_123_000_000, "cam_optical")
    rgb = _frame()
    out = processor.process(messages.image(rgb, "rgb8", header), messages.camera_info(CAMERA, header))
    msg = out.confidence_msg
    assert msg is not None and msg.encoding == "32FC1" and msg.header == out.depth_msg.header
    pixels, _ = decode_image(msg)
    np.testing.assert_allclose(pixels, rgb[..., 1] / 255.0, atol=1e-6)
    quiet = DepthNodeParams(model_path=str(model), providers=("cpu",), publish_cloud=False)
    plain = DepthFrameProcessor(messages, quiet.build_estimator(), quiet)
    later = plain.process(messages.image(rgb, "rgb8", header), messages.camera_info(CAMERA, header))
    assert later.confidence_msg is None and later.confidence is not None
