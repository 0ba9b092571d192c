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

from collections.abc import Callable

from navigation.local_plan import Waypoint

# (point to keep or None, how much worse it may score than the best) -> the plan's waypoint, or None (enclosed)
PlanQuery = Callable[[tuple[float, float] | None, float], Waypoint | None]


class Commitment:
    """The sub-goal held in the odometry frame, and when it was chosen."""

    def __init__(self, hold_s: float, switch_m: float, reach_m: float) -> None:
        """Args: hold_s: longest a sub-goal is kept (0: off); switch_m: how much better a new way must score to
        replace it; reach_m: path length within which it counts as reached (a new one is chosen), m."""
        self.hold_s, self.switch_m, self.reach_m = hold_s, switch_m, reach_m
        self.point: tuple[float, float] | None = None
        self._since = 0.0
        self.switches = 0  # sub-goals chosen (diagnostics, tests)

    def reset(self) -> None:
        """Drop the sub-goal (the plan hands back to the gap follower, or the surroundings were forgotten)."""
        self.point = None

    def choose(self, stamp_s: float, plan: PlanQuery) -> Waypoint | None:
        """The waypoint to steer for now: the held sub-goal while it stands, else the plan's best one (held)."""
        if self.hold_s <= 0.0:
            return plan(None, 0.0)
        keep = self.point if self.point is not None and stamp_s - self._since <= self.hold_s else None
        way = plan(keep, self.switch_m)
        if way is None:
            self.point = None
            return None
        if keep is not None and (way.x, way.y) == keep:
            if way.path_m > self.reach_m:
                return way
            way = plan(None, 0.0)  # reached: the next sub-goal
            if way is None:
                self.point = None
                return None
        self.point, self._since = (way.x, way.y), float(stamp_s)
        self.switches += 1
        return way
