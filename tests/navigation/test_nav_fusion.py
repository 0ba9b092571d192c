"""Detections x depth -> obstacles, on analytically rendered depth."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from depth_node.errors import ImageDecodeError
from depth_node.types import Detection2D
from navigation.fusion import fuse_detections, robust_depth
from navigation.params import ObstacleAvoidanceParams
from tests.navigation.scenes import Box, Pose, camera, detect, render_depth

CAM = camera(640, 480)
PARAMS = ObstacleAvoidanceParams()


def _truth_distance(box: Box) -> float:
    """Horizontal distance from the scan origin to the middle of the box's front face."""
    return math.hypot(box.x0, 0.5 * (box.y0 + box.y1))


@pytest.mark.parametrize("pitch", [0.0, 0.1, 0.3])
@pytest.mark.parametrize(("x", "y"), [(2.0, 0.0), (1.5, 0.6), (3.0, -0.8)])
def test_distance_within_two_percent(pitch: float, x: float, y: float) -> None:
    params = dataclasses.replace(PARAMS, camera_pitch_rad=pitch)
    box = Box(x, x + 0.1, y - 0.25, y + 0.25, 0.0, 0.7, "panel")
    wall = Box(6.0, 6.2, -10.0, 10.0, 0.0, 3.0)
    depth = render_depth(CAM, [box, wall], pitch=pitch)
    (det,) = detect(CAM, [box], Pose(), pitch=pitch)
    (obs,) = fuse_detections([det], depth, CAM, params)
    assert obs.known
    assert obs.distance_m == pytest.approx(_truth_distance(box), rel=0.02)
    assert obs.bearing_rad == pytest.approx(math.atan2(y, x), abs=0.02)
    assert obs.class_id == "panel"
    assert obs.score == pytest.approx(0.9)


def test_nearest_surface_wins_over_the_background() -> None:
    # The box is drawn 60% too wide and tall: most of it is the wall 4 m away.
    box = Box(2.0, 2.3, -0.2, 0.2, 0.0, 0.6, "box")
    depth = render_depth(CAM, [box, Box(4.0, 4.2, -10, 10, 0, 3)], pitch=0.0)
    (det,) = detect(CAM, [box], Pose(), pitch=0.0)
    big = dataclasses.replace(det, size_x=det.size_x * 1.6, size_y=det.size_y * 1.6)
    (obs,) = fuse_detections([big], depth, CAM, PARAMS)
    assert obs.distance_m == pytest.approx(2.0, rel=0.02)


def test_lateral_extent_is_box_width_times_distance_over_fx() -> None:
    box = Box(2.5, 2.8, -0.35, 0.35, 0.0, 0.6, "sofa")
    depth = render_depth(CAM, [box], pitch=0.0)
    (det,) = detect(CAM, [box], Pose(), pitch=0.0)
    (obs,) = fuse_detections([det], depth, CAM, PARAMS)
    assert obs.lateral_extent_m == pytest.approx(0.7, rel=0.03)
    assert obs.size[0] == obs.lateral_extent_m
    x, _, z = obs.center
    assert z == pytest.approx(obs.depth_m)
    assert abs(x) < 0.02  # centred box: optical x ~ 0


def test_boxes_in_detector_pixels_are_rescaled() -> None:
    box = Box(1.8, 2.1, 0.3, 0.7, 0.0, 0.6, "chair")
    depth = render_depth(CAM, [box], pitch=0.1)
    (det,) = detect(CAM, [box], Pose(), pitch=0.1)
    sx, sy = 320 / CAM.width, 320 / CAM.height
    net = Detection2D(
        (det.center_x + 0.5) * sx - 0.5, (det.center_y + 0.5) * sy - 0.5, det.size_x * sx, det.size_y * sy, "chair"
    )
    net_params = dataclasses.replace(PARAMS, detector_width=320, detector_height=320)
    (a,) = fuse_detections([det], depth, CAM, PARAMS)
    (b,) = fuse_detections([net], depth, CAM, net_params)
    assert b.distance_m == pytest.approx(a.distance_m, rel=1e-3)
    assert b.bearing_rad == pytest.approx(a.bearing_rad, abs=1e-6)
    # The same network box read as image pixels lands elsewhere: the rescale matters.
    (c,) = fuse_detections([net], depth, CAM, PARAMS)
    assert c.bearing_rad != pytest.approx(a.bearing_rad, abs=0.05)


def test_depth_at_another_resolution_than_the_camera() -> None:
    box = Box(2.0, 2.3, -0.6, -0.2, 0.0, 0.6, "chair")
    depth = render_depth(CAM, [box], pitch=0.1)
    (det,) = detect(CAM, [box], Pose(), pitch=0.1)
    half = depth[::2, ::2]  # the depth at 320x240, boxes still in 640x480 camera pixels
    (a,) = fuse_detections([det], depth, CAM, PARAMS)
    (b,) = fuse_detections([det], half, CAM, PARAMS)
    assert b.distance_m == pytest.approx(a.distance_m, rel=0.02)
    assert b.bearing_rad == pytest.approx(a.bearing_rad, abs=0.01)


def test_too_few_valid_pixels_is_unknown_but_keeps_the_bearing() -> None:
    box = Box(2.0, 2.3, 0.2, 0.6, 0.0, 0.6, "chair")
    depth = render_depth(CAM, [box], pitch=0.1)
    (det,) = detect(CAM, [box], Pose(), pitch=0.1)
    depth[:, : CAM.width // 2] = np.nan  # the left half of the image (where the box is) is unknown
    (obs,) = fuse_detections([det], depth, CAM, PARAMS)
    assert not obs.known
    assert math.isnan(obs.distance_m)
    assert obs.bearing_rad > 0.0
    assert obs.valid_pixels < PARAMS.min_valid_pixels


def test_low_scores_are_dropped_and_order_is_kept() -> None:
    depth = render_depth(CAM, [], pitch=0.1)
    dets = [
        Detection2D(100, 400, 40, 40, "a", 0.9),
        Detection2D(300, 400, 40, 40, "b", 0.1),
        Detection2D(500, 400, 40, 40, "c", 0.5),
    ]
    assert [o.class_id for o in fuse_detections(dets, depth, CAM, PARAMS)] == ["a", "c"]


def test_box_outside_the_image_is_unknown() -> None:
    depth = render_depth(CAM, [], pitch=0.1)
    (obs,) = fuse_detections([Detection2D(900, 100, 50, 50, "x")], depth, CAM, PARAMS)
    assert not obs.known
    assert obs.valid_pixels == 0


def test_robust_depth_percentile() -> None:
    depth = np.full((10, 10), 5.0, dtype=np.float32)
    depth[:, :3] = 1.0  # 30% near pixels
    z, n = robust_depth(depth, (4.5, 4.5, 10, 10), margin=0.0, percentile=10.0, min_valid=5)
    assert (z, n) == (1.0, 100)
    z, _ = robust_depth(depth, (4.5, 4.5, 10, 10), margin=0.0, percentile=50.0, min_valid=5)
    assert z == 5.0


def test_not_an_image_is_refused() -> None:
    with pytest.raises(ImageDecodeError, match="2-D"):
        fuse_detections([], np.zeros((4, 4, 3), np.float32), CAM, PARAMS)
