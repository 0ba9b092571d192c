"""The obstacle-avoidance controller: one decision per depth frame, one command per control tick.

The controller never reads a clock: every input carries its stamp and :meth:`Controller.step` is told
the time, so a bag replay or a simulation gives the same commands as the live node, run after run.

One decision is made per new depth frame (the scan is the measurement): detections are fused with that
depth, those of ``detection_obstacle_classes`` that the depth does not show close their scan bins at their
ground contact and mark the window (:mod:`navigation.detected`), the followed target (if any) is chosen, the
heading decision (:mod:`navigation.heading`: gap follower
and local plan) picks the aim, and the speed and turn law (:mod:`navigation.speed_law`: simple-pid with
``dt`` from the depth stamps, speed from the clearance and people) turns it into a twist.
:meth:`Controller.step`, called by the control timer, applies the watchdog (blind: zero twist at once, with
the reason), the goal (:mod:`navigation.goals`) and the acceleration limits, and dead-reckons the pose
(:mod:`navigation.pose`) where odometry is missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel
from depth_node.types import Command, Detection2D, Gap, Obstacle, Scan
from navigation.commit import stall_turn
from navigation.detected import (
    DetectedObstacle,
    close_scan,
    detected_obstacles,
    detection_marks,
    missed_by_depth,
)
from navigation.footprint import Footprint
from navigation.freespace import VirtualScanner, corridor_clearance, decision_ranges
from navigation.fusion import fuse_detections
from navigation.goals import Goal
from navigation.heading import HeadingDecider, choose_gap
from navigation.latency import Pose2D, carry_obstacle, carry_scan
from navigation.params import ObstacleAvoidanceParams
from navigation.pose import PoseTracker, wrap_angle
from navigation.speed_law import SpeedLaw, speed_ramp

__all__ = ["Controller", "Decision", "choose_gap", "speed_ramp", "wrap_angle"]

# A followed target's own scan returns lie within this distance in front of its measured distance.
_TARGET_DEPTH_TOLERANCE_M = 0.3


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
        """Build the parts; no input yet, so the first step is blind.

        Args:
            params: The node's parameters.
            scanner: Depth -> scan stage, injectable for tests and the benchmark (default: a
                :class:`VirtualScanner` of ``params``).
        """
        self.params = params
        self._scanner = scanner or VirtualScanner(params)
        self.tracker = PoseTracker(params.odom_jump_m)
        # Unset (NaN): the core gives no command without a goal; this stage still needs a number to aim at.
        heading = params.goal_heading_rad if math.isfinite(params.goal_heading_rad) else 0.0
        self.goal = Goal(heading, params.goal_tolerance_m)
        self.heading = HeadingDecider(params)
        self.law = SpeedLaw(params)
        self._depth: npt.NDArray[np.floating] | None = None
        self._camera: CameraModel | None = None
        self._depth_stamp: float | None = None
        self._depth_seq = 0
        self._scan: Scan | None = None
        self._footprint: Footprint | None = None
        self._failure: str | None = None
        self._detections: tuple[Detection2D, ...] = ()
        self._detections_stamp: float | None = None
        self._obstacles: list[Obstacle] = []
        self._frame_pose: Pose2D | None = None  # the odometry pose at the current frame's stamp
        self._frame_interval = 0.0  # between the last two frames (how long a decision is held), s
        self.decision_scan: Scan | None = None  # the scan the last decision took, seen from the pose then
        self._decision: Decision | None = None
        self._decided_seq: int | None = None
        self._target_bearing: float | None = None
        self._last_step: float | None = None

    def forget_surroundings(self) -> None:
        """Drop the obstacle memory, the rolling window and the progress watch (see :meth:`HeadingDecider.forget`)."""
        self.heading.forget()

    # --- inputs ----------------------------------------------------------------------------------

    def update_depth(
        self,
        stamp_s: float,
        depth: npt.NDArray[np.floating],
        camera: CameraModel,
        frame_pose: Pose2D | None = None,
    ) -> Scan | None:
        """Take a depth frame (kept by reference until the next one: do not modify it).

        A frame with too few valid pixels counts as failed (the robot is blind until a good one). With
        ``frame_pose`` (the odometry pose at the frame's stamp: latency compensation) the frame is placed
        there and the decision is taken on it as seen from the current pose.

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
        p = self.params
        use_footprint = p.footprint_window and p.plan_window_m > 0.0
        self._footprint = self._scanner.footprint(depth, camera, p.plan_range_m) if use_footprint else None
        if self._depth_stamp is not None and 0.0 < stamp_s - self._depth_stamp <= self.params.input_timeout_s:
            self._frame_interval = float(stamp_s) - self._depth_stamp
        self._depth, self._camera, self._depth_stamp = depth, camera, float(stamp_s)
        self._depth_seq += 1
        self._frame_pose = frame_pose
        self._failure = None
        return self._scan

    def place_frame(self, frame_pose: Pose2D | None) -> None:
        """Place the current frame at ``frame_pose`` (the odometry pose at its stamp), or nowhere (None).

        The shells call it at the first tick after the frame (:class:`navigation.core.NavigationCore`), when the
        odometry up to the tick is in: the pose at the frame's stamp does not then depend on whether the frame or
        that odometry reached the node first.
        """
        self._frame_pose = frame_pose
        self._decided_seq = None

    def update_detections(self, stamp_s: float, detections: Sequence[Detection2D]) -> None:
        """Take the latest detections (boxes in the camera image's pixels, or the detector's)."""
        self._detections = tuple(detections)
        self._detections_stamp = float(stamp_s)

    def update_odometry(self, stamp_s: float, yaw_rad: float, x: float | None = None, y: float | None = None) -> None:
        """Take the robot's pose in the odometry frame; without it the commanded twist is integrated.

        The yaw turns the goal heading into the robot frame; the position (with the yaw) places the
        obstacle memory. Either falls back to dead reckoning of the commands when not given. A jump
        (``odom_jump_m``, or a turn over 1 rad) drops the remembered surroundings.
        """
        del stamp_s  # the pose is used as the latest value; kept for a uniform input signature
        if self.tracker.update_odometry(yaw_rad, x, y):
            self.forget_surroundings()

    def set_goal_heading(self, heading_rad: float) -> None:
        """Replace ``goal_heading_rad`` (same frame) and forget any goal point: drive along this heading."""
        self.goal.set_heading(heading_rad)

    def set_goal_point(self, x: float, y: float) -> None:
        """Drive to a point of the odometry frame (needs odometry, or dead reckoning from the start pose)."""
        self.goal.set_point(x, y)  # the heading to it is taken at each decision

    def clear_goal_point(self) -> None:
        """Forget the goal point (reached or cancelled); the heading stays as it was."""
        self.goal.point = None

    def halt(self) -> None:
        """Forget the speeds reached and the decision (no command is being given): a restart ramps up again."""
        self.law.stop()
        self._decided_seq = None

    def redecide(self) -> None:
        """Decide again at the next step on the current frame (its detections came after it)."""
        self._decided_seq = None

    def target_in_view(self, now_s: float) -> bool:
        """Whether fresh detections hold ``target_class`` with at least ``min_detection_score``."""
        p = self.params
        if not p.target_class or self._detections_stamp is None or now_s - self._detections_stamp > p.input_timeout_s:
            return False
        return any(d.class_id == p.target_class and d.score >= p.min_detection_score for d in self._detections)

    def perceive(self, now_s: float) -> None:
        """Fuse the obstacles of a new frame without deciding (no command is being given: idle, disabled)."""
        if self._depth is not None and self._blind_reason(now_s) is None:
            self._fuse(now_s)

    def retune(self, params: ObstacleAvoidanceParams) -> None:
        """Take new parameters while running (the node's live tuning), keeping the state.

        Speeds, distances, thresholds and fusion settings are read from ``params`` at each step (by the
        controller, the heading decider and the speed law); the PID's gains and output limits are set on it
        (its integral is kept); the goal tolerance and the odometry jump threshold are handed to their parts;
        a new ``goal_heading_rad`` replaces the goal (as :meth:`set_goal_heading`). What sizes the scanner, the
        memory and the rolling window is read-only in the node (a restart rebuilds them).
        """
        old, self.params = self.params, params
        self.heading.params = params  # gaps, lookahead, clearance: read at each decision
        self.law.retune(params)
        self.tracker.odom_jump_m = params.odom_jump_m
        self.goal.tolerance_m = params.goal_tolerance_m
        heading = params.goal_heading_rad
        if math.isfinite(heading) and heading != old.goal_heading_rad:  # NaN: no heading goal (the core's)
            self.set_goal_heading(heading)

    def mark_failed(self, stamp_s: float, reason: str) -> None:
        """Record that the last frame could not be used (decode, model, camera info...): blind until a good one."""
        self._failure = f"last depth frame failed at {stamp_s:.3f} s: {reason}"
        self.law.reset()

    # --- state for the shell (markers, scan publishing, status) ----------------------------------

    @property
    def scan(self) -> Scan | None:
        """The virtual scan of the last good depth frame."""
        return self._scan

    def believed_obstacles(self) -> npt.NDArray[np.float64]:
        """What the controller holds beyond the current scan, (N, 2) odometry (x, y): the rolling window's
        occupied cells and the remembered points (for diagnostics: the simulator draws them for failed runs)."""
        if self._depth_stamp is None:
            return np.empty((0, 2))
        held = [self.heading.memory.points(self._depth_stamp)]
        if self.heading.planner is not None:
            held.append(self.heading.planner.occupied_points(self._depth_stamp))
        return np.concatenate(held)

    @property
    def obstacles(self) -> list[Obstacle]:
        """The obstacles fused at the last decision."""
        return list(self._obstacles)

    @property
    def odom_resets(self) -> int:
        """Odometry jumps that dropped the surroundings (see :meth:`update_odometry`)."""
        return self.tracker.odom_resets

    @property
    def yaw(self) -> float:
        """The robot yaw used for the goal heading: odometry, else dead reckoning of the commands."""
        return self.tracker.yaw

    @property
    def pose(self) -> tuple[float, float, float]:
        """(x, y, yaw) in the odometry frame: odometry where given, else dead reckoning of the commands."""
        return self.tracker.pose

    @property
    def goal_heading(self) -> float:
        """The heading driven along without a goal point (odometry frame), rad."""
        return self.goal.heading

    @property
    def goal_point(self) -> tuple[float, float] | None:
        """The goal point being driven to (odometry frame), None when driving along a heading."""
        return self.goal.point

    @property
    def goal_reached(self) -> str | None:
        """The reason line when a goal point is within ``goal_tolerance_m`` of the pose, else None."""
        return self.goal.reached(self.pose)

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
            self.law.stop()
            self._decided_seq = None
            return Command.stop(reason)
        arrived = self.goal_reached
        if arrived is not None:
            # At the goal: a zero twist, not blind (the depth is fine); the PID restarts for the next goal.
            self.law.stop()
            return Command(0.0, 0.0, blind=False, reason=arrived, mode="goal_reached")
        if self._decided_seq != self._depth_seq:
            self._decision = self._decide(now_s)
            self._decided_seq = self._depth_seq
        d = self._decision
        assert d is not None
        linear, angular = self.law.limit(d.linear, d.angular, dt)
        self.tracker.integrate(linear, angular, dt)
        return Command(
            linear_x=linear,
            angular_z=angular,
            blind=False,
            reason=d.reason,
            mode=d.mode,
            desired_heading_rad=d.desired,
            chosen_heading_rad=d.aim,
            clearance_m=d.clearance,
            target_distance_m=d.target_distance,
            gaps=d.gaps,
        )

    def _select_target(self, now_s: float, obstacles: Sequence[Obstacle]) -> Obstacle | None:
        p = self.params
        if not p.target_class:
            return None
        if self._detections_stamp is None or now_s - self._detections_stamp > p.input_timeout_s:
            return None
        candidates = [o for o in obstacles if o.class_id == p.target_class]
        if not candidates:
            return None
        previous = self._target_bearing if self._target_bearing is not None else 0.0
        # Highest score; among equals the one nearest the previously followed bearing.
        return min(candidates, key=lambda o: (-o.score, abs(o.bearing_rad - previous)))

    def _fresh_detections(self, now_s: float) -> bool:
        return self._detections_stamp is not None and now_s - self._detections_stamp <= self.params.input_timeout_s

    def _fuse(self, now_s: float) -> None:
        """The obstacles of the current frame: its fresh detections placed with its depth."""
        depth, camera = self._depth, self._camera
        assert depth is not None and camera is not None
        fresh = self._fresh_detections(now_s)
        self._obstacles = fuse_detections(self._detections, depth, camera, self.params) if fresh else []

    def _detected(self, now_s: float) -> list[DetectedObstacle]:
        """The frame's fresh detections of counted classes as obstacles for steering (``detection_obstacles``)."""
        depth, camera = self._depth, self._camera
        assert depth is not None and camera is not None
        if not self.params.detection_obstacles or not self._fresh_detections(now_s):
            return []
        assert self._scan is not None
        return missed_by_depth(self._scan, detected_obstacles(self._detections, depth, camera, self.params))

    def _decide(self, now_s: float) -> Decision:
        p = self.params
        scan, depth, camera, stamp = self._scan, self._depth, self._camera, self._depth_stamp
        assert scan is not None and depth is not None and camera is not None and stamp is not None
        self._fuse(now_s)
        pose = self.pose
        obstacles: Sequence[Obstacle] = self._obstacles
        # The memory and the window take the depth's scan as taken, where it was taken; the decision takes it with
        # the detected obstacles' bins closed (navigation/detected.py), as seen from the current pose.
        placed = (scan, pose if self._frame_pose is None else self._frame_pose)
        detected = self._detected(now_s)
        marks = None
        if detected:
            marks = detection_marks(detected, 0.5 * p.plan_resolution_m, p.plan_range_m, scan)
            scan = close_scan(scan, detected)
        if self._frame_pose is not None:  # latency compensation: decide on the frame as seen from here
            scan = carry_scan(scan, self._frame_pose, pose)
            obstacles = [carry_obstacle(o, self._frame_pose, pose) for o in self._obstacles]
        self.decision_scan = scan
        target = self._select_target(now_s, obstacles)
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
        choice = self.heading.decide(scan, ranges, stamp, pose, self.goal, target, placed, self._footprint, marks)

        dt = math.nan if self._decision is None else stamp - self._decision.stamp_s
        angular = self.law.turn(choice.aim, dt)

        radius = choice.radius  # the half-width the gaps kept: thinner while squeezing
        clearance = corridor_clearance(angles, ranges, radius, scan.angle_increment)
        # Remembered points beside the robot count too: the first forward metre is often out of view.
        near_b, near_d = choice.near_bearings, choice.near_distances
        ahead = (near_d * np.cos(near_b) > 0.0) & (np.abs(near_d * np.sin(near_b)) < radius)
        clearance = min(clearance, float(np.min(near_d[ahead] * np.cos(near_b[ahead]), initial=math.inf)))
        linear, reason, target_distance = self.law.speed(clearance, obstacles, choice.aim, target, choice.half_fov)
        if choice.squeezing and linear > p.squeeze_speed:
            linear, reason = p.squeeze_speed, f"squeezing through a narrow gap (margin {p.squeeze_margin_m:.2f} m)"
        # Old depth: until the next frame is decided on, the robot drives on this one, blind for the frame's
        # age plus the interval between frames; it must be able to stop within what it can see (as Nav2's
        # collision monitor limits speed by its time to collision).
        blind_s = max(0.0, now_s - stamp) + self._frame_interval
        if blind_s > 0.0:
            late = max(0.0, clearance - p.stop_distance_m) / blind_s
            if late < linear:
                linear, reason = late, f"slowing: depth {1000.0 * blind_s:.0f} ms old at the next frame"
        if choice.mode == "blocked":
            linear, reason = 0.0, "blocked: no free gap, turning in place"
        angular = stall_turn(angular, linear, choice.aim, p.stall_turn_rad_s)
        self._decision = Decision(
            stamp_s=stamp,
            mode=choice.mode,
            reason=reason,
            desired=choice.desired,
            aim=choice.aim,
            angular=angular,
            linear=linear,
            clearance=clearance,
            target_distance=target_distance,
            gaps=choice.gaps,
        )
        return self._decision
