"""Squeezing: a passage narrower than the safety margin allows is taken slowly, and only when nothing else is free."""

from __future__ import annotations

import dataclasses

import pytest

from navigation.params import ObstacleAvoidanceParams
from navigation.squeeze import squeeze_radius
from tests.navigation.scenes import Box
from tests.navigation.test_nav_controller import run_static

# A 0.25 m robot with the default 0.10 m margin needs 0.70 m; with the 0.05 m squeeze margin 0.60 m.
P = ObstacleAvoidanceParams(control_rate_hz=10.0, robot_radius_m=0.25)
OFF = dataclasses.replace(P, squeeze_margin_m=P.safety_margin_m)


def _wall_with_gap(width: float, distance: float = 1.0) -> list[Box]:
    return [
        Box(distance, distance + 0.1, -10.0, -width / 2, 0.0, 1.5),
        Box(distance, distance + 0.1, width / 2, 10.0, 0.0, 1.5),
    ]


def test_squeeze_radius_is_off_at_or_above_the_safety_margin() -> None:
    assert squeeze_radius(P) == pytest.approx(0.30)
    assert squeeze_radius(OFF) is None
    assert squeeze_radius(dataclasses.replace(P, squeeze_margin_m=0.5)) is None


def test_a_gap_of_one_and_a_half_robot_widths_is_squeezed_through_slowly() -> None:
    walls = _wall_with_gap(0.66)
    blocked = run_static(OFF, walls)[-1]
    assert blocked.mode == "blocked" and blocked.linear_x == 0.0
    squeezed = run_static(P, walls, steps=30)[-1]
    assert squeezed.mode == "goal" and "squeezing" in squeezed.reason, squeezed.reason
    assert 0.0 < squeezed.linear_x <= P.squeeze_speed
    assert abs(squeezed.chosen_heading_rad) < 0.1


def test_a_wide_gap_is_not_squeezed_and_a_wall_still_blocks() -> None:
    wide = run_static(P, _wall_with_gap(1.2), steps=30)[-1]
    assert "squeezing" not in wide.reason
    assert run_static(P, _wall_with_gap(0.4))[-1].mode == "blocked"  # narrower than the robot: no way
