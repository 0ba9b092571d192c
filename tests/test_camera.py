"""CameraInfo -> pinhole model: P over K, rescaling, binning, ROI, refusals."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from depth_node.camera import CameraModel
from depth_node.errors import CameraModelError
from depth_node.msgs import MessageSet, camera_from_info
from tests.conftest import roundtrip

K = (520.9, 0.0, 325.1, 0.0, 521.0, 249.7, 0.0, 0.0, 1.0)
P = (500.0, 0.0, 320.0, 0.0, 0.0, 505.0, 240.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def _info(
    messages: MessageSet,
    k: Any = K,
    p: Any = P,
    width: int = 640,
    height: int = 480,
    binning: int = 0,
    roi: tuple[int, int, int, int] = (0, 0, 0, 0),
) -> Any:
    roi_msg = messages.get("sensor_msgs/msg/RegionOfInterest")(
        x_offset=roi[0], y_offset=roi[1], width=roi[2], height=roi[3], do_rectify=False
    )
    return messages.get("sensor_msgs/msg/CameraInfo")(
        header=messages.header(0, "cam"),
        height=height,
        width=width,
        distortion_model="plumb_bob",
        d=np.zeros(5),
        k=np.asarray(k, float),
        r=np.eye(3).reshape(-1),
        p=np.asarray(p, float),
        binning_x=binning,
        binning_y=binning,
        roi=roi_msg,
    )


def test_intrinsics_from_p_then_k(messages: MessageSet, typestore: Any) -> None:
    cam = camera_from_info(roundtrip(typestore, _info(messages)))
    assert (cam.fx, cam.fy, cam.cx, cam.cy, cam.width, cam.height) == (500.0, 505.0, 320.0, 240.0, 640, 480)
    cam_k = camera_from_info(_info(messages, p=[0.0] * 12))
    assert (cam_k.fx, cam_k.fy, cam_k.cx, cam_k.cy) == (520.9, 521.0, 325.1, 249.7)


def test_rescale_to_image_resolution_keeps_pixel_centres(messages: MessageSet) -> None:
    cam = camera_from_info(_info(messages), image_size=(320, 240))
    assert (cam.width, cam.height) == (320, 240)
    assert cam.fx == pytest.approx(250.0) and cam.fy == pytest.approx(252.5)
    # Pixel u covers [u - 0.5, u + 0.5]: centre 320 at full res is 159.75 at half res, not 160.
    assert cam.cx == pytest.approx((320.0 + 0.5) / 2 - 0.5)
    # Round trip through a rescale is exact, and a 3-D point projects to the matching place.
    back = cam.rescaled(640, 480)
    assert back.cx == pytest.approx(320.0) and back.fx == pytest.approx(500.0)
    full = camera_from_info(_info(messages))
    pt = np.array([0.3, -0.2, 2.0])
    u_full = full.project(pt)
    u_half = cam.project(pt)
    np.testing.assert_allclose((u_full + 0.5) / 2 - 0.5, u_half, atol=1e-9)


def test_binning_and_roi(messages: MessageSet) -> None:
    binned = camera_from_info(_info(messages, binning=2))
    assert (binned.width, binned.height) == (320, 240)
    assert binned.fx == pytest.approx(250.0)
    assert binned.cx == pytest.approx((320.0 + 0.5) / 2 - 0.5)
    roi = camera_from_info(_info(messages, roi=(100, 50, 200, 150)))
    assert (roi.width, roi.height) == (200, 150)
    assert (roi.cx, roi.cy) == (220.0, 190.0) and roi.fx == 500.0


@pytest.mark.parametrize(
    ("k", "p", "match"),
    [
        ((0.0, 0, 320, 0, 500, 240, 0, 0, 1), [0.0] * 12, "fx must be a positive finite"),
        (K, (math.nan, 0, 320, 0, 0, 505, 240, 0, 0, 0, 1, 0), "fx must be a positive finite"),
        (K, (500, 0, 320, 0, 0, math.inf, 240, 0, 0, 0, 1, 0), "fy must be a positive finite"),
        (K, (500, 0, math.nan, 0, 0, 505, 240, 0, 0, 0, 1, 0), "cx must be finite"),
    ],
)
def test_unusable_intrinsics_are_refused(messages: MessageSet, k: Any, p: Any, match: str) -> None:
    with pytest.raises(CameraModelError, match=match):
        camera_from_info(_info(messages, k=k, p=p))


def test_zero_resolution_takes_the_image_size(messages: MessageSet) -> None:
    cam = camera_from_info(_info(messages, width=0, height=0), image_size=(640, 480))
    assert (cam.width, cam.height, cam.fx) == (640, 480, 500.0)
    with pytest.raises(CameraModelError, match="no resolution"):
        camera_from_info(_info(messages, width=0, height=0))


def test_backproject_inverts_project() -> None:
    cam = CameraModel(64, 48, 50.0, 55.0, 30.0, 20.0)
    pts = np.array([[0.1, -0.4, 1.5], [-2.0, 0.3, 7.0]])
    uv = cam.project(pts)
    np.testing.assert_allclose(cam.backproject(uv[:, 0], uv[:, 1], pts[:, 2]), pts)
    assert math.degrees(cam.hfov_rad) == pytest.approx(2 * math.degrees(math.atan(32 / 50)), abs=0.5)
