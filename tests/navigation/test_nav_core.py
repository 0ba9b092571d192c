"""NavigationCore: the one policy of a control tick that the node, the replay and the simulators share."""

from __future__ import annotations

import math

import numpy as np

from navigation.core import DEAD_RECKONING, ODOMETRY, WARNING, NavigationCore
from navigation.params import ObstacleAvoidanceParams
from tests.navigation.scenes import Box, Pose, camera, detect, render_depth

CAM = camera()
P = ObstacleAvoidanceParams(control_rate_hz=10.0, diagnostics_period_s=1.0, goal_heading_rad=0.0)
T0 = 1_700_000_000_000_000_000
TICK = 100_000_000
FRAME = "cam_optical"


def _depth() -> np.ndarray:
    return render_depth(CAM, [Box(2.0, 2.4, -0.2, 0.2, label="person")], pitch=P.camera_pitch_rad)


def test_a_new_frame_is_published_once_at_the_next_tick_with_its_own_stamp() -> None:
    core = NavigationCore(P)
    boxes = [Box(2.0, 2.4, -0.2, 0.2, label="person")]
    core.on_detections(T0, detect(CAM, boxes, Pose(), pitch=P.camera_pitch_rad))
    assert core.on_depth(T0, FRAME, _depth(), CAM)
    out = core.tick(T0 + TICK // 2)
    assert not out.command.blind and out.publish_command and out.stamp_ns == T0 + TICK // 2
    assert out.frame is not None and (out.frame.stamp_ns, out.frame.frame_id) == (T0, FRAME)
    assert out.frame.scan is not None and [o.class_id for o in out.frame.obstacles] == ["person"]
    assert out.inputs == {"depth_stamp_ns": T0, "depth_frames": 1, "detections_stamp_ns": T0}
    again = core.tick(T0 + TICK)
    assert again.frame is None and not again.command.blind  # the same frame is not published twice


def test_a_blind_tick_stops_and_drops_the_frame() -> None:
    core = NavigationCore(P)
    assert core.tick(T0).command.reason == "no depth received yet"
    assert core.on_depth(T0, FRAME, _depth(), CAM)
    core.on_failed(T0 + 1, "model failed")  # a later frame failed before the tick
    out = core.tick(T0 + TICK)
    assert out.command.blind and (out.command.linear_x, out.command.angular_z) == (0.0, 0.0)
    assert out.frame is None and out.status is None  # still blind, as at the first tick: no new status yet
    assert core.on_depth(T0 + 2 * TICK, FRAME, _depth(), CAM)
    # stale: the frame is older than input_timeout_s at the tick, so it is never published
    late = core.tick(T0 + 2 * TICK + round(1e9 * (P.input_timeout_s + 0.1)))
    assert late.command.blind and "stale" in late.command.reason and late.frame is None


def test_odometry_replaces_dead_reckoning_and_bad_odometry_is_dropped() -> None:
    core = NavigationCore(P)
    assert core.pose_source == DEAD_RECKONING and "dead reckoning" in core.take_notices()[0].text
    assert not core.on_odometry(T0, "odom", math.nan, 0.0, 0.0)
    assert core.counts["bad_odom"] == 1 and core.pose_source == DEAD_RECKONING
    assert core.on_odometry(T0, "odom", 1.0, 2.0, 0.5)
    assert core.pose_source == ODOMETRY and core.controller.pose == (1.0, 2.0, 0.5)
    assert core.inputs["odom_stamp_ns"] == T0
    assert core.on_odometry(T0 + TICK, "world", 1.0, 2.0, 0.5)  # taken, with a warning about the frame
    assert any(n.level == WARNING and "not odom_frame" in n.text for n in core.take_notices())


def test_goals_count_only_in_the_odometry_frame_and_stop_the_robot_when_reached() -> None:
    core = NavigationCore(P)
    assert not core.on_goal(T0, "map", 3.0, 0.0)
    assert not core.on_goal(T0, "odom", math.inf, 0.0)
    assert core.counts["goal_refused"] == 2 and core.controller.goal_point is None
    assert core.on_goal(T0, "odom", 0.2, 0.0)
    core.on_odometry(T0, "odom", 0.0, 0.0, 0.0)
    core.on_depth(T0, FRAME, _depth(), CAM)
    out = core.tick(T0)
    assert out.command.mode == "goal_reached" and not out.command.blind and out.command.linear_x == 0.0
    assert out.status is not None and out.status.state == "goal reached"


def test_the_status_comes_on_a_change_of_state_and_else_every_period() -> None:
    core = NavigationCore(P)
    states = []
    for k in range(25):
        t = T0 + k * TICK
        if k >= 5:
            core.on_depth(t, FRAME, _depth(), CAM)
        out = core.tick(t)
        states.append(None if out.status is None else out.status.state)
    published = [(k, s) for k, s in enumerate(states) if s is not None]
    assert published == [(0, "blind"), (5, "driving"), (15, "driving")]
