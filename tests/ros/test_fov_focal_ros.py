"""A live depth_node on an uncalibrated camera (CameraInfo K and P all zeros) with a Depth Pro-style model: the
published depth and camera_info use the focal length the model's field-of-view head predicts for the frame, and
the log says so once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rclpy")

from depth_node.camera import camera_for_image
from depth_node.estimator import load_estimator
from tests.onnx_models import depth_pro_like_spec, write_fov_model
from tests.ros.frames import Frames, colour_image
from tests.ros.harness import Harness
from tests.ros.test_robot_integration_ros import _run_depth_node


def test_an_uncalibrated_camera_takes_the_focal_of_the_fov_head(ros: Harness, tmp_path: Path) -> None:
    model = write_fov_model(tmp_path / "depth_pro_like.onnx", depth_pro_like_spec())
    info = Frames(width=320, height=240).info()
    info.k = [0.0] * 9
    info.p = [0.0] * 12
    depth, infos, log = _run_depth_node(ros, info, "-p", f"model_path:={model}", "-p", "providers:=['cpu']")
    rgb = colour_image(320, 240)  # what Frames.image() sends
    want = load_estimator(model, providers=("cpu",)).predict_outputs(rgb, camera_for_image(320, 240), focal_known=False)
    assert want.camera is not None and want.fov_deg is not None
    got = np.frombuffer(bytes(depth[-1].data), np.float32).reshape(240, 320)
    np.testing.assert_allclose(got, want.depth, rtol=1e-5)
    assert infos[-1].k[0] == pytest.approx(want.camera.fx, rel=1e-5)
    assert log.count("field-of-view head") == 1 and f"{want.fov_deg:.1f} deg" in log
    assert "only as good as that guess" not in log  # not the fallback_hfov_deg path
