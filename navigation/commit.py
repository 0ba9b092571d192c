"""Commitment to a sub-goal: the window's plan chooses a point to drive to, and that choice is kept a while.

The rolling window's plan (:mod:`navigation.local_plan`) is recomputed on every depth frame, and a frame that
shows a little more of the room can move its best point from one way round to the other; the desired heading
then swings with it, the gap follower clamps each swing into a different gap, and the robot turns back and
forth in front of a passage until the run times out (the simulator's ``narrow_gap`` and ``cluttered_room``
failures: the steered heading flipping at about 1 Hz). Here the plan's point is a sub-goal in the odometry
frame, and it stays the sub-goal until

- it is reached (within ``commit_reach_m`` of path),
- it is blocked: the window, inflated as the plan inflates it, has no way to it within the plan's path length
  any more (the same window and inflation the plan itself uses, so the two cannot disagree),
- a way that scores ``commit_switch_m`` better appears (new obstacles make the kept way long),
- or it has been held ``commit_s``.

Its bearing is taken from the current pose, so turning toward it does not move it (a bearing fixed in the
robot frame would). Nothing is remembered beyond the window and ``commit_s``: it is no map.

``commit_s: 0`` switches it off: each frame takes the plan's best point afresh (config/controller_*.yaml).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from navigation.local_plan import Waypoint

# A way to within this of a sub-goal given up counts as a way to that sub-goal again, m.
DROPPED_NEAR_M = 0.5

# (point to keep or None, how much worse it may score than the best) -> the plan's waypoint, or None (enclosed)
PlanQuery = Callable[[tuple[float, float] | None, float], Waypoint | None]


class Commitment:
    """The sub-goal held in the odometry frame, and when it was chosen."""

    def __init__(self, hold_s: float, switch_m: float, reach_m: float, recall_s: float = 0.0) -> None:
        """Args: hold_s: longest a sub-goal is kept (0: off); switch_m: how much better a new way must score to
        replace it; reach_m: path length within which it counts as reached (a new one is chosen), m; recall_s:
        how long a sub-goal given up unreached is remembered (it may not displace the next one; 0: off), s."""
        self.hold_s, self.switch_m, self.reach_m, self.recall_s = hold_s, switch_m, reach_m, recall_s
        self.point: tuple[float, float] | None = None
        self._since = 0.0
        self.dropped: list[tuple[float, float, float]] = []  # (x, y, stamp) of sub-goals given up unreached
        self.switches = 0  # sub-goals chosen (diagnostics, tests)

    def reset(self) -> None:
        """Drop the sub-goal (the plan hands back to the gap follower, or the surroundings were forgotten)."""
        self.point = None
        self.dropped = []

    def choose(self, stamp_s: float, plan: PlanQuery, renew: bool = True, still: bool = True) -> Waypoint | None:
        """The waypoint to steer for now: the held sub-goal while it stands, else the plan's best one (held).

        ``renew`` False (the plan has handed back to the gap follower): only the held sub-goal is driven to,
        until it is reached, blocked or too old; then None, and no new one is chosen. ``still``: whether the
        robot nearly stands still; only then is a sub-goal given up remembered (``recall_s``).
        """
        if self.hold_s <= 0.0:
            return plan(None, 0.0) if renew else None
        keep = self.point if self.point is not None and stamp_s - self._since <= self.hold_s else None
        if keep is None and not renew:
            self.point = None
            return None
        way = plan(keep, self.switch_m)
        if keep is not None and way is not None and (way.x, way.y) != keep and renew and self.recall_s > 0.0:
            held = self._recalled(stamp_s, plan, keep, way, still)
            if held is not None:
                return held
        if way is None:
            self.point = None
            return None
        if keep is not None and (way.x, way.y) == keep:
            if way.path_m > self.reach_m:
                return way
            if not renew:
                self.point = None
                return None
            way = plan(None, 0.0)  # reached: the next sub-goal
            if way is None:
                self.point = None
                return None
        if not renew:  # the held one is blocked or much worse: done
            self.point = None
            return None
        self.point, self._since = (way.x, way.y), float(stamp_s)
        self.switches += 1
        return way

    def _recalled(
        self, stamp_s: float, plan: PlanQuery, keep: tuple[float, float], way: Waypoint, still: bool
    ) -> Waypoint | None:
        """The held sub-goal again when the way replacing it leads to one given up within ``recall_s``.

        In front of a cabinet whose face toward the way was never in view (cluttered_room seed 17, exact depth),
        the window's way to the best sub-goal was blocked at one heading and open at another: turning toward the
        second-best one opened the first again, 3 m better, and turning back to it blocked it; the robot turned
        to and fro in place for 30 s. What a look found stands a while: a sub-goal given up unreached does not
        come back to displace the one held, as long as that one is reachable at all.

        Only a sub-goal given up while the robot nearly stands still is remembered: turning in place, each yaw
        is a look, and a way that closes at one of them was looked at. Driving toward it, a way that closes for
        one frame (the model's soft passage edges: narrow_gap seed 1) is a flicker, and remembered it sent the
        robot round the room instead of through the passage it was entering.
        """
        self.dropped = [d for d in self.dropped if stamp_s - d[2] <= self.recall_s]
        if any(math.hypot(way.x - x, way.y - y) < DROPPED_NEAR_M for x, y, _ in self.dropped):
            held = plan(keep, math.inf)
            if held is not None and (held.x, held.y) == keep:
                return held
        if still:
            self.dropped.append((keep[0], keep[1], float(stamp_s)))
        return None


def passable_heading(
    want: float,
    bearings: npt.NDArray[np.float64],
    distances: npt.NDArray[np.float64],
    radius: float,
    reach_m: float,
    steps: int = 180,
) -> float | None:
    """The heading nearest ``want`` (robot frame) along which the speed law would let the robot move.

    The speed law stops the robot when a point lies in the straight corridor of half-width ``radius`` ahead
    closer than the stop distance; a way followed round a corner whose first heading fails that test is a
    heading the robot turns to and never drives along (the simulator's narrow_gap: stopped at a passage's
    mouth, its corner 2 cm inside the corridor). The same test on every heading of the circle gives the ones
    the robot can take; ``reach_m`` (a little beyond the stop distance) makes it move, not just not stop.

    Args:
        want: The heading the way asks for, rad.
        bearings: Obstacle points (scan returns and the remembered points the speed law reads), rad.
        distances: Their distances, m.
        radius: The corridor's half-width, m.
        reach_m: How far ahead the corridor must be free, m.
        steps: Headings tried round the circle.

    Returns:
        The passable heading nearest ``want`` (``want`` itself when it passes), None when none does.
    """
    headings = np.concatenate(([want], np.linspace(-math.pi, math.pi, steps, endpoint=False)))
    rel = bearings[None, :] - headings[:, None]
    forward = distances[None, :] * np.cos(rel)
    lateral = np.abs(distances[None, :] * np.sin(rel))
    free = ~np.any((forward > 0.0) & (forward < reach_m) & (lateral < radius), axis=1)
    if not free.any():
        return None
    turn = np.abs((headings - want + math.pi) % (2.0 * math.pi) - math.pi)
    return float(headings[int(np.argmin(np.where(free, turn, np.inf)))])


# Below this aim (rad) the robot counts as facing it: no minimum turn.
_FACING_RAD = 0.01


def stall_turn(angular: float, linear: float, aim: float, minimum: float) -> float:
    """angular.z with at least ``minimum`` toward the aim while the speed law holds the robot still.

    Standing still in front of an obstacle with the aim a few degrees off (the edge of a gap, a way round a
    corner), the PID's output is its proportional term on a small error minus an integral wound up by the
    turns before: a few hundredths of a rad/s, and the robot stood for 20 s (cluttered_room seed 12, exact
    depth). A robot that does not move forward can turn at no risk (it is round). ``minimum`` 0 = off.
    """
    if minimum <= 0.0 or linear > 1e-3 or abs(aim) <= _FACING_RAD or abs(angular) >= minimum:
        return angular
    return math.copysign(minimum, aim)
