"""Distorted and uncalibrated cameras: rectification before the model, and ``fallback_hfov_deg``.

The flat-wall test renders what a strongly distorted camera sees of a tilted flat wall: each raw pixel's
red level encodes the depth of the wall point on that pixel's true ray. The test model turns red into
depth (``depth = red / 255 + 1.6`` m), so the whole chain (CameraInfo message, rectification, the ONNX
model on ONNX Runtime, back-projection, the PointCloud2 message) must put every point back on the plane.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from depth_node import rectify
from depth_node.camera import CameraModel
from depth_node.depth_params import DepthNodeParams
from depth_node.errors import CameraModelError
from depth_node.estimator import load_estimator
from depth_node.msgs import MessageSet, calibration_from_info
from depth_node.processing import DepthFrameProcessor
from depth_node.rectify import CameraInput, is_rectified_topic
from tests.onnx_models import plain_spec, write_affine_model

W, H = 320, 240
K = np.array([[260.0, 0.0, 161.0], [0.0, 255.0, 118.5], [0.0, 0.0, 1.0]])
OFFSET_M, GAIN_M = 1.6, 1.0  # the model: depth = GAIN_M * red / 255 + OFFSET_M
# Strong distortions: the image edges move by 25-45 pixels.
DISTORTIONS = {
    "plumb_bob": [-0.2, 0.03, 0.001, -0.0015, 0.0],
    "rational_polynomial": [0.1, 0.0, 0.0, 0.0, 0.0, 0.4, 0.0, 0.0],
    "equidistant": [0.05, -0.01, 0.0, 0.0],
    # Pincushion: the rectified view's corners lie beyond the raw image (those pixels have no depth).
    "pincushion": [0.25, 0.0, 0.0, 0.0, 0.0],
}
OPENCV_MODEL = {"pincushion": "plumb_bob"}


def _wall_depth(rays: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """z of the tilted wall z = 2 + 0.15 x + 0.1 y along rays (x/z, y/z)."""
    return 2.0 / (1.0 - 0.15 * rays[..., 0] - 0.1 * rays[..., 1])


def _distort(model: str, d: list[float], rays: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Normalised undistorted rays -> normalised distorted coordinates (the models as ROS / OpenCV define them)."""
    x, y = rays[..., 0], rays[..., 1]
    r2 = x * x + y * y
    if model == "equidistant":
        r = np.sqrt(r2)
        theta = np.arctan(r)
        t2 = theta * theta
        theta_d = theta * (1 + d[0] * t2 + d[1] * t2**2 + d[2] * t2**3 + d[3] * t2**4)
        scale = np.where(r > 0, theta_d / np.maximum(r, 1e-12), 1.0)
        return np.stack([x * scale, y * scale], -1)
    k = list(d) + [0.0] * (8 - len(d))
    radial = (1 + k[0] * r2 + k[1] * r2**2 + k[4] * r2**3) / (1 + k[5] * r2 + k[6] * r2**2 + k[7] * r2**3)
    xd = x * radial + 2 * k[2] * x * y + k[3] * (r2 + 2 * x * x)
    yd = y * radial + k[2] * (r2 + 2 * y * y) + 2 * k[3] * x * y
    return np.stack([xd, yd], -1)


def _raw_rays(model: str, d: list[float]) -> npt.NDArray[np.float64]:
    """The true (undistorted) normalised ray of every raw pixel centre, (H, W, 2): the distortion inverted by
    Newton steps on a numerical Jacobian, checked against OpenCV's own projection."""
    u, v = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
    target = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1]], -1)
    rays = target.copy()
    step_x, step_y = np.array([1e-7, 0.0]), np.array([0.0, 1e-7])
    for _ in range(50):
        f = _distort(model, d, rays) - target
        jx = (_distort(model, d, rays + step_x) - _distort(model, d, rays)) / 1e-7
        jy = (_distort(model, d, rays + step_y) - _distort(model, d, rays)) / 1e-7
        det = jx[..., 0] * jy[..., 1] - jy[..., 0] * jx[..., 1]
        rays[..., 0] -= (jy[..., 1] * f[..., 0] - jy[..., 0] * f[..., 1]) / det
        rays[..., 1] -= (-jx[..., 1] * f[..., 0] + jx[..., 0] * f[..., 1]) / det
    obj = np.concatenate([rays, np.ones_like(rays[..., :1])], -1).reshape(-1, 1, 3)
    dist = np.asarray(d, dtype=np.float64)
    project = cv2.fisheye.projectPoints if model == "equidistant" else cv2.projectPoints
    back, _ = project(obj, np.zeros(3), np.zeros(3), K, dist)
    pixels = np.stack([u, v], -1).reshape(-1, 1, 2)
    assert np.abs(back - pixels).max() < 1e-3  # these rays really are those pixels' (OpenCV's projection)
    return rays


def _raw_image(model: str, d: list[float]) -> npt.NDArray[np.uint8]:
    z = _wall_depth(_raw_rays(model, d))
    red = np.clip(np.rint((z - OFFSET_M) / GAIN_M * 255.0), 0, 255).astype(np.uint8)
    assert red.min() > 0 and red.max() < 255  # the wall's depths all fit the model's range
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[..., 0] = red
    return rgb


def _info(messages: MessageSet, header: Any, model: str, d: list[float]) -> Any:
    info = messages.camera_info(CameraModel(W, H, K[0, 0], K[1, 1], K[0, 2], K[1, 2]), header)
    info.distortion_model = model
    info.d = messages.float64_array(d)
    return info


@pytest.fixture(scope="module")
def ramp_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "ramp.onnx"
    return write_affine_model(path, plain_spec(size_multiple=1), gain=GAIN_M, offset=OFFSET_M, fixed_hw=None)


def _cloud_points(msg: Any) -> npt.NDArray[np.float64]:
    """x, y, z of a PointCloud2 (point_step 16), finite points only."""
    data = np.frombuffer(bytes(msg.data), dtype=np.float32).reshape(-1, msg.point_step // 4)[:, :3]
    return data[np.isfinite(data).all(axis=1)].astype(np.float64)


def _plane_residuals(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    centred = points - points.mean(axis=0)
    normal = np.linalg.svd(centred, full_matrices=False)[2][-1]
    return np.asarray(centred @ normal)


def _wall_error(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """|z - z of the wall| at each point's x, y."""
    x, y, z = points.T
    return np.asarray(np.abs(z - (2.0 + 0.15 * x + 0.1 * y)))


def _run(ramp_model: Path, model: str, rectify_mode: str, topic: str = "/cam/image_raw") -> Any:
    messages = MessageSet.from_rosbags()
    params = DepthNodeParams(rectify=rectify_mode, providers=("cpu",))
    processor = DepthFrameProcessor(messages, load_estimator(ramp_model, providers=("cpu",)), params, topic)
    header = messages.header(1_000_000_000, "cam_optical_frame")
    d = DISTORTIONS[model]
    model = OPENCV_MODEL.get(model, model)
    image = messages.image(_raw_image(model, d), "rgb8", header)
    return processor.process(image, _info(messages, header, model, d), want_cloud=True)


@pytest.mark.parametrize("model", sorted(DISTORTIONS))
def test_a_flat_wall_through_a_distorted_lens_gives_a_flat_cloud(ramp_model: Path, model: str) -> None:
    out = _run(ramp_model, model, "auto")
    points = _cloud_points(out.cloud_msg)
    # Pixels of the rectified view beyond the raw image's edge have no depth (NaN); all others do.
    unknown = int(np.isnan(out.depth).sum())
    assert (unknown > 0) == (model == "pincushion") and len(points) == W * H - unknown > 0.6 * W * H
    residual = _plane_residuals(points)
    rms = float(np.sqrt(np.mean(residual**2)))
    assert rms < 0.003, f"plane-fit residual {rms * 1000:.2f} mm RMS"
    assert float(np.percentile(np.abs(residual), 99)) < 0.005
    # The wall itself, not just some plane: z = 2 + 0.15 x + 0.1 y (the depth's 8-bit steps are 3.9 mm).
    assert float(np.percentile(_wall_error(points), 99)) < 0.005
    # The published camera is the rectified pinhole one, D zero, the same that back-projected the cloud.
    info = out.info_msg
    assert info.distortion_model == "plumb_bob" and not np.any(np.asarray(info.d))
    assert (info.width, info.height) == (W, H)
    assert list(info.k) == pytest.approx([K[0, 0], 0, K[0, 2], 0, K[1, 1], K[1, 2], 0, 0, 1])


@pytest.mark.parametrize("model", sorted(DISTORTIONS))
def test_without_rectification_the_same_wall_bends(ramp_model: Path, model: str) -> None:
    """What the node did before (K alone on raw pixels), and what the flat-wall test would catch."""
    points = _cloud_points(_run(ramp_model, model, "never").cloud_msg)
    assert float(np.percentile(_wall_error(points), 99)) > 0.02  # 24-52 mm here, against under 3 mm rectified


def test_an_image_rect_input_is_left_alone(ramp_model: Path) -> None:
    """image_proc publishes image_rect beside the raw CameraInfo (D non-zero): auto changes nothing."""
    assert is_rectified_topic("/cam/image_rect") and is_rectified_topic("/cam/image_rect_color/compressed")
    assert not is_rectified_topic("/cam/image_raw") and not is_rectified_topic("/image_rectangle_raw/x")
    messages = MessageSet.from_rosbags()
    header = messages.header(0, "cam")
    calib = calibration_from_info(_info(messages, header, "plumb_bob", DISTORTIONS["plumb_bob"]))
    rgb = np.zeros((H, W, 3), np.uint8)
    view = CameraInput("auto", input_topic="/cam/image_rect_color").view(calib, rgb)
    assert view.rgb is rgb and not view.rectified and view.valid is None
    assert view.camera == CameraModel(W, H, K[0, 0], K[1, 1], K[0, 2], K[1, 2])
    assert CameraInput("always", input_topic="/cam/image_rect_color").view(calib, rgb).rectified
    assert not CameraInput("never").view(calib, rgb).rectified
    # A camera without distortion is never remapped (the common case costs nothing).
    flat = calibration_from_info(messages.camera_info(CameraModel(W, H, 200, 200, 160, 120), header))
    assert CameraInput("always").view(flat, rgb).rgb is rgb


def test_maps_are_built_once_per_camera_info(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Any] = []
    real = rectify.undistort_maps
    monkeypatch.setattr(rectify, "undistort_maps", lambda c, s: built.append(c) or real(c, s))
    messages = MessageSet.from_rosbags()
    header = messages.header(0, "cam")
    cam_input = CameraInput()
    rgb = np.zeros((H, W, 3), np.uint8)
    for _ in range(3):  # a fresh message each frame, as a driver sends: same values, same maps
        cam_input.view(calibration_from_info(_info(messages, header, "plumb_bob", DISTORTIONS["plumb_bob"])), rgb)
    assert len(built) == 1
    cam_input.view(calibration_from_info(_info(messages, header, "plumb_bob", [-0.1, 0, 0, 0, 0])), rgb)
    assert len(built) == 2


@pytest.mark.parametrize(
    ("model", "d", "match"),
    [
        ("kannala_brandt_x", [0.1, 0.0, 0.0, 0.0], "distortion_model 'kannala_brandt_x'"),
        ("plumb_bob", [0.1, 0.0, 0.0], "has 3 coefficients"),
        ("plumb_bob", [float("nan"), 0.0, 0.0, 0.0, 0.0], "non-finite"),
    ],
)
def test_bad_distortion_is_refused_as_bad_camera_info(model: str, d: list[float], match: str) -> None:
    messages = MessageSet.from_rosbags()
    calib = calibration_from_info(_info(messages, messages.header(0, "cam"), model, d))
    with pytest.raises(CameraModelError, match=match) as err:
        CameraInput().view(calib, np.zeros((H, W, 3), np.uint8))
    assert err.value.reason == "bad_camera_info"


def test_k_all_zeros_needs_fallback_hfov(metric_model: Path) -> None:
    """usb_cam without calibration: K and P zero. Refused by default; with fallback_hfov_deg, K from it."""
    messages = MessageSet.from_rosbags()
    header = messages.header(0, "cam")
    info = messages.camera_info(CameraModel(64, 48, 50, 50, 31.5, 23.5), header)
    info.k = messages.float64_array([0.0] * 9)
    info.p = messages.float64_array([0.0] * 12)
    info.d = messages.float64_array([0.1, 0.0, 0.0, 0.0, 0.0])  # D of no known K: nothing to undistort with
    image = messages.image(np.full((48, 64, 3), 100, np.uint8), "rgb8", header)
    estimator = load_estimator(metric_model, providers=("cpu",))
    plain = DepthFrameProcessor(messages, estimator, DepthNodeParams(providers=("cpu",)))
    with pytest.raises(CameraModelError, match="fallback_hfov_deg") as err:
        plain.process(image, info)
    assert err.value.reason == "bad_camera_info"
    params = DepthNodeParams(providers=("cpu",), fallback_hfov_deg=90.0)
    out = DepthFrameProcessor(messages, estimator, params).process(image, info)
    assert out.camera_fallback
    cam = out.camera  # 90 degrees: fx = width / 2, centred
    assert (cam.width, cam.height, cam.fx, cam.fy, cam.cx, cam.cy) == pytest.approx((64, 48, 32, 32, 31.5, 23.5))
    assert list(out.info_msg.k) == pytest.approx([32.0, 0, 31.5, 0, 32.0, 23.5, 0, 0, 1])
    assert np.isfinite(out.depth).all()
    calibrated = messages.camera_info(CameraModel(64, 48, 50, 50, 31.5, 23.5), header)
    assert not DepthFrameProcessor(messages, estimator, params).process(image, calibrated).camera_fallback
