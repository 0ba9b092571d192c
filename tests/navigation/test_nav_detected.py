"""Detections as obstacles for steering and the window (navigation/detected.py, detection_obstacles): a low box the
depth lays flat on the floor is placed at its ground contact, closes its bins, and is kept below the view."""

from __future__ import annotations

import math

import numpy as np
import pytest

from depth_node.evaluation.scenarios import build_scenario
from depth_node.simulation.in_process import run_scenario
from depth_node.simulation.options import SimOptions
from depth_node.types import Detection2D, Scan
from navigation.controller import Controller
from navigation.detected import (
    MARK_DEPTH_M,
    DetectedObstacle,
    close_scan,
    detected_obstacles,
    detection_marks,
    missed_by_depth,
)
from navigation.freespace import VirtualScanner
from navigation.fusion import floor_point, fuse_detections
from navigation.local_plan import LocalPlanner
from navigation.memory import headings_blocked_by
from navigation.params import ObstacleAvoidanceParams
from tests.navigation.scenes import Box, Pose, camera, detect, render_depth, world_to_optical

CAM = camera(160, 120, hfov_deg=64.0)  # the simulator's camera
HEIGHT, PITCH = 0.5, 0.05
PARAMS = ObstacleAvoidanceParams(camera_height_m=HEIGHT, camera_pitch_rad=PITCH)
LOW_BOX = Box(1.5, 2.0, -0.25, 0.25, 0.0, 0.12, "box")  # 12 cm high, 0.5 m deep, straight ahead


def _flat(x: float = 0.0) -> np.ndarray:
    """What the network makes of the low box: the floor alone (it lays the box flat)."""
    return render_depth(CAM, [], Pose(x, 0.0, 0.0), height=HEIGHT, pitch=PITCH)


def _exact(x: float = 0.0, boxes: tuple[Box, ...] = (LOW_BOX,)) -> np.ndarray:
    return render_depth(CAM, boxes, Pose(x, 0.0, 0.0), height=HEIGHT, pitch=PITCH)


def _boxes(x: float = 0.0, boxes: tuple[Box, ...] = (LOW_BOX,)) -> list[Detection2D]:
    return detect(CAM, boxes, Pose(x, 0.0, 0.0), height=HEIGHT, pitch=PITCH)


def test_floor_point_places_a_floor_pixel_where_it_is_and_nothing_above_the_horizon() -> None:
    for x, y in ((1.2, 0.0), (2.0, 0.4), (3.5, -0.6)):
        u, v = CAM.project(world_to_optical([x, y, 0.0], Pose(), HEIGHT, PITCH)[None, :])[0]
        contact = floor_point(CAM, float(u), float(v), HEIGHT, PITCH)
        assert contact == pytest.approx((x, y), abs=1e-6)
    horizon_v = CAM.cy - math.tan(PITCH) * CAM.fy
    assert floor_point(CAM, CAM.cx, horizon_v, HEIGHT, PITCH) is None
    assert floor_point(CAM, CAM.cx, horizon_v - 5.0, HEIGHT, PITCH) is None


def test_a_box_laid_flat_is_placed_at_its_ground_contact_not_where_the_depth_puts_it() -> None:
    depth, detections = _flat(), _boxes()
    assert len(detections) == 1
    # The fusion's depth percentile reads the floor behind the box's front edge: too far.
    fused = fuse_detections(detections, depth, CAM, PARAMS)[0]
    assert fused.distance_m > 1.6
    (obstacle,) = detected_obstacles(detections, depth, CAM, PARAMS)
    assert obstacle.forward_m == pytest.approx(1.5, abs=0.04)  # the bottom edge on the floor
    assert not obstacle.clipped
    # Its bearings cover the box's front corners; the window marks it MARK_DEPTH_M deep (the floor under its 2-D box
    # would reach to where its top edge meets the floor, 2.6 m: the shadow of an oblique box is the passage beside it).
    assert obstacle.bearing_low <= math.atan2(-0.25, 1.5) + 0.01 and obstacle.bearing_high >= math.atan2(0.25, 1.5)
    assert obstacle.far_m == pytest.approx(obstacle.forward_m + MARK_DEPTH_M)
    assert obstacle.top_m == PARAMS.footprint_min_height_m  # kept as the lowest low obstacle: never too short


def test_the_nearer_of_depth_and_contact_wins() -> None:
    """A box on a table (its bottom 0.4 m up): the bottom edge meets the floor far behind it; the depth is right."""
    raised = Box(1.2, 1.4, -0.1, 0.1, 0.4, 0.48, "box")
    (obstacle,) = detected_obstacles(_boxes(boxes=(raised,)), _exact(boxes=(raised,)), CAM, PARAMS)
    assert obstacle.forward_m == pytest.approx(1.2, abs=0.05)
    contact = floor_point(CAM, CAM.cx, CAM.cy + 10.0, HEIGHT, PITCH)
    assert contact is not None and contact[0] > 1.4
    # With exact depth of the low box, depth and contact agree.
    (seen,) = detected_obstacles(_boxes(), _exact(), CAM, PARAMS)
    assert seen.forward_m == pytest.approx(1.5, abs=0.04)


def test_which_detections_count() -> None:
    depth = _flat()
    person = Box(1.5, 1.7, 0.5, 0.7, 0.0, 1.7, "person")
    chair = Box(2.5, 2.9, -0.9, -0.5, 0.0, 0.3, "chair")
    boxes = (LOW_BOX, person, chair)
    counted = detected_obstacles(_boxes(boxes=boxes), depth, CAM, PARAMS)
    assert [o.class_id for o in counted] == ["box"]  # the default: boxes; people never (the speed law's)
    every = detected_obstacles(_boxes(boxes=boxes), depth, CAM, PARAMS.with_values(detection_obstacle_classes=("*",)))
    assert [o.class_id for o in every] == ["box", "chair"]
    followed = PARAMS.with_values(target_class="box")
    assert detected_obstacles(_boxes(boxes=boxes), depth, CAM, followed) == []
    # A flat thing whose top edge passes under the band at its contact is driven over, even when the detector boxes
    # it. (The bound is loose: a deep mat's top edge is its far edge, which a 2-D box cannot tell from a box's top.)
    strip = Box(1.5, 1.6, -0.25, 0.25, 0.0, 0.01, "box")
    assert detected_obstacles(_boxes(boxes=(strip,)), _flat(), CAM, PARAMS) == []
    mat = Box(1.5, 2.0, -0.25, 0.25, 0.0, 0.02, "box")
    assert len(detected_obstacles(_boxes(boxes=(mat,)), _flat(), CAM, PARAMS)) == 1


def test_a_box_cut_by_the_image_bottom_is_clipped() -> None:
    near = Box(0.55, 1.0, -0.25, 0.25, 0.0, 0.12, "box")
    (obstacle,) = detected_obstacles(_boxes(boxes=(near,)), _flat(), CAM, PARAMS)
    assert obstacle.clipped
    assert obstacle.forward_m < 1.0  # at most the bottom row's floor point
    marks = detection_marks([obstacle], 0.05, 3.0)
    assert marks.ranges.size == 0  # its contact is not seen: nothing marked


def _scan(ranges: list[float]) -> Scan:
    n = len(ranges)
    return Scan(-0.5, 0.5, 1.0 / (n - 1), 0.05, 5.0, np.array(ranges, dtype=np.float32))


def test_close_scan_closes_the_spanned_bins_at_the_front_line() -> None:
    scan = _scan([math.inf, math.inf, math.inf, math.nan, 0.9, math.inf, math.inf, math.inf, math.inf, math.inf, 2.0])
    obstacle = DetectedObstacle("box", -0.22, 0.04, 1.2, 1.6, 0.07, False)
    closed = close_scan(scan, [obstacle])
    angles = scan.angles  # -0.5 ... 0.5 every 0.1: bins 3, 4 and 5 overlap -0.22 ... 0.04
    inside = np.zeros(angles.size, dtype=bool)
    inside[[3, 4, 5]] = True
    for i in (3, 5):  # an unmeasured and a free bin take the line x = 1.2
        assert closed.ranges[i] == pytest.approx(1.2 / math.cos(angles[i]), rel=1e-5)
    assert closed.ranges[4] == pytest.approx(0.9)  # a nearer return stays
    assert np.array_equal(closed.ranges[~inside], scan.ranges[~inside])
    beyond = DetectedObstacle("box", -0.22, 0.04, 6.0, 6.0, 0.07, False)  # past range_max: nothing
    assert np.array_equal(close_scan(scan, [beyond]).ranges, scan.ranges, equal_nan=True)


def test_only_what_the_depth_does_not_show_counts() -> None:
    scanner = VirtualScanner(PARAMS)
    exact, flat = scanner.scan(_exact(), CAM), scanner.scan(_flat(), CAM)
    obstacles = detected_obstacles(_boxes(), _flat(), CAM, PARAMS)
    assert missed_by_depth(exact, obstacles) == []  # exact depth has the box: the scan and footprint hold it
    assert missed_by_depth(flat, obstacles) == obstacles


def _approach(with_detections: bool) -> tuple[LocalPlanner, object]:
    """Drive toward the low box from 0 to 1.4 m with depth that lays it flat, integrating each frame."""
    scanner = VirtualScanner(PARAMS)
    planner = LocalPlanner(6.0, 0.1, 20.0, 3.0, hold_unseen_m=0.75)
    view = None
    for i, x in enumerate(np.arange(0.0, 1.41, 0.1)):
        depth, pose = _flat(float(x)), (float(x), 0.0, 0.0)
        scan = scanner.scan(depth, CAM)
        footprint = scanner.footprint(depth, CAM, 3.0)
        view = footprint.view
        marks = None
        if with_detections:
            found = missed_by_depth(scan, detected_obstacles(_boxes(float(x)), depth, CAM, PARAMS))
            marks = detection_marks(found, 0.05, 3.0, scan)
        planner.integrate(0.1 * i, scan.angles, scan.ranges.astype(np.float64), pose, footprint, 3, marks)
    return planner, view


def test_the_window_keeps_a_detected_box_the_depth_lays_flat_after_it_drops_below_the_view() -> None:
    planner, view = _approach(with_detections=True)
    held = planner.occupied_points(1.4)
    on_box = (held[:, 0] > 1.45) & (held[:, 0] < 2.05) & (np.abs(held[:, 1]) < 0.3)
    assert on_box.sum() >= 10 and held[on_box, 0].min() < 1.6 and held[on_box, 0].max() > 1.5 + MARK_DEPTH_M - 0.1
    # Below the view now (0.1-0.6 m ahead of the robot at 1.4 m), the cells block the heading into the box.
    bearings, distances = planner.unseen_near(1.4, (1.4, 0.0, 0.0), 1.0, view)
    blocked = headings_blocked_by(np.linspace(-0.5, 0.5, 21), bearings, distances, PARAMS.clearance_radius_m)
    assert blocked[10]
    # Depth alone (today's window): nothing of the box.
    old = _approach(with_detections=False)[0].occupied_points(1.4)
    assert not np.any((old[:, 0] > 1.45) & (old[:, 0] < 2.05) & (np.abs(old[:, 1]) < 0.3))


@pytest.mark.parametrize("on", [True, False])
def test_the_controller_steers_around_a_detected_box_the_depth_lays_flat(on: bool) -> None:
    params = PARAMS.with_values(goal_heading_rad=0.0, detection_obstacles=on, latency_compensation=False)
    controller = Controller(params)
    for i in range(3):
        controller.update_odometry(0.1 * i, 0.0, 0.0, 0.0)
        controller.update_depth(0.1 * i, _flat(), CAM)
        controller.update_detections(0.1 * i, _boxes())
        command = controller.step(0.1 * i + 0.01)
    half = math.atan2(0.25 + PARAMS.clearance_radius_m, 1.5)
    if on:
        assert abs(command.chosen_heading_rad) >= half - 0.05  # round the box
    else:
        assert command.chosen_heading_rad == pytest.approx(0.0, abs=0.02)  # straight into it: the depth is flat


def test_low_box_with_the_shipped_model_is_passed() -> None:
    """low_box seed 3 with the shipped network: it lays the boxes flat; without the detections the robot drives
    into one, with them it reaches the goal."""
    from depth_node.depth_params import DepthNodeParams
    from depth_node.simulation.options import sim_depth_params

    options = SimOptions(depth="model")
    estimator = sim_depth_params(DepthNodeParams(), options).build_estimator(lambda _line: None)
    scenario = build_scenario("low_box", 3)
    before = run_scenario(scenario, options, estimator, nav_params=ObstacleAvoidanceParams(detection_obstacles=False))
    now = run_scenario(scenario, options, estimator)
    assert before.collision
    assert now.success and not now.collision
