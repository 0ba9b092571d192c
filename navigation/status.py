"""The state of obstacle_avoidance as a user watches it: driving, blocked, blind or goal reached, and why.

Plain values (no ROS import): the node turns them into one ``diagnostic_msgs/DiagnosticStatus`` on
``/diagnostics``, the ROS convention that ``ros2 topic echo``, rqt_robot_monitor and Foxglove show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from depth_node.types import Command

OK, WARN, ERROR = 0, 1, 2  # diagnostic_msgs/DiagnosticStatus levels


@dataclass(frozen=True)
class NavStatus:
    """One snapshot of the node's state.

    Attributes:
        state: ``idle`` (no goal: no command), ``driving``, ``blocked`` (no free gap: turning in place),
            ``blind`` (no usable depth: stopped), ``goal reached`` (stopped within goal_tolerance_m) or
            ``disabled`` (~/enable false: no command).
        level: OK, WARN (blocked) or ERROR (blind).
        message: The command's reason line.
        values: Key/value pairs of the status (all strings).
    """

    state: str
    level: int
    message: str
    values: tuple[tuple[str, str], ...]


def state_of(command: Command) -> tuple[str, int]:
    """(state, level) of a command."""
    if command.blind:
        return "blind", ERROR
    if command.mode in ("idle", "disabled"):
        return command.mode, OK
    if command.mode == "goal_reached":
        return "goal reached", OK
    if command.mode == "blocked":
        return "blocked", WARN
    return "driving", OK


def nav_status(
    command: Command,
    pose: tuple[float, float, float],
    pose_source: str,
    goal_point: tuple[float, float] | None,
    goal_heading_rad: float,
    odom_resets: int,
    inputs: dict[str, int] | None = None,
) -> NavStatus:
    """The status of one control tick.

    Args:
        command: What the tick commanded.
        pose: (x, y, yaw) the controller uses, odometry frame.
        pose_source: ``odometry`` or ``dead_reckoning``.
        goal_point: The goal point, or None when driving along ``goal_heading_rad``.
        goal_heading_rad: The goal heading (used without a goal point); NaN: none.
        odom_resets: Odometry jumps that dropped the remembered surroundings.
        inputs: Stamps of the latest inputs taken (``depth_stamp_ns``: the frame the decision is based on,
            ``odom_stamp_ns``, ``detections_stamp_ns``) and ``depth_frames`` (good depth frames so far).
    """
    state, level = state_of(command)
    if goal_point is None and not math.isfinite(goal_heading_rad):
        goal, distance = "none", math.nan
    elif goal_point is None:
        goal, distance = f"heading {goal_heading_rad:.3f} rad", math.nan
    else:
        goal = f"point {goal_point[0]:.3f} {goal_point[1]:.3f}"
        distance = math.hypot(goal_point[0] - pose[0], goal_point[1] - pose[1])
    values = (
        ("state", state),
        ("mode", command.mode),
        ("reason", command.reason),
        ("linear_x", f"{command.linear_x:.4f}"),
        ("angular_z", f"{command.angular_z:.4f}"),
        ("pose_source", pose_source),
        ("pose", f"{pose[0]:.3f} {pose[1]:.3f} {pose[2]:.4f}"),
        ("goal", goal),
        ("goal_distance_m", f"{distance:.3f}"),
        ("odom_resets", str(odom_resets)),
        *((key, str(value)) for key, value in sorted((inputs or {}).items())),
    )
    return NavStatus(state, level, command.reason, values)
