"""Safe start in the NavigationCore: no goal, no motion; enable, cancel, reached: one zero twist, then silence."""

from __future__ import annotations

import dataclasses

import numpy as np

from navigation.core import NavigationCore, TickOutput
from navigation.params import ObstacleAvoidanceParams
from tests.navigation.scenes import Box, Pose, camera, detect, render_depth

CAM = camera()
P = ObstacleAvoidanceParams(control_rate_hz=10.0, diagnostics_period_s=0.1)
T0 = 1_700_000_000_000_000_000
TICK = 100_000_000
FLOOR = render_depth(CAM, pitch=P.camera_pitch_rad)


def run(core: NavigationCore, ticks: int, start: int = 0, depth: np.ndarray = FLOOR) -> list[TickOutput]:
    """Depth and a tick every period (the robot is never blind meanwhile)."""
    outs = []
    for k in range(start, start + ticks):
        core.on_depth(T0 + k * TICK, "cam", depth, CAM)
        outs.append(core.tick(T0 + k * TICK))
    return outs


def published(outs: list[TickOutput]) -> list[tuple[float, float]]:
    return [(o.command.linear_x, o.command.angular_z) for o in outs if o.publish_command]


def test_the_default_parameters_hold_no_goal_and_command_nothing() -> None:
    assert np.isnan(ObstacleAvoidanceParams().goal_heading_rad)
    core = NavigationCore(P)
    outs = run(core, 20)
    assert published(outs) == []
    assert {o.command.mode for o in outs} == {"idle"} and outs[0].status is not None
    assert outs[0].status.state == "idle" and dict(outs[0].status.values)["goal"] == "none"
    assert all(o.frame is not None for o in outs)  # /scan and /obstacles go on without a goal


def test_a_goal_point_drives_and_when_reached_one_zero_twist_then_silence() -> None:
    core = NavigationCore(P)
    core.on_odometry(T0, "odom", 0.0, 0.0, 0.0)
    assert core.on_goal(T0, "odom", 5.0, 0.0)
    outs = run(core, 20)
    assert all(o.publish_command for o in outs) and outs[-1].command.linear_x > 0.2
    core.on_odometry(T0 + 20 * TICK, "odom", 4.9, 0.0, 0.0)  # within goal_tolerance_m
    after = run(core, 10, start=20)
    assert published(after) == [(0.0, 0.0)] and after[0].publish_command
    assert {o.status.state for o in after if o.status is not None} == {"goal reached"}
    core.on_odometry(T0 + 30 * TICK, "odom", 3.0, 0.0, 0.0)  # pushed away: the goal is done, it stays
    assert published(run(core, 5, start=30)) == []


def test_disable_stops_with_one_zero_twist_and_enable_resumes_toward_the_goal_held() -> None:
    core = NavigationCore(dataclasses.replace(P, goal_heading_rad=0.0))
    assert run(core, 10)[-1].command.linear_x > 0.2
    assert "disabled" in core.set_enabled(False)
    off = run(core, 10, start=10)
    assert published(off) == [(0.0, 0.0)] and off[0].status is not None and off[0].status.state == "disabled"
    core.set_enabled(True)
    on = run(core, 10, start=20)
    assert all(o.publish_command for o in on) and on[-1].command.linear_x > 0.2


def test_cancel_drops_the_goal_and_autostart_false_waits() -> None:
    core = NavigationCore(dataclasses.replace(P, goal_heading_rad=0.0, autostart=False))
    assert published(run(core, 10)) == []
    core.set_enabled(True)
    assert run(core, 10, start=10)[-1].command.linear_x > 0.2
    assert "cancelled" in core.cancel_goal()
    outs = run(core, 10, start=20)
    assert published(outs) == [(0.0, 0.0)] and outs[-1].command.mode == "idle"
    core.set_enabled(True)  # enabling brings no goal back
    assert published(run(core, 5, start=30)) == []


def test_blind_while_holding_a_goal_gives_zero_twists_at_every_tick() -> None:
    core = NavigationCore(dataclasses.replace(P, goal_heading_rad=0.0))
    run(core, 5)
    blind = [core.tick(T0 + k * TICK) for k in range(5, 20)]  # no depth any more
    stale = blind[round(P.input_timeout_s * 10) + 1 :]
    assert stale and all(o.publish_command and o.command.blind for o in stale)
    assert set(published(stale)) == {(0.0, 0.0)}


def test_a_target_class_in_view_is_a_goal_and_out_of_view_is_none() -> None:
    params = dataclasses.replace(P, target_class="person")
    core = NavigationCore(params)
    person = [Box(3.0, 3.4, -0.2, 0.2, label="person")]
    depth = render_depth(CAM, person, pitch=params.camera_pitch_rad)
    assert published(run(core, 5, depth=depth)) == []  # the class is configured, but nobody is seen yet
    outs = []
    for k in range(5, 25):
        core.on_detections(T0 + k * TICK, detect(CAM, person, Pose(), pitch=params.camera_pitch_rad))
        core.on_depth(T0 + k * TICK, "cam", depth, CAM)
        outs.append(core.tick(T0 + k * TICK))
    assert all(o.publish_command for o in outs) and outs[-1].command.mode == "target"
    lost = run(core, 15, start=25, depth=depth)  # detections stop: out of view after input_timeout_s
    assert published(lost)[-1] == (0.0, 0.0) and not lost[-1].publish_command and lost[-1].command.mode == "idle"
