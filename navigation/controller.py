"""Gap choice + PID heading (simple-pid) + speed from clearance + safety zones + watchdog.

The controller never reads a clock: every input carries its stamp and :meth:`Controller.step` is told
the time, so a bag replay or a simulation gives the same commands as the live node, run after run.

One decision is made per new depth frame (the scan is the measurement): detections are fused with that
depth, the desired heading (goal or target) is chosen, the free gap nearest to it is picked with
hysteresis, and the heading error goes through a simple-pid PID whose ``dt`` is the difference of the
depth stamps. :meth:`Controller.step`, called by the control timer, applies the watchdog (blind: zero
twist at once, with the reason) and the acceleration limits, which only limit speeding up: braking is
never delayed, the same choice a velocity smoother in front of a safety stop would make.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from simple_pid import PID

from depth_node.camera import CameraModel
from depth_node.types import Command, Detection2D, Gap, Obstacle, Scan
from navigation.freespace import VirtualScanner, corridor_clearance, decision_ranges, gaps_from_ranges
from navigation.fusion import fuse_detections
from navigation.local_plan import LocalPlanner, ProgressWatch
from navigation.memory import ObstacleMemory, headings_blocked_by
from navigation.params import ObstacleAvoidanceParams
from navigation.squeeze import squeeze_radius

# A followed target's own scan returns lie within this distance in front of its measured distance.
_TARGET_DEPTH_TOLERANCE_M = 0.3
# A turn between two odometry messages larger than this is a reset of the odometry frame, not motion, rad.
_ODOM_JUMP_RAD = 1.0
# How far beyond the edge of the view a goal still counts as in view (hysteresis against flipping), rad.
_VIEW_MARGIN_RAD = 0.15


def wrap_angle(angle: float) -> float:
    """The same angle in [-pi, pi)."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


def speed_ramp(distance: float, stop: float, slow: float, top: float) -> float:
    """Zero at or below ``stop``, ``top`` at or beyond ``slow``, linear in between."""
    if not distance > stop:  # also catches NaN
        return 0.0
    if distance >= slow:
        return top
    return top * (distance - stop) / (slow - stop)


def _toward(current: float, wanted: float, max_increase: float) -> float:
    """Move ``current`` to ``wanted``, limiting only growth of the magnitude (braking is immediate)."""
    if wanted * current < 0.0:  # a sign change goes through zero first
        current = 0.0
    if abs(wanted) <= abs(current):
        return wanted
    return current + math.copysign(min(abs(wanted) - abs(current), max_increase), wanted)


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


def _in_path(obstacle: Obstacle, aim: float, half_width: float) -> bool:
    """Whether an obstacle overlaps the straight corridor of ``half_width`` along the heading ``aim``."""
    along = obstacle.distance_m * math.cos(obstacle.bearing_rad - aim)
    lateral = abs(obstacle.distance_m * math.sin(obstacle.bearing_rad - aim))
    extent = obstacle.lateral_extent_m if math.isfinite(obstacle.lateral_extent_m) else 0.0
    return along > 0.0 and lateral - 0.5 * extent < half_width


@dataclass(frozen=True)
class Decision:
    """What one depth frame decided (held until the next frame)."""

    stamp_s: float
    mode: str
    reason: str
    desired: float
    aim: float
    angular: float
    linear: float
    clearance: float
    target_distance: float
    gaps: tuple[Gap, ...]


class Controller:
    """The obstacle-avoidance controller: feed it depth, detections and odometry, step it at a fixed rate."""

    def __init__(self, params: ObstacleAvoidanceParams, scanner: VirtualScanner | None = None) -> None:
        """Build the scanner and the PID; no input yet, so the first step is blind.

        Args:
            params: The node's parameters.
            scanner: Depth -> scan stage, injectable for tests and the benchmark (default: a
                :class:`VirtualScanner` of ``params``).
        """
        self.params = params
        self._scanner = scanner or VirtualScanner(params)
        self._pid = PID(
            params.kp,
            params.ki,
            params.kd,
            setpoint=0.0,
            sample_time=None,
            output_limits=(-params.max_angular_speed, params.max_angular_speed),
            time_fn=lambda: 0.0,  # dt is always passed from stamps; never read a clock
        )
        self._depth: npt.NDArray[np.floating] | None = None
        self._camera: CameraModel | None = None
        self._depth_stamp: float | None = None
        self._depth_seq = 0
        self._scan: Scan | None = None
        self._failure: str | None = None
        self._detections: tuple[Detection2D, ...] = ()
        self._detections_stamp: float | None = None
        self._obstacles: list[Obstacle] = []
        self._odom_yaw: float | None = None
        self._odom_xy: tuple[float, float] | None = None
        self._dead_reckoned_xy = (0.0, 0.0)
        self._memory, self._planner, self._progress = self._surroundings(params)
        self.odom_resets = 0  # odometry jumps that dropped the surroundings (see update_odometry)
        self._goal_heading = params.goal_heading_rad
        self._goal_point: tuple[float, float] | None = None
        self._blocked_side = 0.0  # +1 / -1 while turning in place with no gap, 0 otherwise
        self._dead_reckoned_yaw = 0.0
        self._decision: Decision | None = None
        self._decided_seq: int | None = None
        self._previous_aim_world: float | None = None
        self._target_bearing: float | None = None
        self._last_step: float | None = None
        self._linear = 0.0
        self._angular = 0.0

    @staticmethod
    def _surroundings(params: ObstacleAvoidanceParams) -> tuple[ObstacleMemory, LocalPlanner | None, ProgressWatch]:
        planner = (
            LocalPlanner(params.plan_window_m, params.plan_resolution_m, params.plan_memory_s, params.plan_range_m)
            if params.plan_window_m > 0.0
            else None
        )
        return ObstacleMemory(params.memory_s, params.memory_range_m), planner, ProgressWatch(params.plan_after_s)

    def forget_surroundings(self) -> None:
        """Drop the obstacle memory, the rolling window and the progress watch.

        For a jump of the odometry frame (a reset, a relocalisation): everything remembered is placed in the
        old frame, and kept it would show up as phantom obstacles where the robot now believes it is.
        """
        self._memory, self._planner, self._progress = self._surroundings(self.params)
        self._previous_aim_world = None

    # --- inputs ----------------------------------------------------------------------------------

    def update_depth(self, stamp_s: float, depth: npt.NDArray[np.floating], camera: CameraModel) -> Scan | None:
        """Take a depth frame (kept by reference until the next one: do not modify it).

        A frame with too few valid pixels counts as failed (the robot is blind until a good one).

        Returns:
            The virtual scan of the frame, or None when the frame failed.

        Raises:
            ImageDecodeError: the depth is not a 2-D array (the shell logs it and calls :meth:`mark_failed`).
        """
        valid = int(np.count_nonzero(depth > 0.0))  # NaN compares False
        fraction = valid / max(depth.size, 1)
        if fraction < self.params.min_valid_depth_fraction or valid == 0:
            self.mark_failed(
                stamp_s,
                f"no valid depth ({100.0 * fraction:.1f}% valid < {100.0 * self.params.min_valid_depth_fraction:.1f}%)",
            )
            return None
        self._scan = self._scanner.scan(depth, camera)
        self._depth, self._camera, self._depth_stamp = depth, camera, float(stamp_s)
        self._depth_seq += 1
        self._failure = None
        return self._scan

    def update_detections(self, stamp_s: float, detections: Sequence[Detection2D]) -> None:
        """Take the latest detections (boxes in the camera image's pixels, or the detector's)."""
        self._detections = tuple(detections)
        self._detections_stamp = float(stamp_s)

    def update_odometry(self, stamp_s: float, yaw_rad: float, x: float | None = None, y: float | None = None) -> None:
        """Take the robot's pose in the odometry frame; without it the commanded twist is integrated.

        The yaw turns the goal heading into the robot frame; the position (with the yaw) places the
        obstacle memory. Either falls back to dead reckoning of the commands when not given.
        """
        del stamp_s  # the pose is used as the latest value; kept for a uniform input signature
        jumped = self._odom_yaw is not None and abs(wrap_angle(float(yaw_rad) - self._odom_yaw)) > _ODOM_JUMP_RAD
        if x is not None and y is not None and self._odom_xy is not None:
            jumped |= math.hypot(float(x) - self._odom_xy[0], float(y) - self._odom_xy[1]) > self.params.odom_jump_m
        if jumped and self.params.odom_jump_m > 0.0:
            self.forget_surroundings()
            self.odom_resets += 1
        self._odom_yaw = float(yaw_rad)
        if x is not None and y is not None:
            self._odom_xy = (float(x), float(y))

    def set_goal_heading(self, heading_rad: float) -> None:
        """Replace ``goal_heading_rad`` (same frame) and forget any goal point: drive along this heading."""
        self._goal_heading = wrap_angle(float(heading_rad))
        self._goal_point = None

    def set_goal_point(self, x: float, y: float) -> None:
        """Drive to a point of the odometry frame (needs odometry, or dead reckoning from the start pose)."""
        self._goal_point = (float(x), float(y))  # the heading to it is taken at each decision

    def mark_failed(self, stamp_s: float, reason: str) -> None:
        """Record that the last frame could not be used (decode, model, camera info...): blind until a good one."""
        self._failure = f"last depth frame failed at {stamp_s:.3f} s: {reason}"
        self._pid.reset()

    # --- state for the shell (markers, scan publishing) -----------------------------------------

    @property
    def scan(self) -> Scan | None:
        """The virtual scan of the last good depth frame."""
        return self._scan

    def believed_obstacles(self) -> npt.NDArray[np.float64]:
        """What the controller holds beyond the current scan, (N, 2) odometry (x, y): the rolling window's
        occupied cells and the remembered points (for diagnostics: the simulator draws them for failed runs)."""
        if self._depth_stamp is None:
            return np.empty((0, 2))
        held = [self._memory.points(self._depth_stamp)]
        if self._planner is not None:
            held.append(self._planner.occupied_points(self._depth_stamp))
        return np.concatenate(held)

    @property
    def obstacles(self) -> list[Obstacle]:
        """The obstacles fused at the last decision."""
        return list(self._obstacles)

    @property
    def yaw(self) -> float:
        """The robot yaw used for the goal heading: odometry, else dead reckoning of the commands."""
        return self._odom_yaw if self._odom_yaw is not None else self._dead_reckoned_yaw

    @property
    def pose(self) -> tuple[float, float, float]:
        """(x, y, yaw) in the odometry frame: odometry where given, else dead reckoning of the commands."""
        x, y = self._odom_xy if self._odom_xy is not None else self._dead_reckoned_xy
        return x, y, self.yaw

    @property
    def goal_point(self) -> tuple[float, float] | None:
        """The goal point being driven to (odometry frame), None when driving along a heading."""
        return self._goal_point

    @property
    def goal_reached(self) -> str | None:
        """The reason line when a goal point is within ``goal_tolerance_m`` of the pose, else None."""
        if self._goal_point is None or self.params.goal_tolerance_m <= 0.0:
            return None
        x, y, _ = self.pose
        distance = math.hypot(self._goal_point[0] - x, self._goal_point[1] - y)
        if distance > self.params.goal_tolerance_m:
            return None
        return f"goal reached: {distance:.2f} m <= goal_tolerance_m {self.params.goal_tolerance_m:.2f} m"

    # --- control ---------------------------------------------------------------------------------

    def _blind_reason(self, now_s: float) -> str | None:
        if self._failure is not None:
            return self._failure
        if self._depth_stamp is None:
            return "no depth received yet"
        age = now_s - self._depth_stamp
        if age > self.params.input_timeout_s:
            return f"depth stale: last frame {age:.3f} s old > input_timeout_s {self.params.input_timeout_s:.3f} s"
        return None

    def step(self, now_s: float) -> Command:
        """The command to publish now (call at ``control_rate_hz``).

        Blind (no depth, depth older than ``input_timeout_s``, or a failed last frame) gives a zero twist
        at once with the reason; otherwise the latest decision, acceleration-limited.
        """
        default_dt = 1.0 / self.params.control_rate_hz
        dt = default_dt if self._last_step is None else now_s - self._last_step
        if not 0.0 < dt <= 1.0:  # first call, repeated stamp or a clock jump: one nominal period
            dt = default_dt
        self._last_step = now_s
        reason = self._blind_reason(now_s)
        if reason is not None:
            self._linear = self._angular = 0.0
            self._pid.reset()
            self._decided_seq = None
            return Command.stop(reason)
        arrived = self.goal_reached
        if arrived is not None:
            # At the goal: a zero twist, not blind (the depth is fine); the PID restarts for the next goal.
            self._linear = self._angular = 0.0
            self._pid.reset()
            return Command(0.0, 0.0, blind=False, reason=arrived, mode="goal_reached")
        if self._decided_seq != self._depth_seq:
            self._decision = self._decide(now_s)
            self._decided_seq = self._depth_seq
        d = self._decision
        assert d is not None
        p = self.params
        self._linear = _toward(self._linear, d.linear, p.max_linear_accel * dt)
        self._angular = _toward(self._angular, d.angular, p.max_angular_accel * dt)
        heading = self.yaw
        self._dead_reckoned_yaw = wrap_angle(self._dead_reckoned_yaw + self._angular * dt)
        x, y = self._dead_reckoned_xy
        self._dead_reckoned_xy = (x + self._linear * dt * math.cos(heading), y + self._linear * dt * math.sin(heading))
        return Command(
            linear_x=self._linear,
            angular_z=self._angular,
            blind=False,
            reason=d.reason,
            mode=d.mode,
            desired_heading_rad=d.desired,
            chosen_heading_rad=d.aim,
            clearance_m=d.clearance,
            target_distance_m=d.target_distance,
            gaps=d.gaps,
        )

    def _select_target(self, now_s: float) -> Obstacle | None:
        p = self.params
        if not p.target_class:
            return None
        if self._detections_stamp is None or now_s - self._detections_stamp > p.input_timeout_s:
            return None
        candidates = [o for o in self._obstacles if o.class_id == p.target_class]
        if not candidates:
            return None
        previous = self._target_bearing if self._target_bearing is not None else 0.0
        # Highest score; among equals the one nearest the previously followed bearing.
        return min(candidates, key=lambda o: (-o.score, abs(o.bearing_rad - previous)))

    def _decide(self, now_s: float) -> Decision:
        p = self.params
        scan, depth, camera, stamp = self._scan, self._depth, self._camera, self._depth_stamp
        assert scan is not None and depth is not None and camera is not None and stamp is not None
        fresh = self._detections_stamp is not None and now_s - self._detections_stamp <= p.input_timeout_s
        self._obstacles = fuse_detections(self._detections, depth, camera, p) if fresh else []
        target = self._select_target(now_s)
        self._target_bearing = target.bearing_rad if target is not None else None

        angles = scan.angles
        ranges = decision_ranges(scan, p.lookahead_m)
        if target is not None and target.known:
            # The target is in the scan too; it is approached (to the standoff), not avoided.
            half = math.atan2(0.5 * target.lateral_extent_m, max(target.distance_m, 1e-3)) + scan.angle_increment
            mask = (np.abs(angles - target.bearing_rad) <= half) & (
                ranges >= target.distance_m - _TARGET_DEPTH_TOLERANCE_M
            )
            ranges = np.where(mask, np.inf, ranges)

        radius = p.clearance_radius_m
        thin = squeeze_radius(p)
        pose = self.pose
        if self._goal_point is not None:
            self._goal_heading = math.atan2(self._goal_point[1] - pose[1], self._goal_point[0] - pose[0])
        desired = target.bearing_rad if target is not None else wrap_angle(self._goal_heading - self.yaw)
        scan_ranges = scan.ranges.astype(np.float64)
        planned = None
        planning = False
        if self._planner is not None:
            self._planner.integrate(stamp, angles, scan_ranges, pose)
            planning = target is None and self._progress.update(stamp, self._goal_progress(pose))
            if planning:
                for inflation in (radius, thin) if thin is not None else (radius,):
                    planned = self._planner.heading(
                        stamp,
                        pose,
                        self._goal_point,
                        self._goal_heading,
                        inflation,
                        p.plan_carrot_m,
                        p.max_linear_speed / max(p.max_angular_speed, 1e-6),
                    )
                    if planned is not None:  # the full inflation left a way; else plan with the thin one
                        break
                desired = desired if planned is None else planned
        half_fov = max(abs(scan.angle_min), abs(scan.angle_max)) + 0.5 * scan.angle_increment
        bearings, distances = self._memory.outside_view(stamp, pose, half_fov)
        near_b, near_d = bearings, distances  # remembered points that limit the speed
        if self._planner is not None:
            # The window remembers longer than the memory, and it keeps low things close in front that the
            # camera no longer sees (the current scan clears what it sees through): those limit the speed,
            # and while the plan steers, what it holds beside the robot blocks headings too.
            near_b, near_d = self._planner.obstacles_near(stamp, pose, p.memory_range_m)
            if planning:
                outside = np.abs(near_b) > half_fov
                bearings = np.concatenate([bearings, near_b[outside]])
                distances = np.concatenate([distances, near_d[outside]])
            near_b, near_d = np.concatenate([near_b, bearings]), np.concatenate([near_d, distances])
        blocked = headings_blocked_by(angles, bearings, distances, radius)
        self._memory.add(stamp, angles, scan_ranges, pose)
        unknown = np.isnan(scan.ranges)
        gaps = self._find_gaps(angles, ranges, unknown, scan.angle_increment, blocked)
        previous = None if self._previous_aim_world is None else wrap_angle(self._previous_aim_world - self.yaw)
        mode = "target" if target is not None else ("plan" if planning else "goal")
        aim = math.nan
        if gaps:
            aim, _ = choose_gap(
                gaps, desired, previous, p.gap_centering_rad, p.gap_hysteresis_rad, scan.angle_increment
            )
        squeezing = False
        if not gaps and thin is not None:  # no ordinary gap: look again with the thin margin
            thin_blocked = headings_blocked_by(angles, bearings, distances, thin)
            gaps = self._find_gaps(angles, ranges, unknown, scan.angle_increment, thin_blocked, thin)
            if gaps:
                aim, _ = choose_gap(
                    gaps, desired, previous, p.gap_centering_rad, p.gap_hysteresis_rad, scan.angle_increment
                )
                radius, squeezing = thin, True
        if gaps:
            self._blocked_side = 0.0
        else:
            mode = "blocked"
            aim = self._turn_in_place_heading(angles, ranges, desired, previous)
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
        in_view = scan.angle_min - _VIEW_MARGIN_RAD <= desired <= scan.angle_max + _VIEW_MARGIN_RAD
        if gaps and not in_view:
            # A goal outside the view is turned to in place (a round robot cannot hit anything by turning).
            aim = desired
        self._previous_aim_world = wrap_angle(aim + self.yaw)

        # dt from the depth stamps; the first frame (or one after a gap, a repeated stamp or a clock
        # jump) restarts the PID with one nominal period.
        dt = math.nan if self._decision is None else stamp - self._decision.stamp_s
        if not 0.0 < dt <= p.input_timeout_s:
            self._pid.reset()
            dt = 1.0 / p.control_rate_hz
        output = self._pid(-aim, dt=dt)  # setpoint 0, measurement -aim: output = kp * aim + ...
        angular = 0.0 if output is None else float(output)

        clearance = corridor_clearance(angles, ranges, radius, scan.angle_increment)
        # Remembered points beside the robot count too: the first forward metre is often out of view.
        ahead = (near_d * np.cos(near_b) > 0.0) & (np.abs(near_d * np.sin(near_b)) < radius)
        clearance = min(clearance, float(np.min(near_d[ahead] * np.cos(near_b[ahead]), initial=math.inf)))
        linear = speed_ramp(clearance, p.stop_distance_m, p.slow_distance_m, p.max_linear_speed)
        reason = "ok" if linear >= p.max_linear_speed else f"slowing: clearance {clearance:.2f} m"
        if squeezing and linear > p.squeeze_speed:
            linear, reason = p.squeeze_speed, f"squeezing through a narrow gap (margin {p.squeeze_margin_m:.2f} m)"
        for obstacle in self._obstacles:
            if obstacle.class_id in p.person_classes and obstacle.known:
                # A person in the path stops the robot at person_stop_distance_m; one beside it only
                # slows it (stopping for a person who is not in the way would block the way around).
                in_path = _in_path(obstacle, aim, radius)
                stop = p.person_stop_distance_m if in_path else 0.0
                person = speed_ramp(obstacle.distance_m, stop, p.person_slow_distance_m, p.max_linear_speed)
                if person < linear:
                    linear, reason = person, f"slowing: person at {obstacle.distance_m:.2f} m"
        target_distance = math.nan
        if target is not None:
            target_distance = target.distance_m
            ramp = p.slow_distance_m - p.stop_distance_m
            approach = speed_ramp(target_distance, p.target_standoff_m, p.target_standoff_m + ramp, p.max_linear_speed)
            if approach < linear:
                linear, reason = approach, f"approaching target at {target_distance:.2f} m"
            if target.known and target_distance <= p.target_standoff_m:
                reason = f"at target standoff ({target_distance:.2f} m)"
        # Turn towards the aim before driving off sideways; an aim outside the view (the goal or the planned
        # way behind the robot) is turned to in place: the robot cannot see where it would be going.
        linear *= max(0.0, math.cos(aim)) if abs(aim) <= half_fov else 0.0
        if mode == "blocked":
            linear, reason = 0.0, "blocked: no free gap, turning in place"
        self._decision = Decision(
            stamp_s=stamp,
            mode=mode,
            reason=reason,
            desired=desired,
            aim=aim,
            angular=angular,
            linear=linear,
            clearance=clearance,
            target_distance=target_distance,
            gaps=gaps,
        )
        return self._decision

    def _find_gaps(
        self,
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
        makes the robot turn in place. Unknown bins stay closed at the horizon in use.
        """
        p = self.params
        low = min(p.slow_distance_m, p.lookahead_m)
        for horizon in np.linspace(p.lookahead_m, low, 5 if low < p.lookahead_m else 1):
            at_horizon = np.where(unknown & np.isfinite(ranges), float(horizon), ranges)
            half_width = p.clearance_radius_m if radius is None else radius
            gaps = gaps_from_ranges(angles, at_horizon, half_width, float(horizon), increment, blocked)
            if gaps:
                return tuple(gaps)
        return ()

    def _goal_progress(self, pose: tuple[float, float, float]) -> float:
        """How near the goal the robot is (larger is nearer): minus the distance to a goal point, else the
        distance travelled along the goal heading."""
        if self._goal_point is not None:
            return -math.hypot(self._goal_point[0] - pose[0], self._goal_point[1] - pose[1])
        return pose[0] * math.cos(self._goal_heading) + pose[1] * math.sin(self._goal_heading)

    @staticmethod
    def _turn_in_place_heading(
        angles: npt.NDArray[np.float64], ranges: npt.NDArray[np.float64], desired: float, previous: float | None
    ) -> float:
        """With no gap, turn towards the most open bearing; keep the previous side when it is as good."""
        keys = [
            (-round(float(r), 2), previous is not None and a * previous < 0.0, abs(a - desired), i)
            for i, (a, r) in enumerate(zip(angles, np.minimum(ranges, 1e3), strict=True))
        ]
        return float(angles[min(keys)[3]])
