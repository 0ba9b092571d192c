"""The simulated base: exact unicycle integration under speed and acceleration limits."""

from __future__ import annotations

import itertools
import math

import pytest

from depth_node.evaluation.robot import RobotLimits, RobotState, step_unicycle

LIMITS = RobotLimits(max_linear=0.6, max_angular=1.5, max_linear_accel=1.0, max_angular_accel=4.0)


def _drive(state: RobotState, linear: float, angular: float, dt: float, steps: int) -> list[RobotState]:
    states = [state]
    for _ in range(steps):
        states.append(step_unicycle(states[-1], linear, angular, dt, LIMITS))
    return states


@pytest.mark.parametrize("yaw", [0.0, 0.3, -2.5])
def test_straight_line_from_rest_follows_the_acceleration_ramp(yaw: float) -> None:
    v, dt, steps = 0.5, 0.05, 40
    end = _drive(RobotState(1.0, -2.0, yaw), v, 0.0, dt, steps)[-1]
    # Each step first raises the speed by at most accel * dt, then holds it for the whole step.
    speeds = [min((k + 1) * LIMITS.max_linear_accel * dt, v) for k in range(steps)]
    distance = sum(speeds) * dt
    assert distance == pytest.approx(0.1375 + v * dt * (steps - 10), abs=1e-12)  # 10 ramp steps, then 0.5 m/s
    assert end.x == pytest.approx(1.0 + distance * math.cos(yaw), abs=1e-12)
    assert end.y == pytest.approx(-2.0 + distance * math.sin(yaw), abs=1e-12)
    assert (end.yaw, end.v, end.w) == (pytest.approx(yaw, abs=1e-12), pytest.approx(v, abs=1e-12), 0.0)


def test_full_circle_at_steady_state_returns_to_the_start() -> None:
    v, w, yaw0, steps = 0.3, 0.6, 0.4, 200
    radius = v / w
    dt = 2.0 * math.pi / w / steps
    start = RobotState(0.7, -0.2, yaw0, v=v, w=w)
    states = _drive(start, v, w, dt, steps)
    # Turning left: the centre is to the robot's left, one radius away.
    cx, cy = start.x - radius * math.sin(yaw0), start.y + radius * math.cos(yaw0)
    for s in states:
        assert math.hypot(s.x - cx, s.y - cy) == pytest.approx(radius, abs=1e-9)
    half = states[steps // 2]
    assert (half.x, half.y) == (
        pytest.approx(2 * cx - start.x, abs=1e-9),
        pytest.approx(2 * cy - start.y, abs=1e-9),
    )
    end = states[-1]
    assert (end.x, end.y) == (pytest.approx(start.x, abs=1e-9), pytest.approx(start.y, abs=1e-9))
    assert math.cos(end.yaw - yaw0) == pytest.approx(1.0, abs=1e-12)
    assert -math.pi <= end.yaw <= math.pi


def test_arc_integration_does_not_depend_on_the_step_size() -> None:
    start = RobotState(0.0, 0.0, 0.1, v=0.4, w=-0.9)
    one = step_unicycle(start, 0.4, -0.9, 1.0, LIMITS)
    many = _drive(start, 0.4, -0.9, 0.01, 100)[-1]
    assert (many.x, many.y, many.yaw) == (
        pytest.approx(one.x, abs=1e-9),
        pytest.approx(one.y, abs=1e-9),
        pytest.approx(one.yaw, abs=1e-9),
    )


def test_speed_limits_cap_the_command() -> None:
    end = _drive(RobotState(0.0, 0.0, 0.0), 10.0, -10.0, 0.05, 100)[-1]
    assert end.v == pytest.approx(LIMITS.max_linear)
    assert end.w == pytest.approx(-LIMITS.max_angular)
    backwards = _drive(RobotState(0.0, 0.0, 0.0), -10.0, 10.0, 0.05, 100)[-1]
    assert (backwards.v, backwards.w) == (pytest.approx(-LIMITS.max_linear), pytest.approx(LIMITS.max_angular))


@pytest.mark.parametrize(
    ("start", "linear", "angular"),
    [
        (RobotState(0.0, 0.0, 0.0), 10.0, 10.0),  # speeding up
        (RobotState(0.0, 0.0, 0.0, v=0.6, w=1.5), 0.0, -1.5),  # braking, reversing the turn
        (RobotState(0.0, 0.0, 0.0, v=-0.3, w=0.0), 0.6, 0.2),
    ],
)
def test_acceleration_limits_bound_the_change_per_step(start: RobotState, linear: float, angular: float) -> None:
    dt = 0.05
    states = _drive(start, linear, angular, dt, 60)
    for a, b in itertools.pairwise(states):
        assert abs(b.v - a.v) <= LIMITS.max_linear_accel * dt + 1e-12
        assert abs(b.w - a.w) <= LIMITS.max_angular_accel * dt + 1e-12
    # The first step moves by exactly the limit when the command is farther than that.
    first = states[1]
    assert abs(first.v - start.v) == pytest.approx(min(abs(linear - start.v), LIMITS.max_linear_accel * dt))
    assert states[-1].v == pytest.approx(max(-LIMITS.max_linear, min(LIMITS.max_linear, linear)))
    assert states[-1].w == pytest.approx(max(-LIMITS.max_angular, min(LIMITS.max_angular, angular)))


def test_zero_command_stays_put() -> None:
    start = RobotState(1.0, 2.0, 3.0)
    assert step_unicycle(start, 0.0, 0.0, 0.1, LIMITS) == start


@pytest.mark.parametrize("dt", [0.0, -0.05, math.nan])
def test_bad_dt_is_refused(dt: float) -> None:
    with pytest.raises(ValueError, match="dt must be > 0"):
        step_unicycle(RobotState(0.0, 0.0, 0.0), 0.1, 0.0, dt, LIMITS)


@pytest.mark.parametrize(("linear", "angular"), [(math.nan, 0.0), (0.0, math.inf), (-math.inf, 0.0)])
def test_non_finite_command_is_refused(linear: float, angular: float) -> None:
    with pytest.raises(ValueError, match="must be finite"):
        step_unicycle(RobotState(0.0, 0.0, 0.0), linear, angular, 0.05, LIMITS)


@pytest.mark.parametrize("name", ["max_linear", "max_angular", "max_linear_accel", "max_angular_accel", "radius"])
@pytest.mark.parametrize("value", [-0.1, math.nan, math.inf])
def test_limits_are_validated(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"'{name}'"):
        RobotLimits(**{name: value})


def test_zero_limits_are_allowed_and_hold_the_robot() -> None:
    still = RobotLimits(max_linear=0.0, max_angular=0.0)
    end = step_unicycle(RobotState(0.0, 0.0, 0.5), 1.0, 1.0, 0.1, still)
    assert (end.x, end.y, end.yaw, end.v, end.w) == (0.0, 0.0, 0.5, 0.0, 0.0)
