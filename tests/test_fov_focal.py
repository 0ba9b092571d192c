"""An uncalibrated camera (CameraInfo K and P all zeros) with a model that has a field-of-view head (Depth Pro):
the focal comes from that head, frame by frame, before ``fallback_hfov_deg``; without a head the fallback, and
without either the frame is refused. Through the one frame processor the node, replay and sim share."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from depth_node.camera import CameraModel
from depth_node.depth_params import DepthNodeParams
from depth_node.errors import CameraModelError
from depth_node.estimator import load_estimator
from depth_node.msgs import MessageSet
from depth_node.processing import DepthFrameProcessor
from tests.onnx_models import depth_pro_like_spec, write_fov_model

W, H = 64, 48


@pytest.fixture
def fov_model(tmp_path: Path) -> Path:
    return write_fov_model(tmp_path / "depth_pro_like.onnx", depth_pro_like_spec())


def _frame(messages: MessageSet, red: int, calibrated: bool) -> tuple[Any, Any]:
    header = messages.header(0, "cam")
    info = messages.camera_info(CameraModel(W, H, 50.0, 50.0, 31.5, 23.5), header)
    if not calibrated:
        info.k = messages.float64_array([0.0] * 9)
        info.p = messages.float64_array([0.0] * 12)
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[..., 0] = red
    return messages.image(rgb, "rgb8", header), info


def _expected(red: int, fx: float) -> float:
    """The graph's inverse depth at a normalised focal of 1, turned into metres at focal fx (Depth Pro's rule)."""
    inverse = 4.0 * red / 255 + 1.0
    return (fx / W) / inverse


@pytest.mark.parametrize("fallback", [0.0, 90.0])
def test_the_fov_head_sets_the_focal_of_an_uncalibrated_camera(fov_model: Path, fallback: float) -> None:
    """Each frame its own field of view (the head reads the frame), ahead of fallback_hfov_deg when that is set."""
    messages = MessageSet.from_rosbags()
    params = DepthNodeParams(providers=("cpu",), fallback_hfov_deg=fallback)
    processor = DepthFrameProcessor(messages, load_estimator(fov_model, providers=("cpu",)), params)
    for red in (51, 153):
        out = processor.process(*_frame(messages, red, calibrated=False))
        fov = 40.0 * red / 255 + 50.0
        fx = (W / 2) / math.tan(math.radians(fov) / 2)
        assert out.fov_deg == pytest.approx(fov, rel=1e-5) and not out.camera_fallback
        assert (out.camera.fx, out.camera.fy, out.camera.cx) == pytest.approx((fx, fx, (W - 1) / 2), rel=1e-5)
        assert out.info_msg.k[0] == pytest.approx(fx, rel=1e-5)
        np.testing.assert_allclose(out.depth, _expected(red, fx), rtol=1e-5)


def test_a_calibrated_camera_keeps_its_own_focal(fov_model: Path) -> None:
    messages = MessageSet.from_rosbags()
    processor = DepthFrameProcessor(messages, load_estimator(fov_model, providers=("cpu",)), DepthNodeParams())
    out = processor.process(*_frame(messages, 51, calibrated=True))
    assert out.fov_deg is None and out.camera.fx == pytest.approx(50.0)
    np.testing.assert_allclose(out.depth, _expected(51, 50.0), rtol=1e-5)


def test_without_a_head_the_fallback_then_the_refusal(metric_model: Path) -> None:
    messages = MessageSet.from_rosbags()
    estimator = load_estimator(metric_model, providers=("cpu",))
    frame = _frame(messages, 51, calibrated=False)
    out = DepthFrameProcessor(messages, estimator, DepthNodeParams(fallback_hfov_deg=90.0)).process(*frame)
    assert out.camera_fallback and out.fov_deg is None and out.camera.fx == pytest.approx(W / 2)
    with pytest.raises(CameraModelError, match="fallback_hfov_deg"):
        DepthFrameProcessor(messages, estimator, DepthNodeParams()).process(*frame)


def test_replay_of_an_uncalibrated_bag_uses_the_fov_head(tmp_path: Path, fov_model: Path) -> None:
    """depth-node replay drives the same frame processor: its depth and camera_info carry the head's focal."""
    from rosbags.highlevel import AnyReader

    from depth_node.cli import main
    from tests.bags import Frame, write_camera_bag

    messages = MessageSet.from_rosbags()
    reds = (51, 153)
    bag = write_camera_bag(tmp_path / "in", [Frame("uncalibrated", r) for r in reds], messages)
    out = tmp_path / "out"
    assert main(["replay", str(bag), "--out", str(out), "--model", str(fov_model), "--providers", "cpu"]) == 0
    depths, infos = [], []
    with AnyReader([out]) as reader:
        for conn, _t, raw in reader.messages():
            if conn.topic in ("/depth/image_raw", "/depth/camera_info"):
                msg = reader.deserialize(raw, conn.msgtype)
                (depths if conn.topic.endswith("image_raw") else infos).append(msg)
    assert len(depths) == len(infos) == 2
    for red, depth_msg, info in zip(reds, depths, infos, strict=True):
        fx = (W / 2) / math.tan(math.radians(40.0 * red / 255 + 50.0) / 2)
        assert info.k[0] == pytest.approx(fx, rel=1e-5)
        depth = np.frombuffer(depth_msg.data.tobytes(), np.float32).reshape(H, W)
        np.testing.assert_allclose(depth, _expected(red, fx), rtol=1e-5)
