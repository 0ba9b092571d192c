"""Latency compensation: a frame placed with the pose at its stamp, carried to the current pose (issue 26)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from depth_node.types import Scan
from navigation.core import NavigationCore
from navigation.latency import DetectionPairing, PoseHistory, carry_scan
from navigation.params import ObstacleAvoidanceParams
from tests.navigation.scenes import Box, Pose, camera, detect, render_depth

CAM = camera()
P = ObstacleAvoidanceParams(control_rate_hz=10.0, goal_heading_rad=0.0, target_class="person")
T0 = 1_700_000_000_000_000_000
MS = 1_000_000
TURN = 1.0  # rad/s, left
BOX = Box(2.0, 2.3, -0.15, 0.15, label="person")  # straight ahead of the start pose, 2 m away


def yaw_at(t_ns: int) -> float:
    return TURN * (t_ns - T0) * 1e-9


def nearest_bearing(scan: Scan) -> float:
    """The bearing of the nearest return of a scan (the box's middle)."""
    r = np.where(np.isfinite(scan.ranges), scan.ranges, np.inf)
    near = np.flatnonzero(r <= r.min() + 0.05)
    return float(np.mean(scan.angles[near]))


def seen_late(compensate: bool) -> tuple[NavigationCore, float]:
    """A robot turning on the spot, odometry at 50 Hz; the frame taken 300 ms before the tick."""
    core = NavigationCore(dataclasses.replace(P, latency_compensation=compensate))
    now = T0 + 400 * MS
    for t in range(T0, now + 1, 20 * MS):
        core.on_odometry(t, "odom", 0.0, 0.0, yaw_at(t))
    taken = now - 300 * MS
    pose = Pose(yaw=yaw_at(taken))
    core.on_detections(taken, detect(CAM, [BOX], pose, pitch=P.camera_pitch_rad))
    assert core.on_depth(taken, "cam", render_depth(CAM, [BOX], pose, pitch=P.camera_pitch_rad), CAM)
    core.tick(now)
    return core, yaw_at(now)


def test_an_obstacle_seen_300_ms_ago_while_turning_lands_where_it_is() -> None:
    core, yaw_now = seen_late(compensate=True)
    truth = -yaw_now  # the box is at world bearing 0: from the robot, to the right by what it turned
    scan = core.controller.decision_scan
    assert scan is not None
    assert nearest_bearing(scan) == pytest.approx(truth, abs=2 * scan.angle_increment)
    # The frame's own scan (published with the frame's stamp) is unchanged: TF places it.
    assert core.controller.scan is not None and nearest_bearing(core.controller.scan) == pytest.approx(
        truth + 0.3, abs=2 * scan.angle_increment
    )
    # The person the detector saw is followed where it is now, not where it was.
    command = core.tick(T0 + 400 * MS).command
    assert command.mode == "target" and command.desired_heading_rad == pytest.approx(truth, abs=0.03)


def test_without_compensation_the_obstacle_is_off_by_what_the_robot_turned() -> None:
    core, yaw_now = seen_late(compensate=False)
    scan = core.controller.decision_scan
    assert scan is not None
    assert nearest_bearing(scan) == pytest.approx(-yaw_now + 0.3, abs=2 * scan.angle_increment)


def test_driving_forward_brings_the_obstacle_nearer() -> None:
    core = NavigationCore(P)
    for k in range(11):  # 0.5 m/s straight on, odometry every 50 ms
        core.on_odometry(T0 + k * 50 * MS, "odom", 0.025 * k, 0.0, 0.0)
    wall = [Box(1.5, 1.7, -2.0, 2.0)]
    core.on_depth(T0 + 200 * MS, "cam", render_depth(CAM, wall, Pose(0.1, 0.0, 0.0), pitch=P.camera_pitch_rad), CAM)
    core.tick(T0 + 500 * MS)  # the robot is at x = 0.25: the wall is 1.25 m ahead, not 1.4 m
    scan = core.controller.decision_scan
    assert scan is not None
    ahead = scan.ranges[scan.ranges.size // 2]
    assert ahead == pytest.approx(1.25, abs=0.03)


def test_without_odometry_the_log_says_latency_cannot_be_compensated() -> None:
    core = NavigationCore(P)
    core.take_notices()
    core.on_depth(T0, "cam", render_depth(CAM, [BOX], pitch=P.camera_pitch_rad), CAM)
    core.tick(T0 + 100 * MS)  # the frame is placed at the first tick after it
    texts = [n.text for n in core.take_notices()]
    assert any("cannot be compensated" in t for t in texts), texts


def test_a_frame_and_the_odometry_of_its_time_may_arrive_in_either_order() -> None:
    """The frame is placed at the tick with the odometry in by then: the order of arrival changes nothing (over
    DDS a depth frame and the odometry of its stamp come from different publishers; a frame placed on arrival took
    the pose of the tick before, and a replay of the recording decided differently from the live node)."""
    wall = [Box(1.5, 1.7, -2.0, 2.0)]
    depth = render_depth(CAM, wall, Pose(0.1, 0.0, 0.0), pitch=P.camera_pitch_rad)
    scans = []
    for frame_first in (False, True):
        core = NavigationCore(P)
        for k in range(4):
            core.on_odometry(T0 + k * 50 * MS, "odom", 0.025 * k, 0.0, 0.0)
        stamp = T0 + 200 * MS
        if frame_first:
            core.on_depth(stamp, "cam", depth, CAM)
        core.on_odometry(stamp, "odom", 0.1, 0.0, 0.0)
        if not frame_first:
            core.on_depth(stamp, "cam", depth, CAM)
        core.on_odometry(T0 + 300 * MS, "odom", 0.15, 0.0, 0.0)
        core.tick(T0 + 300 * MS)
        assert core.controller.decision_scan is not None
        scans.append(core.controller.decision_scan.ranges)
    np.testing.assert_array_equal(scans[0], scans[1])
    ahead = scans[1][scans[1].size // 2]
    assert ahead == pytest.approx(1.4 - 0.05, abs=0.03)  # the frame at x = 0.1, the robot at 0.15


def test_pose_history_interpolates_across_the_wrap() -> None:
    history = PoseHistory(horizon_s=1.0)
    assert history.at(T0) is None
    history.add(T0, (0.0, 0.0, math.pi - 0.1))
    history.add(T0 + 100 * MS, (1.0, 0.0, -math.pi + 0.1))
    x, _, yaw = history.at(T0 + 50 * MS) or (0.0, 0.0, 0.0)
    assert x == pytest.approx(0.5) and abs(yaw) == pytest.approx(math.pi)
    assert history.at(T0 - MS) == (0.0, 0.0, math.pi - 0.1)  # before: the oldest
    history.add(T0 + 2000 * MS, (2.0, 0.0, 0.0))  # the first two fall beyond the horizon
    assert len(history) == 1


def test_a_scan_carried_without_motion_is_the_same_scan() -> None:
    ranges = np.array([np.nan, np.inf, 2.0, 2.0, -np.inf, 3.0], np.float32)
    scan = Scan(-0.25, 0.25, 0.1, 0.2, 10.0, ranges)
    carried = carry_scan(scan, (1.0, 2.0, 0.3), (1.0, 2.0, 0.3))
    np.testing.assert_allclose(carried.ranges, ranges, atol=1e-5)


def test_detections_pair_with_the_depth_frame_of_the_nearest_stamp() -> None:
    pairing = DetectionPairing(tolerance_ns=20 * MS)
    assert not pairing.on_detections(T0, ["a"])  # before its frame: kept
    assert pairing.on_frame(T0 + 5 * MS) == (T0, ["a"])
    assert pairing.on_detections(T0 + 8 * MS, ["b"])  # the current frame's: used now
    assert pairing.on_frame(T0 + 100 * MS) is None
    assert not pairing.on_detections(T0 + 3 * MS, ["late"]) and pairing.dropped == 1  # an old frame's
    assert not pairing.on_detections(T0 + 160 * MS, ["early"])
    assert pairing.on_frame(T0 + 200 * MS) is None and pairing.dropped == 2  # its frame never came


def test_unpaired_detections_are_counted_by_the_core() -> None:
    core = NavigationCore(P)
    core.on_depth(T0 + 100 * MS, "cam", render_depth(CAM, [BOX], pitch=P.camera_pitch_rad), CAM)
    core.on_detections(T0, detect(CAM, [BOX], Pose(), pitch=P.camera_pitch_rad))  # 100 ms from any frame
    assert core.counts["detections_unpaired"] == 1 and core.inputs["detections_unpaired"] == 1


def test_an_odometry_reset_keeps_only_the_pose_after_it() -> None:
    core = NavigationCore(P)
    core.on_odometry(T0, "odom", 0.0, 0.0, 0.0)
    core.on_odometry(T0 + 100 * MS, "odom", 5.0, 0.0, 0.0)  # a jump beyond odom_jump_m: a reset
    core.on_depth(T0 + 50 * MS, "cam", render_depth(CAM, [BOX], pitch=P.camera_pitch_rad), CAM)
    core.tick(T0 + 100 * MS)
    # The frame is placed with the only pose in the new frame, not half-way across the jump.
    scan = core.controller.decision_scan
    assert scan is not None and nearest_bearing(scan) == pytest.approx(0.0, abs=2 * scan.angle_increment)
    assert float(np.nanmin(scan.ranges[np.isfinite(scan.ranges)])) == pytest.approx(2.0, abs=0.1)
    assert core.controller.odom_resets == 1
