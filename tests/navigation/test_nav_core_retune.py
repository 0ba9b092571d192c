"""Live tuning of the navigation core: new speeds, gains and goal settings take effect at the next tick."""

from __future__ import annotations

import dataclasses
import math

import pytest

from depth_node import params as params_mod
from depth_node.errors import ParameterError
from navigation.core import NavigationCore
from navigation.params import ObstacleAvoidanceParams
from tests.navigation.scenes import camera, render_depth

CAM = camera()
P = ObstacleAvoidanceParams(control_rate_hz=10.0, max_linear_accel=100.0, goal_heading_rad=0.0)  # a goal on purpose
T0 = 1_700_000_000_000_000_000
TICK = 100_000_000
FLOOR = render_depth(CAM, [], pitch=P.camera_pitch_rad)


def drive(core: NavigationCore, ticks: int, start: int = 0) -> float:
    """Feed open floor and tick; the last forward speed."""
    linear = math.nan
    for i in range(start, start + ticks):
        assert core.on_depth(T0 + i * TICK, "cam", FLOOR, CAM)
        linear = core.tick(T0 + i * TICK + TICK // 2).command.linear_x
    return linear


def test_a_lower_speed_limit_holds_from_the_next_tick_and_the_state_is_kept() -> None:
    core = NavigationCore(P)
    assert drive(core, 10) == pytest.approx(P.max_linear_speed)
    frames = core.inputs["depth_frames"]
    core.retune(dataclasses.replace(P, max_linear_speed=0.2))
    assert drive(core, 1, start=10) == pytest.approx(0.2)
    assert core.inputs["depth_frames"] == frames + 1  # nothing was rebuilt


def test_gains_limits_and_goal_heading_reach_the_controller() -> None:
    core = NavigationCore(P)
    core.on_goal(T0, "odom", 5.0, 0.0)
    core.retune(dataclasses.replace(P, kp=3.0, ki=0.0, kd=0.2, max_angular_speed=0.5, goal_heading_rad=1.0))
    pid = core.controller.law._pid
    assert pid.tunings == (3.0, 0.0, 0.2) and pid.output_limits == (-0.5, 0.5)
    assert core.controller.goal_point is None  # a new goal heading replaces the goal point
    core.on_goal(T0, "odom", 5.0, 0.0)
    core.retune(dataclasses.replace(core.params, kp=2.0))  # the same goal heading: the goal point stays
    assert core.controller.goal_point == (5.0, 0.0) and core.controller.law._pid.tunings == (2.0, 0.0, 0.2)
    tuned = dataclasses.replace(core.params, goal_tolerance_m=1.0, odom_jump_m=2.0, lookahead_m=3.0)
    core.retune(tuned)  # every part that keeps a copy gets it
    c = core.controller
    assert (c.goal.tolerance_m, c.tracker.odom_jump_m) == (1.0, 2.0)
    assert c.heading.params is tuned and c.law.params is tuned and core.params is tuned


def test_the_dynamic_flag_covers_the_tuning_and_not_the_wiring() -> None:
    infos = {i.name: i for i in params_mod.describe(ObstacleAvoidanceParams)}
    dynamic = {name for name, info in infos.items() if info.dynamic}
    assert {
        "max_linear_speed",
        "kp",
        "ki",
        "kd",
        "stop_distance_m",
        "goal_heading_rad",
        "min_detection_score",
    } <= dynamic
    structural = {"scan_frame", "odom_frame", "qos_reliability", "control_rate_hz", "stamped", "camera_pitch_rad"}
    assert not dynamic & structural


def test_a_change_that_breaks_a_rule_across_fields_is_refused_by_the_dataclass() -> None:
    values = params_mod.to_flat_dict(P) | {"stop_distance_m": 2.0}  # above slow_distance_m 1.2
    with pytest.raises(ParameterError, match="stop_distance_m"):
        params_mod.from_mapping(ObstacleAvoidanceParams, values)
