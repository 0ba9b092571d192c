"""The heading decision: where to steer for, from the scan, the remembered surroundings and the goal or target.

The desired heading is the target's bearing, else the goal's (or, once progress stalls, the rolling window's
planned way round); the aim is that heading clamped into the free gap nearest to it, with hysteresis between
gaps. With no gap the robot turns in place, decisively, toward one side. Obstacles that left the view
(:class:`navigation.memory.ObstacleMemory`, :class:`navigation.local_plan.LocalPlanner`) still block headings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from depth_node.types import Gap, Obstacle, Scan
from navigation.commit import Commitment, PlanQuery, passable_heading
from navigation.detected import DetectionMarks
from navigation.footprint import Footprint, unseen_blocks
from navigation.freespace import gaps_from_ranges
from navigation.goals import Goal
from navigation.local_plan import LocalPlanner, Waypoint
from navigation.memory import ObstacleMemory, headings_blocked_by
from navigation.params import ObstacleAvoidanceParams
from navigation.pose import wrap_angle
from navigation.progress import ProgressWatch
from navigation.squeeze import squeeze_radius

# How far beyond the edge of the view a goal still counts as in view (hysteresis against flipping), rad.
VIEW_MARGIN_RAD = 0.15
# A followed way's first heading must leave the straight corridor free this far beyond the stop distance, so
# that the speed law lets the robot move along it (not merely does not stop it), m.
PASSABLE_BEYOND_STOP_M = 0.15
# A wanted heading within this of one looked at (``look_once_s``) counts as already looked at, rad.
LOOKED_TOLERANCE_RAD = 0.3
# Below this speed over the last frame interval the robot counts as standing still: what it finds while turning
# in place is a look (``look_once_s``); what it finds while driving may be a one-frame flicker, m/s.
STILL_MPS = 0.05


def choose_gap(
    gaps: Sequence[Gap], desired: float, previous: float | None, centering: float, hysteresis: float, tolerance: float
) -> tuple[float, int]:
    """The heading to steer for: in the gap whose reachable heading is nearest the desired one.

    In each gap the aim is the desired heading clamped to the gap shrunk by ``min(width / 2,
    centering)`` on each side closed by an obstacle (edges are already inflated by the robot radius and
    margin; the inset adds room, and aims a narrow gap, a doorway, at its middle). An edge that is only
    the end of the field of view is not shrunk: there is nothing to keep away from. The gap holding the
    previous aim gets ``hysteresis`` off its cost, so two equally good gaps do not alternate from frame
    to frame.

    Returns:
        (aim heading, index of the chosen gap); gaps must be non-empty.
    """
    best: tuple[float, float, int] | None = None
    best_aim = 0.0
    for index, gap in enumerate(gaps):
        inset = min(0.5 * gap.width_rad, centering)
        low = gap.angle_low + (inset if gap.closed_low else 0.0)
        high = gap.angle_high - (inset if gap.closed_high else 0.0)
        aim = min(max(desired, low), high)
        cost = abs(aim - desired)
        if previous is not None and gap.angle_low - tolerance <= previous <= gap.angle_high + tolerance:
            cost -= hysteresis
        key = (round(cost, 9), abs(aim), index)
        if best is None or key < best:
            best, best_aim = key, aim
    assert best is not None, "choose_gap needs at least one gap"
    return best_aim, best[2]


def find_gaps(
    params: ObstacleAvoidanceParams,
    angles: npt.NDArray[np.float64],
    ranges: npt.NDArray[np.float64],
    unknown: npt.NDArray[np.bool_],
    increment: float,
    blocked: npt.NDArray[np.bool_],
    radius: float | None = None,
) -> tuple[Gap, ...]:
    """The gaps at ``lookahead_m``; when that closes them all, at shorter horizons down to ``slow_distance_m``.

    A wall across the view 1.5 m ahead closes every gap at a 2 m lookahead, but it is no reason to stop
    yet: the speed ramp slows the robot as it comes nearer, and only an obstacle within the slow distance
    makes the robot turn in place. Unknown bins stay closed at the horizon in use. ``radius``: the half-width
    kept free (default: robot radius plus safety margin; thinner while squeezing, navigation/squeeze.py).
    """
    p = params
    half_width = p.clearance_radius_m if radius is None else radius
    low = min(p.slow_distance_m, p.lookahead_m)
    for horizon in np.linspace(p.lookahead_m, low, 5 if low < p.lookahead_m else 1):
        at_horizon = np.where(unknown & np.isfinite(ranges), float(horizon), ranges)
        gaps = gaps_from_ranges(angles, at_horizon, half_width, float(horizon), increment, blocked)
        if gaps:
            return tuple(gaps)
    return ()


def turn_in_place_heading(
    angles: npt.NDArray[np.float64], ranges: npt.NDArray[np.float64], desired: float, previous: float | None
) -> float:
    """With no gap, turn towards the most open bearing; keep the previous side when it is as good."""
    keys = [
        (-round(float(r), 2), previous is not None and a * previous < 0.0, abs(a - desired), i)
        for i, (a, r) in enumerate(zip(angles, np.minimum(ranges, 1e3), strict=True))
    ]
    return float(angles[min(keys)[3]])


@dataclass(frozen=True)
class HeadingChoice:
    """What the heading decision found.

    Attributes:
        mode: ``goal``, ``target``, ``plan`` (the window's way round steers) or ``blocked`` (turning in place).
        desired: The heading wanted before the gaps (robot frame), rad.
        aim: The heading to steer for, rad.
        gaps: The free gaps found.
        half_fov: Half the scan's field of view (an aim beyond it is turned to in place), rad.
        near_bearings: Remembered points near the robot that limit the speed (robot frame), rad.
        near_distances: Their distances, m.
        radius: The half-width the gaps kept free (thinner while squeezing), m.
        squeezing: Whether the gaps are the thin-margin ones (navigation/squeeze.py).
    """

    mode: str
    desired: float
    aim: float
    gaps: tuple[Gap, ...]
    half_fov: float
    near_bearings: npt.NDArray[np.float64]
    near_distances: npt.NDArray[np.float64]
    radius: float = math.inf
    squeezing: bool = False


class HeadingDecider:
    """Gap follower with the remembered surroundings and the rolling window's plan (one decision per frame)."""

    def __init__(self, params: ObstacleAvoidanceParams) -> None:
        self.params = params
        self._blocked_side = 0.0  # +1 / -1 while turning in place with no gap, 0 otherwise
        self.forget()

    def forget(self) -> None:
        """Drop the obstacle memory, the rolling window, the progress watch and the previous aim.

        For a jump of the odometry frame (a reset, a relocalisation): everything remembered is placed in the
        old frame, and kept it would show up as phantom obstacles where the robot now believes it is.
        """
        plan = self.params.plan
        self.memory = ObstacleMemory(plan.memory_s, plan.memory_range_m)
        self.planner = (
            LocalPlanner(
                plan.plan_window_m,
                plan.plan_resolution_m,
                plan.plan_memory_s,
                plan.plan_range_m,
                hold_unseen_m=plan.plan_hold_unseen_m,
            )
            if plan.plan_window_m > 0.0
            else None
        )
        self.progress = ProgressWatch(plan.plan_after_s)
        commit = self.params.commit
        self.commitment = Commitment(commit.commit_s, commit.commit_switch_m, commit.commit_reach_m, commit.look_once_s)
        self._previous_aim_world: float | None = None
        self._follow_since: float | None = None
        self._looked: tuple[float, float] | None = None  # (wanted heading in the odometry frame, stamp)
        self._last_pose: tuple[float, float, float] | None = None  # (x, y, stamp) of the previous frame

    def _still(self, stamp: float, pose: tuple[float, float, float]) -> bool:
        """Whether the robot moved slower than ``STILL_MPS`` since the previous frame (False on the first)."""
        last, self._last_pose = self._last_pose, (pose[0], pose[1], stamp)
        if last is None or stamp <= last[2]:
            return False
        return math.hypot(pose[0] - last[0], pose[1] - last[1]) < STILL_MPS * (stamp - last[2])

    def _plan_query(self, stamp: float, pose: tuple[float, float, float], goal: Goal, thin: float | None) -> PlanQuery:
        """The window's plan as :class:`navigation.commit.Commitment` asks it: the best waypoint (or the kept one).

        The plan is made with the full inflation and, when squeezing is on, with the thin one; a way that only
        the thin margin leaves counts ``plan_squeeze_cost_m`` longer (a squeeze is slow and tight), and the kept
        sub-goal counts ``commit_switch_m`` shorter, in whichever inflation it is still reachable.
        """
        p, planner = self.params, self.planner
        assert planner is not None

        def query(keep: tuple[float, float] | None, margin: float) -> Waypoint | None:
            best: tuple[float, Waypoint] | None = None
            for inflation, cost in ((p.clearance_radius_m, 0.0), (thin, p.plan_squeeze_cost_m)):
                if inflation is None:
                    continue
                way = planner.waypoint(
                    stamp,
                    pose,
                    goal.point,
                    goal.heading,
                    inflation,
                    p.plan_carrot_m,
                    p.max_linear_speed / max(p.max_angular_speed, 1e-6),
                    keep,
                    margin,
                )
                if way is None:
                    continue
                key = way.score + cost - (margin if keep is not None and (way.x, way.y) == keep else 0.0)
                if best is None or key < best[0]:
                    best = (key, way)
            return None if best is None else best[1]

        return query

    def _follow(self, stamp: float, pose: tuple[float, float, float], inflation: float) -> float | None:
        """Bearing of the point ``commit_follow_m`` along the window's way to the held sub-goal, None without one."""
        planner, point = self.planner, self.commitment.point
        assert planner is not None and point is not None
        way = planner.waypoint(stamp, pose, point, 0.0, inflation, self.params.commit_follow_m, 0.0)
        return None if way is None else way.bearing

    def _looked_at(self, stamp: float, wanted_world: float) -> bool:
        """Whether the wanted heading was looked at within ``look_once_s`` and showed no gap toward it."""
        if self._looked is None or stamp - self._looked[1] > self.params.look_once_s:
            return False
        return abs(wrap_angle(wanted_world - self._looked[0])) <= LOOKED_TOLERANCE_RAD

    def _remember_look(self, stamp: float, in_view: bool, desired: float, yaw: float, gaps: Sequence[Gap]) -> None:
        """Remember a wanted heading seen inside the view (``in_view``: and the plan steers) with gaps elsewhere but
        none leading its way.

        Turned to in place, a wanted heading just outside the view comes into view; when the only gap then lies
        on the other side, the gap follower turns away from it, it leaves the view, and the rule above turned
        the robot back: a flip until the run timed out (cluttered_room 17, crowd 3 with exact depth). Looked at
        once, the result stands for ``look_once_s``. Only while the plan steers: the plain goal-seeking robot
        followed a gap away from the goal for seconds after one look, and met an obstacle elsewhere
        (cluttered_room 3 collided).
        """
        if self.params.look_once_s <= 0.0 or not gaps or not in_view:
            return
        if not any(gap.angle_low <= desired <= gap.angle_high for gap in gaps):
            self._looked = (wrap_angle(desired + yaw), stamp)

    def decide(
        self,
        scan: Scan,
        ranges: npt.NDArray[np.float64],
        stamp: float,
        pose: tuple[float, float, float],
        goal: Goal,
        target: Obstacle | None,
        placed: tuple[Scan, tuple[float, float, float]] | None = None,
        footprint: Footprint | None = None,
        marks: DetectionMarks | None = None,
    ) -> HeadingChoice:
        """The heading for this frame: ``ranges`` are the scan's decision ranges (a followed target removed).

        ``placed``: the frame as taken and the odometry pose at its stamp, when ``scan`` is that frame carried
        to ``pose`` (latency compensation): the memory and the window take the frame where it was taken.
        ``footprint``: the frame's in-band points and view (``footprint_window``, navigation/footprint.py): the
        window keeps low obstacles below the view, and its cells the frame cannot see block headings.
        ``marks``: the cells of the frame's detected obstacles (``detection_obstacles``, navigation/detected.py),
        marked in the window as the frame was taken.
        """
        p = self.params
        angles, yaw, radius = scan.angles, pose[2], p.clearance_radius_m
        taken, taken_pose = placed if placed is not None else (scan, pose)
        taken_ranges = taken.ranges.astype(np.float64)
        thin = squeeze_radius(p)
        goal_heading = goal.heading_from(pose)
        desired = target.bearing_rad if target is not None else wrap_angle(goal_heading - yaw)
        planned = None
        planning = False
        still = self._still(stamp, pose)
        if self.planner is not None:
            self.planner.integrate(
                stamp, taken.angles, taken_ranges, taken_pose, footprint, p.footprint_min_points, marks
            )
            engaged = target is None and self.progress.update(stamp, goal.progress(pose))
            # When the progress watch hands back, the sub-goal held is still driven to: handing back halfway
            # through a passage gave a robot at full speed, its side a few centimetres from the jamb.
            finishing = target is None and not engaged and self.commitment.point is not None
            way = None
            if engaged or finishing:
                way = self.commitment.choose(
                    stamp, self._plan_query(stamp, pose, goal, thin), renew=engaged, still=still
                )
            else:
                self.commitment.reset()
            planning = engaged or way is not None
            if way is not None:
                planned = way.bearing
                desired = planned
        half_fov = max(abs(scan.angle_min), abs(scan.angle_max)) + 0.5 * scan.angle_increment
        bearings, distances = self.memory.outside_view(stamp, pose, half_fov)
        near_b, near_d = bearings, distances  # remembered points that limit the speed
        unseen_b, unseen_d = np.empty(0), np.empty(0)  # the window's cells out of view (footprint_window)
        if self.planner is not None:
            # The window remembers longer than the memory, and it keeps low things close in front that the
            # camera no longer sees (the current scan clears what it sees through): those limit the speed,
            # and while the plan steers, what it holds beside the robot blocks headings too.
            near_b, near_d = self.planner.obstacles_near(stamp, pose, p.memory_range_m)
            if footprint is not None:
                # Low things the frame cannot see (below the view, or beside it: the top of a low box, which the
                # memory's nearest returns reduce to a line) block headings; tall ones beside the view only while
                # the plan steers, as before (door jambs beside the robot would close every narrow passage).
                unseen_b, unseen_d = self.planner.unseen_near(
                    stamp, pose, p.memory_range_m, footprint.view, beside_below_m=p.camera_height_m
                )
            if planning:
                outside = np.abs(near_b) > half_fov
                bearings = np.concatenate([bearings, near_b[outside]])
                distances = np.concatenate([distances, near_d[outside]])
            near_b, near_d = np.concatenate([near_b, bearings]), np.concatenate([near_d, distances])
        blocked = headings_blocked_by(angles, bearings, distances, radius) | unseen_blocks(
            angles, unseen_b, unseen_d, radius
        )
        self.memory.add(stamp, taken.angles, taken_ranges, taken_pose)
        unknown = np.isnan(scan.ranges)
        gaps = find_gaps(p, angles, ranges, unknown, scan.angle_increment, blocked)
        previous = None if self._previous_aim_world is None else wrap_angle(self._previous_aim_world - yaw)
        mode = "target" if target is not None else ("plan" if planning else "goal")
        squeezing = False
        if not gaps and thin is not None:  # no ordinary gap: look again with the thin margin
            thin_blocked = headings_blocked_by(angles, bearings, distances, thin) | unseen_blocks(
                angles, unseen_b, unseen_d, thin
            )
            gaps = find_gaps(p, angles, ranges, unknown, scan.angle_increment, thin_blocked, thin)
            radius, squeezing = (thin, True) if gaps else (radius, False)
        follow = None
        holding = planning and self._follow_since is not None and stamp - self._follow_since < p.commit_follow_hold_s
        if (not gaps or holding) and planning and self.commitment.point is not None and p.commit_follow_m > 0.0:
            follow = self._follow(stamp, pose, thin if thin is not None else radius)
            if follow is not None:
                seen = np.isfinite(scan.ranges)
                points_b = np.concatenate([angles[seen], near_b])
                points_d = np.concatenate([scan.ranges[seen].astype(np.float64), near_d])
                follow = passable_heading(
                    follow,
                    points_b,
                    points_d,
                    thin if thin is not None else radius,
                    p.stop_distance_m + PASSABLE_BEYOND_STOP_M,
                )
        if follow is None:
            self._follow_since = None
        elif self._follow_since is None:
            self._follow_since = stamp
        if follow is not None:
            # No straight gap, but the window has a way to the held sub-goal (round a corner, into a passage at
            # an angle): follow its first steps, slowly, turning in place first when they lie outside the view.
            self._blocked_side = 0.0
            aim, radius, squeezing = follow, thin if thin is not None else radius, True
        elif gaps:
            self._blocked_side = 0.0
            aim, _ = choose_gap(
                gaps, desired, previous, p.gap_centering_rad, p.gap_hysteresis_rad, scan.angle_increment
            )
        else:
            mode = "blocked"
            aim = turn_in_place_heading(angles, ranges, desired, previous)
            # Turn decisively (at least to the edge of the view) toward that side: the way out is usually
            # outside the view, and creeping toward an almost-centred "most open" bin can stall for good.
            # Keep turning the same way while blocked: alternating sides never brings a gap into view. A plan
            # knows the way round, so its side is the one to start with.
            first = planned if planned is not None else (aim if abs(aim) > 1e-3 else (previous or desired or 1.0))
            side = self._blocked_side or first
            self._blocked_side = math.copysign(1.0, side)
            aim = math.copysign(max(abs(aim), half_fov), side)
        # A margin beyond the view's edge: a goal just outside it is reached by aiming at the gap edge nearest
        # to it, and the rule below would otherwise flip on and off at the edge while the robot follows a gap.
        in_view = scan.angle_min - VIEW_MARGIN_RAD <= desired <= scan.angle_max + VIEW_MARGIN_RAD
        if gaps and not in_view and follow is None and not (planning and self._looked_at(stamp, desired + yaw)):
            # A goal outside the view is turned to in place (a round robot cannot hit anything by turning). Not
            # while the window's way is followed: the way knows the sub-goal's straight bearing is blocked, and a
            # sliver gap opening at the view's edge turned the robot back to it each time it turned along the way
            # (thin_legs seed 13, exact depth: rocking in place for 20 s).
            aim = desired
        self._remember_look(stamp, planning and in_view, desired, yaw, gaps)
        self._previous_aim_world = wrap_angle(aim + yaw)
        return HeadingChoice(mode, desired, aim, gaps, half_fov, near_b, near_d, radius, squeezing)
