"""The controller on single rendered scenes (the robot held still): steering, speed, watchdog, PID limits."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import pytest

from depth_node.types import Command, Detection2D, Gap
from navigation.controller import Controller, choose_gap, speed_ramp
from navigation.params import ObstacleAvoidanceParams
from tests.navigation.scenes import Box, Pose, camera, detect, render_depth

CAM = camera()
RATE = 10.0
P = ObstacleAvoidanceParams(control_rate_hz=RATE)


def run_static(
    params: ObstacleAvoidanceParams,
    boxes: Sequence[Box] = (),
    steps: int = 15,
    depth: np.ndarray | None = None,
    yaw: float = 0.0,
) -> list[Command]:
    """Feed the same frame (and its detections) at RATE Hz to a robot that does not move."""
    frame = render_depth(CAM, boxes, pitch=params.camera_pitch_rad) if depth is None else depth
    dets = detect(CAM, boxes, Pose(), pitch=params.camera_pitch_rad)
    controller = Controller(params)
    commands = []
    for i in range(steps):
        t = i / RATE
        controller.update_depth(t, frame, CAM)
        controller.update_detections(t, dets)
        controller.update_odometry(t, yaw)
        commands.append(controller.step(t))
    return commands


def test_box_on_the_left_turns_right() -> None:
    cmds = run_static(P, [Box(1.2, 1.6, 0.0, 0.8)])
    assert all(c.angular_z < 0.0 for c in cmds)
    assert all(c.chosen_heading_rad < -0.2 for c in cmds)
    assert not any(c.blind for c in cmds)


def test_box_on_the_right_turns_left_symmetrically() -> None:
    left = run_static(P, [Box(1.2, 1.6, 0.0, 0.8)])
    right = run_static(P, [Box(1.2, 1.6, -0.8, 0.0)])
    assert all(c.angular_z > 0.0 for c in right)
    for a, b in zip(left, right, strict=True):
        assert b.angular_z == pytest.approx(-a.angular_z, abs=0.03)
        assert b.linear_x == pytest.approx(a.linear_x, abs=0.01)


def test_empty_floor_drives_straight_at_full_speed() -> None:
    cmds = run_static(P, steps=20)
    assert all(c.angular_z == 0.0 for c in cmds)
    assert cmds[-1].linear_x == pytest.approx(P.max_linear_speed)
    assert cmds[-1].clearance_m == math.inf
    assert cmds[-1].reason == "ok"
    # The acceleration limit: never more than max_linear_accel / RATE per step.
    steps = np.diff([0.0] + [c.linear_x for c in cmds])
    assert np.all(steps <= P.max_linear_accel / RATE + 1e-9)
    assert cmds[0].linear_x == pytest.approx(P.max_linear_accel / RATE)


@pytest.mark.parametrize("distance", [0.3, 0.45, 0.6])
def test_wall_close_ahead_stops(distance: float) -> None:
    cmds = run_static(P, [Box(distance, distance + 0.1, -10.0, 10.0, 0.0, 1.5)])
    assert all(c.linear_x == 0.0 for c in cmds)
    assert all(abs(c.angular_z) <= P.max_angular_speed for c in cmds)
    assert cmds[-1].mode == "blocked"
    assert "no free gap" in cmds[-1].reason


def test_obstacle_in_the_corridor_slows_down() -> None:
    # A narrow post 1 m ahead, slightly to the right: the robot steers left of it, and slows.
    cmds = run_static(P, [Box(1.0, 1.1, -0.25, -0.1)], steps=30)
    assert cmds[-1].angular_z > 0.0
    assert 0.0 < cmds[-1].linear_x < P.max_linear_speed


def test_all_nan_depth_is_blind() -> None:
    cmds = run_static(P, depth=np.full((CAM.height, CAM.width), np.nan, np.float32), steps=3)
    for c in cmds:
        assert (c.linear_x, c.angular_z, c.blind) == (0.0, 0.0, True)
        assert "no valid depth" in c.reason


def test_stale_depth_is_blind_until_a_fresh_frame() -> None:
    controller = Controller(P)
    assert controller.step(0.0).reason == "no depth received yet"
    frame = render_depth(CAM)
    controller.update_depth(1.0, frame, CAM)
    for t in np.arange(1.0, 1.0 + P.input_timeout_s, 0.1):
        assert not controller.step(float(t)).blind
    cmd = controller.step(1.0 + P.input_timeout_s + 0.05)
    assert (cmd.linear_x, cmd.angular_z, cmd.blind) == (0.0, 0.0, True)
    assert "stale" in cmd.reason
    controller.update_depth(1.6, frame, CAM)
    assert not controller.step(1.6).blind


def test_failed_frame_stops_at_once_without_deceleration() -> None:
    controller = Controller(P)
    frame = render_depth(CAM)
    for i in range(20):
        controller.update_depth(i / RATE, frame, CAM)
        cruising = controller.step(i / RATE)
    assert cruising.linear_x == pytest.approx(P.max_linear_speed)
    controller.mark_failed(2.0, "model_error: out of memory")
    cmd = controller.step(2.0)
    assert (cmd.linear_x, cmd.angular_z, cmd.blind) == (0.0, 0.0, True)
    assert "out of memory" in cmd.reason
    controller.update_depth(2.1, frame, CAM)
    cmd = controller.step(2.1)
    assert not cmd.blind
    assert cmd.linear_x == pytest.approx(P.max_linear_accel / RATE)  # accelerates again from rest


def test_goal_heading_rep103_and_odometry() -> None:
    left = dataclasses.replace(P, goal_heading_rad=0.4)
    assert all(c.angular_z > 0.0 for c in run_static(left, steps=5))
    # Facing the goal already (odometry yaw = goal): straight on.
    assert all(c.angular_z == pytest.approx(0.0, abs=1e-9) for c in run_static(left, steps=5, yaw=0.4))
    # Goal behind: the aim is the edge of the view and the turn rate is limited.
    fast = dataclasses.replace(P, goal_heading_rad=3.0, kp=10.0, max_angular_accel=100.0)
    cmds = run_static(fast, steps=10)
    assert max(c.angular_z for c in cmds) == pytest.approx(P.max_angular_speed)
    assert all(c.linear_x == 0.0 for c in cmds)  # a goal behind is turned to in place


def test_people_get_more_room() -> None:
    # An object 1.4 m away, beside the corridor: a chair does not slow the robot, a person does, but a
    # person who is not in the way never stops it (the ramp starts at 0 m), or it could not go around.
    chair = run_static(P, [Box(1.3, 1.5, 0.45, 0.85, 0.0, 1.7, "chair")], steps=20)
    person = run_static(P, [Box(1.3, 1.5, 0.45, 0.85, 0.0, 1.7, "person")], steps=20)
    assert chair[-1].linear_x == pytest.approx(P.max_linear_speed, abs=0.01)
    expected = speed_ramp(1.35, 0.0, P.person_slow_distance_m, P.max_linear_speed)
    assert person[-1].linear_x == pytest.approx(expected, abs=0.05)
    assert "person" in person[-1].reason


def test_person_in_the_path_stops_the_robot() -> None:
    # Straight ahead inside person_stop_distance_m: a stop, although the depth alone would allow creeping.
    # (No obstacle memory: the world of run_static does not move while dead reckoning says the robot does.)
    near = dataclasses.replace(P, person_stop_distance_m=1.0, stop_distance_m=0.3, slow_distance_m=0.6, memory_s=0.0)
    cmds = run_static(near, [Box(0.9, 1.1, -0.2, 0.2, 0.0, 1.7, "person")], steps=20)
    assert cmds[-1].linear_x == 0.0
    assert "person" in cmds[-1].reason
    chair = run_static(near, [Box(0.9, 1.1, -0.2, 0.2, 0.0, 1.7, "chair")], steps=20)
    assert chair[-1].linear_x > 0.0


def test_target_is_steered_to_and_not_avoided() -> None:
    follow = dataclasses.replace(P, target_class="bottle")
    target = Box(2.5, 2.6, 0.4, 0.6, 0.0, 0.5, "bottle")
    cmds = run_static(follow, [target])
    assert cmds[-1].mode == "target"
    assert cmds[-1].desired_heading_rad == pytest.approx(math.atan2(0.5, 2.5), abs=0.03)
    assert cmds[-1].chosen_heading_rad == pytest.approx(cmds[-1].desired_heading_rad, abs=1e-9)
    assert cmds[-1].angular_z > 0.0
    assert cmds[-1].target_distance_m == pytest.approx(math.hypot(2.5, 0.5), rel=0.03)
    # Without target_class, the same bottle is only an obstacle and the goal (ahead) is kept.
    assert run_static(P, [target])[-1].mode == "goal"


def test_target_at_the_standoff_stops() -> None:
    follow = dataclasses.replace(P, target_class="bottle", target_standoff_m=1.0)
    cmds = run_static(follow, [Box(0.95, 1.05, -0.1, 0.1, 0.0, 0.5, "bottle")])
    assert cmds[-1].linear_x == 0.0
    assert "standoff" in cmds[-1].reason


def test_stale_detections_fall_back_to_the_goal() -> None:
    follow = dataclasses.replace(P, target_class="bottle")
    target = Box(2.5, 2.6, 0.4, 0.6, 0.0, 0.5, "bottle")
    frame = render_depth(CAM, [target])
    controller = Controller(follow)
    controller.update_detections(0.0, detect(CAM, [target], Pose()))
    controller.update_depth(0.0, frame, CAM)
    assert controller.step(0.0).mode == "target"
    controller.update_depth(0.6, frame, CAM)
    assert controller.step(0.6).mode == "goal"


@pytest.mark.parametrize(("hysteresis", "flips"), [(0.15, False), (0.0, True)])
def test_hysteresis_between_two_equal_gaps(hysteresis: float, flips: bool) -> None:
    # A pillar straight ahead, seen a centimetre left then a centimetre right, frame after frame.
    params = dataclasses.replace(P, gap_hysteresis_rad=hysteresis)
    controller = Controller(params)
    sides = []
    for i in range(12):
        shift = 0.01 if i % 2 else -0.01
        frame = render_depth(CAM, [Box(1.2, 1.4, -0.15 + shift, 0.15 + shift)])
        controller.update_depth(i / RATE, frame, CAM)
        controller.update_odometry(i / RATE, 0.0)
        sides.append(math.copysign(1.0, controller.step(i / RATE).chosen_heading_rad))
    assert (len(set(sides)) > 1) == flips


def test_choose_gap_aims_at_the_middle_of_a_narrow_gap() -> None:
    door = Gap(0.05, 0.15)
    aim, index = choose_gap([door], 0.0, None, centering=0.1, hysteresis=0.0, tolerance=0.01)
    assert (aim, index) == (pytest.approx(0.10), 0)
    # An open edge (end of the view) is not kept away from.
    edge = Gap(-0.7, -0.3, closed_low=False, closed_high=True)
    aim, _ = choose_gap([edge], -1.0, None, centering=0.1, hysteresis=0.0, tolerance=0.01)
    assert aim == pytest.approx(-0.7)


def test_detections_in_network_pixels() -> None:
    follow = dataclasses.replace(P, target_class="bottle", detector_width=320, detector_height=320)
    controller = Controller(follow)
    target = Box(2.5, 2.6, -0.6, -0.4, 0.0, 0.5, "bottle")
    (det,) = detect(CAM, [target], Pose())
    sx, sy = 320 / CAM.width, 320 / CAM.height
    net = Detection2D((det.center_x + 0.5) * sx - 0.5, (det.center_y + 0.5) * sy - 0.5, det.size_x * sx, 10, "bottle")
    controller.update_detections(0.0, [net])
    controller.update_depth(0.0, render_depth(CAM, [target]), CAM)
    cmd = controller.step(0.0)
    assert cmd.desired_heading_rad == pytest.approx(math.atan2(-0.5, 2.5), abs=0.03)


def test_a_reached_goal_point_stops_with_a_zero_twist_not_blind() -> None:
    frame = render_depth(CAM, [], pitch=P.camera_pitch_rad)
    controller = Controller(P)
    controller.set_goal_point(2.0, 0.0)
    commands = []
    for i, x in enumerate((0.0, 0.5, 1.0, 1.5, 1.7)):
        t = i / RATE
        controller.update_depth(t, frame, CAM)
        controller.update_odometry(t, 0.0, x, 0.0)
        commands.append(controller.step(t))
    assert commands[2].linear_x > 0.0 and commands[2].mode == "goal"
    assert (commands[-1].linear_x, commands[-1].angular_z, commands[-1].blind) == (0.0, 0.0, False)
    assert commands[-1].mode == "goal_reached" and "goal reached: 0.30 m" in commands[-1].reason


def _after_a_jump(odom_jump_m: float) -> tuple[Controller, list[Command]]:
    """A box 1.8 m ahead is seen from (0, 0); then the odometry jumps 1.5 m forward while the camera sees open
    floor. Taken as motion, the remembered box lies 0.3 m ahead, in the blind zone under the view."""
    params = dataclasses.replace(P, odom_jump_m=odom_jump_m)
    seen = render_depth(CAM, [Box(1.8, 2.0, -0.4, 0.4)], pitch=params.camera_pitch_rad)
    empty = render_depth(CAM, [], pitch=params.camera_pitch_rad)
    controller = Controller(params)
    for i in range(5):
        t = i / RATE
        controller.update_odometry(t, 0.0, 0.0, 0.0)
        controller.update_depth(t, seen, CAM)
        controller.step(t)
    commands = []
    for i in range(5, 15):
        t = i / RATE
        controller.update_odometry(t, 0.0, 1.5, 0.0)
        controller.update_depth(t, empty, CAM)
        commands.append(controller.step(t))
    return controller, commands


def test_an_odometry_jump_leaves_no_phantom_obstacle() -> None:
    controller, commands = _after_a_jump(odom_jump_m=1.0)
    assert controller.odom_resets == 1
    assert commands[-1].linear_x > 0.3 and commands[-1].reason == "ok"
    # The same inputs with the jump check off: the remembered box blocks the way (what the check prevents).
    kept, stuck = _after_a_jump(odom_jump_m=0.0)
    assert kept.odom_resets == 0 and stuck[-1].linear_x < 0.05


def test_an_odometry_jump_drops_the_remembered_surroundings() -> None:
    params = dataclasses.replace(P, odom_jump_m=1.0)
    frame = render_depth(CAM, [Box(1.0, 1.2, -0.3, 0.3)], pitch=params.camera_pitch_rad)
    controller = Controller(params)
    controller.update_odometry(0.0, 0.0, 0.0, 0.0)
    controller.update_depth(0.0, frame, CAM)
    controller.step(0.0)
    assert controller.odom_resets == 0
    controller.update_odometry(0.1, 0.0, 0.04, 0.0)  # motion
    assert controller.odom_resets == 0
    controller.update_odometry(0.2, 0.0, 5.0, 3.0)  # a reset of the odometry frame
    assert controller.odom_resets == 1
    controller.update_odometry(0.3, 2.0, 5.0, 3.0)  # a jump of the yaw alone
    assert controller.odom_resets == 2
