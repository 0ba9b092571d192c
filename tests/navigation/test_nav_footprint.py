"""Low obstacles below the view: the frame's in-band footprint, where the camera cannot see, and the window keeping
a low box's whole extent after it has left the view (navigation/footprint.py, footprint_window)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from depth_node.evaluation.scenarios import build_scenario
from depth_node.simulation.in_process import run_scenario
from depth_node.simulation.options import SimOptions
from navigation.footprint import View, footprint_cells
from navigation.freespace import VirtualScanner
from navigation.local_plan import LocalPlanner
from navigation.memory import headings_blocked_by
from navigation.params import ObstacleAvoidanceParams
from tests.navigation.scenes import Box, Pose, camera, render_depth

CAM = camera(160, 120, hfov_deg=64.0)  # the simulator's camera: fx = 0.8 x width
HEIGHT, PITCH = 0.5, 0.05
PARAMS = ObstacleAvoidanceParams(camera_height_m=HEIGHT, camera_pitch_rad=PITCH)
LOW_BOX = Box(1.5, 2.0, -0.25, 0.25, 0.0, 0.12)  # 12 cm high, 0.5 m deep, straight ahead


def _frame(x: float) -> tuple[np.ndarray, tuple[float, float, float]]:
    return render_depth(CAM, [LOW_BOX], Pose(x, 0.0, 0.0), height=HEIGHT, pitch=PITCH), (x, 0.0, 0.0)


def test_the_footprint_holds_the_top_of_a_low_box_the_scan_reduces_to_its_front_edge() -> None:
    scanner = VirtualScanner(PARAMS)
    depth, _ = _frame(0.0)
    scan = scanner.scan(depth, CAM)
    footprint = scanner.footprint(depth, CAM, 3.0)
    assert np.nanmax(scan.ranges[np.isfinite(scan.ranges)]) < 1.6  # one return per bearing: the front face
    ahead = np.abs(footprint.bearings) < 0.1
    # From above, the camera sees the top all the way to the far edge, at the box's height.
    assert footprint.ranges[ahead].max() == pytest.approx(2.0, abs=0.12)  # a pixel row spans ~0.1 m there
    assert footprint.heights[ahead].max() == pytest.approx(0.12, abs=0.01)
    assert np.all(footprint.heights >= PARAMS.footprint_min_height_m)  # the floor is not in it


def test_the_view_sees_low_things_only_beyond_where_the_lowest_row_meets_them() -> None:
    scanner = VirtualScanner(PARAMS)
    view = scanner.footprint(*_frame(0.0)[:1], CAM, 3.0).view
    lowest = math.atan((CAM.height - 1 - CAM.cy) / CAM.fy) + PITCH  # the bottom row's angle below the horizon
    for top in (0.08, 0.12):
        limit = float(view.near_limit(0.0, top))
        assert limit == pytest.approx((HEIGHT - top) / math.tan(lowest), rel=0.03)
        assert not view.sees(0.0, limit - 0.05, top) and view.sees(0.0, limit + 0.05, top)
    assert float(view.near_limit(0.0, 0.9)) == 0.0  # taller than the camera: seen from anywhere in the fan
    assert math.isinf(float(view.near_limit(1.2, 0.9)))  # beside the view
    # Lower than footprint_min_height_m (noisy depth's floor at a wall base) is not trusted to be low: as tall.
    assert view.min_top_m == PARAMS.footprint_min_height_m == 0.07
    assert float(view.near_limit(0.0, 0.05)) == 0.0


def _approach(footprint: bool) -> LocalPlanner:
    """Drive toward the low box from 0 to 1.4 m, a frame every 0.1 m, and integrate each into a window."""
    scanner = VirtualScanner(PARAMS)
    planner = LocalPlanner(6.0, 0.1, 20.0, 3.0)
    for i, x in enumerate(np.arange(0.0, 1.41, 0.1)):
        depth, pose = _frame(float(x))
        scan = scanner.scan(depth, CAM)
        frame = scanner.footprint(depth, CAM, 3.0) if footprint else None
        planner.integrate(0.1 * i, scan.angles, scan.ranges.astype(np.float64), pose, frame, 3)
    return planner


def test_the_window_keeps_a_low_box_after_it_has_gone_below_the_view() -> None:
    """At 1.4 m the box (0.1-0.6 m ahead) is below the view (its top is seen from 0.72 m on); the rays in its
    direction now reach the far floor."""
    held = _approach(footprint=True).occupied_points(1.4)
    on_box = (held[:, 0] > 1.45) & (held[:, 0] < 2.05) & (np.abs(held[:, 1]) < 0.3)
    xs = held[on_box, 0]
    assert xs.size >= 10
    assert xs.min() < 1.6 and xs.max() > 1.9  # front edge to far edge, not a line
    # Without the footprint (the window before footprint_window) the rays through the box, once it was below the
    # view, cleared what had been marked of it: at most the last line seen is left.
    old = _approach(footprint=False).occupied_points(1.4)
    old_x = old[(old[:, 0] > 1.45) & (old[:, 0] < 2.05) & (np.abs(old[:, 1]) < 0.3), 0]
    assert old_x.size == 0 or np.ptp(old_x) < 0.15


def test_the_cells_below_the_view_block_the_headings_into_them() -> None:
    planner = _approach(footprint=True)
    pose = (1.4, 0.0, 0.0)
    view = VirtualScanner(PARAMS).footprint(_frame(1.4)[0], CAM, 3.0).view
    bearings, distances = planner.unseen_near(1.4, pose, 1.0, view)
    assert bearings.size > 0 and np.all(distances < 1.0)
    headings = np.linspace(-0.5, 0.5, 21)
    blocked = headings_blocked_by(headings, bearings, distances, PARAMS.clearance_radius_m)
    assert blocked[10]  # straight ahead, into the box
    # Seen from 2.5 m back the same cells are in view: the frame speaks for them, the window need not.
    far = planner.unseen_near(1.4, (-1.5, 0.0, 0.0), 4.0, view)[0]
    assert far.size == 0


def test_footprint_cells_count_points_and_keep_the_highest() -> None:
    from navigation.footprint import Footprint

    view = View(-0.5, 0.1, np.full(10, 2.0), HEIGHT)
    fp = Footprint(np.zeros(4), np.array([1.01, 1.02, 1.03, 1.55]), np.array([0.1, 0.2, 0.15, 0.3]), view)
    cells = footprint_cells(fp, (0.0, 0.0, 0.0), (-3.0, -3.0), 0.1, 60)
    order = np.argsort(cells.ix)
    assert list(cells.count[order]) == [3, 1]
    assert list(cells.top[order]) == pytest.approx([0.2, 0.3])
    assert cells.x[order][0] == pytest.approx(1.02)


@pytest.mark.parametrize("seed", [7, 11])
def test_low_box_is_passed_without_touching_the_boxes(seed: int) -> None:
    """Oracle depth, low_box seeds 7 and 11: before footprint_window the robot's side swept a box below the view."""
    scenario = build_scenario("low_box", seed)
    before = run_scenario(
        scenario, SimOptions(depth="oracle"), None, nav_params=ObstacleAvoidanceParams(footprint_window=False)
    )
    now = run_scenario(scenario, SimOptions(depth="oracle"), None)
    assert before.collision
    assert now.success and not now.collision


def test_a_cell_seen_lower_than_the_trusted_height_is_cleared_and_blocks_nothing_below_the_view() -> None:
    """A 5 cm bump (the model's floor at a wall base) is kept no longer than any return of the scan."""
    scanner = VirtualScanner(PARAMS)
    bump = Box(1.5, 1.7, -0.1, 0.1, 0.0, 0.055)
    planner = LocalPlanner(6.0, 0.1, 20.0, 3.0)
    for i, x in enumerate((0.0, 0.1)):
        depth = render_depth(CAM, [bump], Pose(x, 0.0, 0.0), height=HEIGHT, pitch=PITCH)
        scan = scanner.scan(depth, CAM)
        planner.integrate(
            0.1 * i, scan.angles, scan.ranges.astype(np.float64), (x, 0.0, 0.0), scanner.footprint(depth, CAM, 3.0), 3
        )
    assert planner.occupied(0.1).any()  # the scan's nearest return marks it
    # Driven up to it (it is below the view now) the ray in its direction reaches the far floor and clears it.
    depth = render_depth(CAM, [bump], Pose(1.0, 0.0, 0.0), height=HEIGHT, pitch=PITCH)
    scan = scanner.scan(depth, CAM)
    footprint = scanner.footprint(depth, CAM, 3.0)
    planner.integrate(0.2, scan.angles, scan.ranges.astype(np.float64), (1.0, 0.0, 0.0), footprint, 3)
    assert planner.unseen_near(0.2, (1.0, 0.0, 0.0), 1.0, footprint.view)[0].size == 0
    assert not planner.occupied(0.2).any()
