"""Parameters of the ``obstacle_avoidance`` node: one frozen dataclass, the single source of truth.

The rclpy node declares exactly these names (:func:`depth_node.params.describe`), and
``config/obstacle_avoidance.yaml``, the replay runner and the simulator load the same dataclass, so a
name can never drift between them. The names of the issue (``camera_height_m`` ... ``cmd_vel_stamped``) are
an interface: tools set them, so they are never renamed without the old name still being read
(:data:`ObstacleAvoidanceParams.RENAMED`: ``stamped`` is now ``cmd_vel_stamped``). ``dynamic=True`` marks what
``ros2 param set`` may change while the node runs (speeds, distances, thresholds, PID gains, goal settings:
``NavigationCore.retune``); the rest (camera mount, frames, topics, QoS, rates, what sizes the scan, memory and
window) is read-only.

The parameters are grouped by the part that reads them (``params.speed.max_linear_speed``, ``params.pid.kp``);
the groups are :func:`depth_node.params.group` fields, so the ROS names stay flat (``max_linear_speed``), and
so do the constructor, ``dataclasses.replace`` and attribute reads (``params.max_linear_speed``). Adding a
parameter is one ``param`` line in its group.

Geometry conventions used by every distance here: distances are measured in the horizontal plane from
the point under the camera (the scan origin), along the REP-103 base axes (x forward, y left, z up).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

from depth_node.errors import ParameterError
from depth_node.params import group, param
from navigation.params_steering import CommitParams, GapParams, LowObstacleParams, PlanParams


@dataclass(frozen=True)
class MountParams:
    """The camera mount: read by the virtual scan, the fusion and the scan frame."""

    camera_height_m: float = param(0.30, "Height of the camera's optical centre above the floor, m.", min_value=0.01)
    camera_pitch_rad: float = param(
        0.10,
        "Pitch of the camera; positive looks down (towards the floor), rad.",
        min_value=-1.2,
        max_value=1.2,
    )


@dataclass(frozen=True)
class GoalParams:
    """The goal and the pose it is taken in: read by navigation.goals, navigation.pose and the core."""

    goal_heading_rad: float = param(
        math.nan,
        "Heading to drive towards, in the odometry frame when odometry is given, else relative to the "
        "heading at start (dead reckoning of the commanded turn rate); positive is left. NaN (the default) = "
        "no heading goal: without a goal_pose or a target_class in view the robot does not move, rad.",
        min_value=-math.pi,
        max_value=math.pi,
        nan_unset=True,
        dynamic=True,
    )
    goal_tolerance_m: float = param(
        0.35,
        "A goal point (goal_pose) nearer than this counts as reached: the robot stops with a zero twist "
        "(0 = never stop), m.",
        min_value=0.0,
        dynamic=True,
    )
    odom_frame: str = param(
        "odom",
        "Frame of goal_pose goals (the odometry's frame): a goal in another frame is refused with a logged reason.",
    )
    odom_jump_m: float = param(
        1.0,
        "An odometry pose that moves farther than this between two messages (or turns by more than 1 rad) is a "
        "reset: the obstacle memory and the rolling window are dropped, m.",
        min_value=0.0,
        dynamic=True,
    )


@dataclass(frozen=True)
class TargetParams:
    """An object to follow instead of the goal: read by the target choice and the speed law."""

    target_class: str = param(
        "", "Class id of an object to follow instead of the goal heading ('' = none).", dynamic=True
    )
    target_standoff_m: float = param(
        1.0, "Distance at which the robot stops in front of the target, m.", min_value=0.0, dynamic=True
    )


@dataclass(frozen=True)
class SpeedParams:
    """The speed and turn limits and the speed ramps: read by navigation.speed_law."""

    max_linear_speed: float = param(0.5, "Forward speed in free space, m/s.", min_value=0.0, dynamic=True)
    max_angular_speed: float = param(
        1.0, "Limit of |angular.z|, also the PID output limit, rad/s.", min_value=0.0, dynamic=True
    )
    max_linear_accel: float = param(
        0.5, "Limit of the increase of |linear.x| per second, m/s^2.", min_value=0.0, dynamic=True
    )
    max_angular_accel: float = param(
        3.0, "Limit of the increase of |angular.z| per second, rad/s^2.", min_value=0.0, dynamic=True
    )
    stop_distance_m: float = param(
        0.45, "Forward clearance at which the linear speed reaches zero, m.", min_value=0.0, dynamic=True
    )
    slow_distance_m: float = param(
        1.2, "Forward clearance beyond which the full speed is allowed, m.", min_value=0.0, dynamic=True
    )
    person_classes: tuple[str, ...] = param(
        ("person", "0"), "Class ids treated as people (they get the person_* distances)."
    )
    person_stop_distance_m: float = param(
        0.8, "Distance to a person at which the robot stops, m.", min_value=0.0, dynamic=True
    )
    person_slow_distance_m: float = param(
        2.0,
        "Distance to a person beyond which the full speed is allowed, m.",
        min_value=0.0,
        dynamic=True,
    )


@dataclass(frozen=True)
class PidParams:
    """The PID from the heading error to angular.z (simple-pid): read by navigation.speed_law."""

    kp: float = param(
        1.5, "Proportional gain from heading error (rad) to angular.z (rad/s).", min_value=0.0, dynamic=True
    )
    ki: float = param(0.1, "Integral gain (anti-windup from the output limits).", min_value=0.0, dynamic=True)
    kd: float = param(
        0.05, "Derivative gain, on the measurement to avoid kicks when the gap changes.", min_value=0.0, dynamic=True
    )


@dataclass(frozen=True)
class FusionParams:
    """Detections fused with the depth: read by navigation.fusion."""

    min_detection_score: float = param(
        0.3,
        "Detections with a lower score are ignored (fusion, target, people).",
        min_value=0.0,
        max_value=1.0,
        dynamic=True,
    )
    detector_width: int = param(
        0, "Input width of the detector when boxes come in network pixels (0 = image pixels).", min_value=0
    )
    detector_height: int = param(
        0, "Input height of the detector when boxes come in network pixels (0 = image pixels).", min_value=0
    )
    box_margin: float = param(
        0.15,
        "Fraction of the box width/height removed on each side before reading depth (edges hit background).",
        min_value=0.0,
        max_value=0.45,
        dynamic=True,
    )
    depth_percentile: float = param(
        10.0,
        "Percentile of the valid depth in a box taken as its distance (low: the nearest surface wins).",
        min_value=0.0,
        max_value=100.0,
        dynamic=True,
    )
    min_valid_pixels: int = param(
        20, "Fewer valid depth pixels in a box means its distance is unknown.", min_value=1, dynamic=True
    )
    detection_obstacles: bool = param(
        True,
        "Detections of detection_obstacle_classes count as obstacles for the heading decision and the rolling "
        "window (navigation/detected.py): the bins each box spans close at its ground contact (the bottom edge of "
        "the box on a flat floor, or the depth inside it when nearer), and the window keeps its cells when it "
        "drops below the view (the network lays low boxes flat on the floor; the detector still boxes them).",
    )
    detection_obstacle_classes: tuple[str, ...] = param(
        ("box",),
        "Class ids that count for detection_obstacles ('*' = every class); person_classes and target_class never "
        "do (people move: the speed law slows down near them).",
    )


@dataclass(frozen=True)
class ScanParams:
    """Floor removal and the virtual scan: read by navigation.freespace and the controller."""

    obstacle_min_height_m: float = param(
        0.05, "Points below this height are floor (removed), m; above the floor noise.", min_value=-1.0
    )
    obstacle_max_height_m: float = param(
        0.80, "Points above this height cannot hit the robot's body (removed), m.", min_value=0.0
    )
    scan_bins: int = param(90, "Number of angle bins of the virtual scan across the field of view.", min_value=3)
    scan_fov_rad: float = param(
        0.0, "Angular width of the virtual scan (0 = the camera's field of view), rad.", min_value=0.0, max_value=3.0
    )
    scan_range_min_m: float = param(0.05, "range_min of the virtual scan; closer returns are -inf, m.", min_value=0.0)
    scan_range_max_m: float = param(5.0, "range_max of the virtual scan; farther returns are +inf, m.", min_value=0.1)
    scan_pixel_step: int = param(
        0,
        "Use every n-th depth pixel in both directions for the scan (speed vs thin obstacles); "
        "0 = automatic, the smallest step that leaves at most 640 columns (1 up to 640 px wide, 3 at 1920).",
        min_value=0,
    )
    min_valid_depth_fraction: float = param(
        0.05,
        "A depth frame with a smaller fraction of valid pixels counts as failed (the robot is blind).",
        min_value=0.0,
        max_value=1.0,
        dynamic=True,
    )


@dataclass(frozen=True)
class NodeParams:
    """The control loop and what the node publishes: read by navigation.core and navigation.node."""

    autostart: bool = param(
        True, "Start enabled (false: no command until ~/enable is called with true; a goal may be sent before)."
    )
    latency_compensation: bool = param(
        True,
        "Place each depth frame with the odometry pose at its stamp (interpolated) and carry it to the current "
        "pose; pair detections with the depth frame of the nearest stamp. Needs odometry.",
    )
    detection_stamp_tolerance_s: float = param(
        0.05,
        "Detections pair with the depth frame of the nearest stamp within this; farther ones are dropped "
        "(counted as detections_unpaired) while latency_compensation is on, s.",
        min_value=0.0,
    )
    input_timeout_s: float = param(
        0.5,
        "Depth older than this (or a failed frame) makes the robot blind: zero twist, s.",
        min_value=0.0,
        dynamic=True,
    )
    control_rate_hz: float = param(20.0, "Rate of the control timer that publishes cmd_vel, Hz.", min_value=0.1)
    cmd_vel_stamped: bool = param(
        False,
        "Publish geometry_msgs/TwistStamped (the control tick's stamp, frame_id base_frame) instead of Twist on "
        "cmd_vel: Jazzy's diff_drive_controller and Nav2 take TwistStamped (formerly 'stamped').",
    )
    publish_markers: bool = param(True, "Publish visualization markers (obstacles, gaps, chosen heading).")
    diagnostics_period_s: float = param(
        1.0,
        "Period of the state on /diagnostics (driving, blocked, blind, goal reached, with the reason); a change "
        "of state is published at the next control tick. 0 = off, s.",
        min_value=0.0,
    )
    scan_frame: str = param(
        "camera_scan",
        "frame_id of scan and markers: level, z up, x along the camera's heading, origin at the camera's optical "
        "centre (a LaserScan turns about z, so the optical frame would draw it as a vertical fan).",
    )
    publish_scan_tf: bool = param(
        True,
        "Publish the static transform camera optical frame (the depth image's frame_id) -> scan_frame on "
        "/tf_static (a rotation by camera_pitch_rad); off when the robot's own TF provides scan_frame.",
    )
    base_frame: str = param(
        "base_link", "The robot's base frame (REP-105): frame_id of a TwistStamped cmd_vel (cmd_vel_stamped)."
    )
    frame_prefix: str = param(
        "",
        "Prepended to base_frame, odom_frame and scan_frame (e.g. 'robot1/'), as robot_state_publisher's "
        "frame_prefix: two robots in one graph keep separate TF trees (the launch files' frame_prefix sets it).",
    )
    qos_reliability: str = param(
        "auto",
        "Reliability of the depth subscriptions; auto follows the publishers (reliable unless one is best-effort).",
        choices=("auto", "reliable", "best_effort"),
    )
    qos_depth: int = param(2, "History depth of the depth subscriptions.", min_value=1, max_value=100)


@dataclass(frozen=True, init=False)
class ObstacleAvoidanceParams:
    """Everything the navigation core and its node are configured with, by the part that reads it.

    Built from groups (``ObstacleAvoidanceParams(speed=SpeedParams(...))``) or from flat names
    (``ObstacleAvoidanceParams(max_linear_speed=0.3)``), or both: a flat name overrides its group's value.
    """

    # Old name -> new name: a params file or -p of the old name still works (the loaders say it was renamed).
    RENAMED: ClassVar[dict[str, str]] = {"stamped": "cmd_vel_stamped"}

    mount: MountParams = group(MountParams)
    goal: GoalParams = group(GoalParams)
    target: TargetParams = group(TargetParams)
    speed: SpeedParams = group(SpeedParams)
    pid: PidParams = group(PidParams)
    gaps: GapParams = group(GapParams)
    plan: PlanParams = group(PlanParams)
    low: LowObstacleParams = group(LowObstacleParams)
    commit: CommitParams = group(CommitParams)
    fusion: FusionParams = group(FusionParams)
    scan: ScanParams = group(ScanParams)
    node: NodeParams = group(NodeParams)

    def __init__(self, **values: Any) -> None:
        """Groups by their field names, single parameters by their flat names.

        Raises:
            TypeError: a name that is neither a group nor a parameter (as a dataclass constructor would).
        """
        values = {self.RENAMED.get(name, name): value for name, value in values.items()}  # old names still work
        for f in fields(self):
            base = values.pop(f.name, None)
            base = f.default_factory() if base is None else base  # type: ignore[operator]
            own = {name: values.pop(name) for name in _GROUP_NAMES[f.name] if name in values}
            object.__setattr__(self, f.name, replace(base, **own) if own else base)
        if values:
            raise TypeError(f"ObstacleAvoidanceParams got unknown parameter(s) {sorted(values)}")
        self.__post_init__()

    def with_values(self, **values: Any) -> ObstacleAvoidanceParams:
        """A copy with parameters changed by flat name (or whole groups): ``dataclasses.replace`` with the flat
        names a type checker cannot see."""
        return ObstacleAvoidanceParams(**{f.name: getattr(self, f.name) for f in fields(self)}, **values)

    def __getattr__(self, name: str) -> Any:
        """A parameter by its flat name (``params.kp`` is ``params.pid.kp``)."""
        owner = _OWNER.get(name)
        if owner is None:
            raise AttributeError(f"'ObstacleAvoidanceParams' has no parameter '{name}'")
        return getattr(object.__getattribute__(self, owner), name)

    def __post_init__(self) -> None:
        pairs = (
            ("stop_distance_m", "slow_distance_m"),
            ("person_stop_distance_m", "person_slow_distance_m"),
            ("obstacle_min_height_m", "obstacle_max_height_m"),
            ("scan_range_min_m", "scan_range_max_m"),
        )
        for low, high in pairs:
            if getattr(self, low) > getattr(self, high):
                raise ParameterError(
                    f"parameter '{low}' ({getattr(self, low)}) must not exceed '{high}' ({getattr(self, high)})"
                )
        for name in ("scan_frame", "odom_frame", "base_frame"):
            if not getattr(self, name).strip():
                raise ParameterError(f"parameter '{name}' must name a frame, got an empty string")
        if (self.detector_width == 0) != (self.detector_height == 0):
            raise ParameterError(
                "parameters 'detector_width' and 'detector_height' must both be 0 (image pixels) or both be set, "
                f"got {self.detector_width}x{self.detector_height}"
            )

    def prefixed(self) -> ObstacleAvoidanceParams:
        """These parameters with ``frame_prefix`` applied to the frame names (and then empty: idempotent).

        Every shell (node, replay, simulators) and the core work with the prefixed names.
        """
        if not self.frame_prefix:
            return self
        prefix = self.frame_prefix
        return self.with_values(
            base_frame=prefix + self.base_frame,
            odom_frame=prefix + self.odom_frame,
            scan_frame=prefix + self.scan_frame,
            frame_prefix="",
        )

    @property
    def clearance_radius_m(self) -> float:
        """Half-width of the corridor the robot sweeps: its radius plus the safety margin."""
        return self.robot_radius_m + self.safety_margin_m


# flat parameter name -> the group that holds it; group -> its parameter names
_GROUP_NAMES: dict[str, tuple[str, ...]] = {
    f.name: tuple(g.name for g in fields(f.default_factory()))  # type: ignore[operator]
    for f in fields(ObstacleAvoidanceParams)
}
_OWNER: dict[str, str] = {name: owner for owner, names in _GROUP_NAMES.items() for name in names}
