"""A wanted heading outside the view is turned to once (``look_once_s``, navigation/heading.py).

The flip it removes (crowd seed 3 with exact depth, 25 s standing still): the goal lies just beyond the view's
edge, so the robot turns toward it; a few degrees later the goal counts as in view, the only gap is on the other
side and the gap follower turns back; the goal leaves the view again, and so on.
"""

from __future__ import annotations

import math

import numpy as np

from depth_node.types import Scan
from navigation.goals import Goal
from navigation.heading import HeadingDecider
from navigation.params import ObstacleAvoidanceParams

HALF_FOV = 0.54  # rad, about the simulator's camera
BINS = 109


def _scan() -> Scan:
    """Free from 0.2 rad to the left edge of the view, a wall 0.8 m ahead everywhere else (robot frame)."""
    increment = 2.0 * HALF_FOV / (BINS - 1)
    angles = -HALF_FOV + increment * np.arange(BINS)
    ranges = np.where(angles > 0.2, np.inf, 0.8).astype(np.float32)
    return Scan(-HALF_FOV, HALF_FOV, increment, 0.1, 10.0, ranges)


def _aims(look_once_s: float) -> list[float]:
    """The aims of three frames: the goal heading (-0.75 rad in the odometry frame) just outside the view on the
    right, then turned a little toward it (just inside the view's margin), then back where the robot began."""
    params = ObstacleAvoidanceParams(memory_s=0.0, plan_window_m=0.0, look_once_s=look_once_s)
    decider = HeadingDecider(params)
    goal = Goal(-0.75, 0.0)
    scan = _scan()
    aims = []
    for stamp, yaw in ((0.0, 0.0), (0.1, -0.1), (0.2, 0.0)):
        choice = decider.decide(scan, scan.ranges.astype(np.float64), stamp, (0.0, 0.0, yaw), goal, None)
        aims.append(choice.aim)
    return aims


def test_a_goal_looked_at_once_with_no_gap_its_way_is_not_turned_back_to() -> None:
    first, looked, again = _aims(4.0)
    assert math.isclose(first, -0.75)  # outside the view: turned to in place
    assert looked > 0.2  # in view now, and the only gap is on the other side
    assert again > 0.2  # out of view again: the gap is kept, the robot does not turn back


def test_without_it_the_robot_turns_back_and_forth() -> None:
    first, looked, again = _aims(0.0)
    assert math.isclose(first, -0.75) and looked > 0.2
    assert math.isclose(again, -0.75)  # the flip: back to the goal outside the view


def test_the_look_is_forgotten_after_look_once_s() -> None:
    params = ObstacleAvoidanceParams(memory_s=0.0, plan_window_m=0.0, look_once_s=1.0)
    decider = HeadingDecider(params)
    goal, scan = Goal(-0.75, 0.0), _scan()
    for stamp, yaw in ((0.0, 0.0), (0.1, -0.1)):
        decider.decide(scan, scan.ranges.astype(np.float64), stamp, (0.0, 0.0, yaw), goal, None)
    late = decider.decide(scan, scan.ranges.astype(np.float64), 1.5, (0.0, 0.0, 0.0), goal, None)
    assert math.isclose(late.aim, -0.75)
