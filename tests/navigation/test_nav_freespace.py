"""Floor removal, the virtual scan against known geometry, free gaps and corridor clearance."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest

from depth_node.types import Scan
from navigation.freespace import (
    VirtualScanner,
    corridor_clearance,
    find_gaps,
    free_headings,
    optical_to_base,
    pixel_bearing,
)
from navigation.params import ObstacleAvoidanceParams
from tests.navigation.scenes import Box, camera, render_depth

CAM = camera(160, 120)
PARAMS = ObstacleAvoidanceParams()


def _scan(depth: np.ndarray, **changes: Any) -> Scan:
    return VirtualScanner(dataclasses.replace(PARAMS, **changes)).scan(depth, CAM)


def test_optical_to_base_axes() -> None:
    # Level camera: optical z forward -> x, optical x right -> -y, optical y down -> -z.
    assert optical_to_base([1.0, 2.0, 3.0], 0.3, 0.0) == pytest.approx([3.0, -1.0, 0.3 - 2.0])
    # Pitched 90 degrees down: the optical axis points at the floor.
    assert optical_to_base([0.0, 0.0, 0.3], 0.3, math.pi / 2) == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)
    # Pitched down by 0.2: the optical axis at depth 1 is ahead and lower than the camera.
    assert optical_to_base([0.0, 0.0, 1.0], 0.3, 0.2) == pytest.approx([math.cos(0.2), 0.0, 0.3 - math.sin(0.2)])


def test_pixel_bearing_matches_backprojection_at_any_depth() -> None:
    u, v = np.meshgrid(np.arange(0, 160, 13.0), np.arange(0, 120, 11.0))
    bearing = pixel_bearing(CAM, u, v, 0.25)
    for z in (0.5, 3.0):
        base = optical_to_base(CAM.backproject(u, v, np.full_like(u, z)), 0.3, 0.25)
        assert np.allclose(bearing, np.arctan2(base[..., 1], base[..., 0]))
    assert bearing[0, 0] > 0.0  # the left of the image is positive (REP-103)


def test_scan_fields_follow_laserscan_conventions() -> None:
    scan = _scan(render_depth(CAM, pitch=0.0), camera_pitch_rad=0.0)
    assert scan.ranges.dtype == np.float32
    assert scan.ranges.size == PARAMS.scan_bins
    assert scan.angle_min == pytest.approx(-scan.angle_max)
    assert scan.angle_max - scan.angle_min == pytest.approx((scan.ranges.size - 1) * scan.angle_increment)
    # Level camera: the scan spans the horizontal field of view (to the centres of the edge pixels).
    assert scan.angle_max + scan.angle_increment / 2 == pytest.approx(CAM.hfov_rad / 2, abs=0.01)
    # Pitched: only the bearings every image row sees (a narrower span).
    pitched = _scan(render_depth(CAM, pitch=0.3), camera_pitch_rad=0.3)
    assert pitched.angle_max < scan.angle_max - 0.02
    assert (scan.range_min, scan.range_max) == (PARAMS.scan_range_min_m, PARAMS.scan_range_max_m)


@pytest.mark.parametrize(("height", "pitch"), [(0.3, 0.0), (0.3, 0.1), (0.5, 0.4), (0.15, -0.1)])
def test_empty_floor_has_no_return(height: float, pitch: float) -> None:
    depth = render_depth(CAM, height=height, pitch=pitch)
    scan = _scan(depth, camera_height_m=height, camera_pitch_rad=pitch)
    assert np.all(np.isposinf(scan.ranges))


def test_floor_seen_with_a_wrong_pitch_is_an_obstacle() -> None:
    # The height band only removes the floor when the pitch is right: the test can fail.
    scan = _scan(render_depth(CAM, pitch=0.3), camera_pitch_rad=0.0)
    assert np.any(np.isfinite(scan.ranges))


def test_wall_ranges_match_geometry() -> None:
    d = 2.0
    scan = _scan(render_depth(CAM, [Box(d, d + 0.2, -10.0, 10.0, 0.0, 2.0)]))
    phi = scan.angles
    assert np.all(np.isfinite(scan.ranges))
    # The nearest wall point in a bin is at its edge nearest the axis (centre bin: d itself).
    nearest_angle = np.maximum(np.abs(phi) - scan.angle_increment / 2, 0.0)
    far_angle = np.abs(phi) + scan.angle_increment / 2
    assert np.all(scan.ranges >= d / np.cos(nearest_angle) * 0.995)
    assert np.all(scan.ranges <= d / np.cos(far_angle) * 1.005)


def test_box_on_the_left_fills_only_its_bearings() -> None:
    box = Box(1.5, 1.9, 0.3, 0.9)
    scan = _scan(render_depth(CAM, [box]))
    hit = np.isfinite(scan.ranges)
    phi = scan.angles[hit]
    lo, hi = math.atan2(box.y0, box.x1), math.atan2(box.y1, box.x0)
    assert hit.any()
    assert phi.min() >= lo - scan.angle_increment
    assert phi.max() <= hi + scan.angle_increment
    assert scan.ranges[hit].min() == pytest.approx(math.hypot(box.x0, box.y0), rel=0.02)


@pytest.mark.parametrize(("z0", "z1"), [(0.0, 0.03), (1.0, 1.6)])
def test_objects_outside_the_height_band_are_ignored(z0: float, z1: float) -> None:
    # A doormat (below the band) and a shelf above the robot.
    scan = _scan(render_depth(CAM, [Box(1.0, 1.5, -0.5, 0.5, z0, z1)]))
    assert np.all(np.isposinf(scan.ranges))


def test_range_limits_follow_rep117() -> None:
    near = _scan(render_depth(CAM, [Box(0.4, 0.5, -10, 10, 0, 2)]), scan_range_min_m=0.6)
    assert np.all(np.isneginf(near.ranges))
    far = _scan(render_depth(CAM, [Box(6.0, 6.2, -10, 10, 0, 2)]), scan_range_max_m=5.0)
    assert np.all(np.isposinf(far.ranges))


def test_unknown_depth_is_nan_only_where_nothing_was_measured() -> None:
    assert np.all(np.isnan(_scan(np.full((120, 160), np.nan, np.float32)).ranges))
    depth = render_depth(CAM, [Box(2.0, 2.2, -10, 10, 0, 2)])
    depth[:, :80] = np.nan  # the left half of the image, i.e. the positive angles
    depth[:, 80:90] = 0.0  # 0 is unknown too
    scan = _scan(depth)
    left = scan.angles > 0.1
    assert np.all(np.isnan(scan.ranges[left]))
    assert np.all(np.isfinite(scan.ranges[scan.angles < -0.15]))


def test_pixel_step_gives_nearly_the_same_scan() -> None:
    cam = camera(320, 240)
    depth = render_depth(cam, [Box(1.5, 1.9, 0.3, 0.9), Box(2.5, 2.7, -1.0, -0.2)])
    full = VirtualScanner(PARAMS).scan(depth, cam)
    step = VirtualScanner(dataclasses.replace(PARAMS, scan_pixel_step=2)).scan(depth, cam)
    assert np.array_equal(np.isfinite(full.ranges), np.isfinite(step.ranges))
    close = np.isclose(full.ranges, step.ranges, rtol=0.03)
    assert np.count_nonzero(~close) <= 2  # bins at an object's edge may differ


@pytest.mark.parametrize(("width", "height", "step"), [(64, 48, 1), (160, 120, 2), (80, 60, 1)])
def test_fewer_pixel_columns_than_bins_leave_no_bin_unmeasured(width: int, height: int, step: int) -> None:
    """A bin between two pixel columns takes the nearer column, instead of reading "not measured" (NaN),
    which the controller would take for an obstacle at the lookahead in the middle of an open view."""
    cam = camera(width, height)
    d = 2.0
    scan = VirtualScanner(dataclasses.replace(PARAMS, scan_pixel_step=step)).scan(
        render_depth(cam, [Box(d, d + 0.2, -10.0, 10.0, 0.0, 2.0)]), cam
    )
    assert not np.any(np.isnan(scan.ranges))
    # Each bin reads the wall at (about) its own bearing: one column is at most a pixel's angle away.
    pixel = math.atan(step / cam.fx)
    assert np.all(scan.ranges >= d / np.cos(np.maximum(np.abs(scan.angles) - pixel - scan.angle_increment, 0)) * 0.99)
    assert np.all(scan.ranges <= d / np.cos(np.abs(scan.angles) + pixel + scan.angle_increment) * 1.01)
    # The open floor reads free everywhere, not unknown.
    assert np.all(np.isposinf(VirtualScanner(PARAMS).scan(render_depth(cam), cam).ranges))


def test_a_wide_image_puts_each_pixel_in_one_bin() -> None:
    geometry = VirtualScanner(PARAMS).geometry(CAM)
    assert geometry.nonempty.size == PARAMS.scan_bins
    assert np.unique(geometry.order).size == geometry.order.size  # no pixel borrowed by a second bin


def _synthetic(ranges: list[float], fov: float = 1.2) -> Scan:
    n = len(ranges)
    inc = fov / n
    return Scan(-fov / 2 + inc / 2, fov / 2 - inc / 2, inc, 0.05, 5.0, np.array(ranges, dtype=np.float32))


def test_free_headings_inflate_obstacles_by_the_radius() -> None:
    angles = np.linspace(-0.6, 0.6, 121)
    ranges = np.full(121, np.inf)
    ranges[60] = 1.0  # a point straight ahead at 1 m
    free = free_headings(angles, ranges, 0.3, 2.0, 0.01)
    half = math.asin(0.3 / 1.0) + 0.005
    assert np.array_equal(free, np.abs(angles) >= half)


def test_gaps() -> None:
    inf = math.inf
    assert [(g.closed_low, g.closed_high) for g in find_gaps(_synthetic([inf] * 30), 0.3, 2.0)] == [(False, False)]
    # A point at 1 m in the middle splits the field of view in two gaps.
    gaps = find_gaps(_synthetic([inf] * 15 + [1.0] + [inf] * 14), 0.3, 2.0)
    assert len(gaps) == 2
    assert gaps[0].angle_high < -0.3 < 0.3 < gaps[1].angle_low
    assert not gaps[0].closed_low and gaps[0].closed_high
    # Beyond the lookahead it does not close anything.
    assert len(find_gaps(_synthetic([inf] * 15 + [3.0] + [inf] * 14), 0.3, 2.0)) == 1
    # Within the robot's radius everything is blocked; so is a wall of unknown (NaN) bins at the lookahead.
    assert find_gaps(_synthetic([inf] * 15 + [0.2] + [inf] * 14), 0.3, 2.0) == []
    assert find_gaps(_synthetic([-inf] + [inf] * 29), 0.3, 2.0) == []
    assert len(find_gaps(_synthetic([inf] * 12 + [math.nan] * 6 + [inf] * 12), 0.3, 2.0)) == 2


def test_doorway_gap_is_between_the_posts() -> None:
    posts = [Box(1.5, 1.65, 0.5, 3.0, 0, 1.5), Box(1.5, 1.65, -3.0, -0.5, 0, 1.5)]
    scan = _scan(render_depth(CAM, posts))
    gaps = find_gaps(scan, PARAMS.clearance_radius_m, PARAMS.lookahead_m)
    (gap,) = (g for g in gaps if g.contains(0.0))
    assert gap.closed_low and gap.closed_high
    assert gap.center_rad == pytest.approx(0.0, abs=scan.angle_increment)
    # Post edge at atan(0.5 / 1.5) = 0.322, inflated by asin(0.3 / 1.58) = 0.191 (+ half a bin).
    assert gap.angle_high == pytest.approx(0.322 - 0.191, abs=2 * scan.angle_increment)
    # The wall beyond the lookahead (towards the edges of the view) does not close anything yet.
    assert all(g.angle_low > gap.angle_high or g.angle_high < gap.angle_low for g in gaps if g is not gap)


def test_corridor_clearance() -> None:
    angles = np.array([-0.5, 0.0, 0.5])
    assert corridor_clearance(angles, np.array([np.inf, 1.5, np.inf]), 0.3, 0.01) == pytest.approx(1.5)
    # 2 m at 0.5 rad is 0.96 m to the side: outside a 0.3 m corridor.
    assert corridor_clearance(angles, np.array([2.0, np.inf, 2.0]), 0.3, 0.01) == math.inf
    # 0.5 m at 0.5 rad is 0.24 m to the side and 0.44 m ahead: inside.
    assert corridor_clearance(angles, np.array([0.5, np.inf, np.inf]), 0.3, 0.01) == pytest.approx(0.5 * math.cos(0.5))
