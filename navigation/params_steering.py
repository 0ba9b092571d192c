"""The steering decision's parameter groups: the gap follower, the rolling window's plan, low obstacles and the
commitment to a sub-goal.

They are groups of :class:`navigation.params.ObstacleAvoidanceParams` (flat ROS names, see its docstring), kept
apart from the mount, speed, fusion and node groups because they are the part the clutter work (issue #23)
grows: each addition is off in the two baseline files (``config/controller_paper_pid.yaml``,
``config/controller_memory.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass

from depth_node.params import param


@dataclass(frozen=True)
class GapParams:
    """The footprint and the gap follower: read by navigation.heading and navigation.freespace."""

    robot_radius_m: float = param(
        0.20, "Radius of a circle enclosing the robot's footprint, m.", min_value=0.0, dynamic=True
    )
    safety_margin_m: float = param(
        0.10, "Extra clearance kept beyond the robot radius, m.", min_value=0.0, dynamic=True
    )
    lookahead_m: float = param(
        2.0,
        "Obstacles farther than this do not close a gap (they only limit speed later), m.",
        min_value=0.1,
        dynamic=True,
    )
    gap_hysteresis_rad: float = param(
        0.15,
        "Bonus of the previously chosen gap, so that the choice does not flip between two equal gaps, rad.",
        min_value=0.0,
        dynamic=True,
    )
    gap_centering_rad: float = param(
        0.10,
        "How far inside a gap's obstacle edges the robot aims (a narrower gap is aimed at its middle), rad.",
        min_value=0.0,
        dynamic=True,
    )
    squeeze_margin_m: float = param(
        0.05,
        "Margin beyond the robot radius kept in a passage too narrow for safety_margin_m (navigation/squeeze.py); "
        ">= safety_margin_m switches squeezing off, m.",
        min_value=0.0,
    )
    squeeze_speed: float = param(0.2, "Forward speed limit while squeezing through a narrow gap, m/s.", min_value=0.0)


@dataclass(frozen=True)
class PlanParams:
    """The remembered surroundings and the rolling window's plan: read by navigation.heading."""

    memory_s: float = param(
        3.0,
        "How long obstacles that have left the view still block the headings into them (0 = no memory), s.",
        min_value=0.0,
    )
    memory_range_m: float = param(
        1.0, "Remembered obstacles farther than this from the robot are forgotten, m.", min_value=0.0
    )
    plan_window_m: float = param(
        6.0,
        "Side of the rolling obstacle window around the robot whose shortest way toward the goal gives the "
        "desired heading (0 = steer for the goal heading directly), m.",
        min_value=0.0,
    )
    plan_after_s: float = param(
        5.0,
        "Seconds without 0.3 m of progress toward the goal before the window's plan takes over from the plain "
        "goal heading, until the robot is 0.5 m past that point (0 = the plan always steers), s.",
        min_value=0.0,
    )
    plan_resolution_m: float = param(0.1, "Cell size of the rolling obstacle window, m.", min_value=0.02)
    plan_memory_s: float = param(
        20.0, "How long an obstacle cell no later ray has passed through stays in the window, s.", min_value=0.0
    )
    plan_hold_unseen_m: float = param(
        0.75,
        "Window cells within this distance of the robot that the current frame cannot see (beside, behind or "
        "below the view) do not age toward plan_memory_s: a thin leg beside a robot creeping in clutter is "
        "not forgotten while it is still there (0 = every cell ages), m.",
        min_value=0.0,
    )
    plan_range_m: float = param(
        3.0,
        "Scan returns up to this range mark (and rays clear) the window; farther depth is too coarse, m.",
        min_value=0.1,
    )
    plan_carrot_m: float = param(1.0, "The desired heading points this far along the planned way, m.", min_value=0.1)


@dataclass(frozen=True)
class LowObstacleParams:
    """What the rolling window keeps of low obstacles below the view: read by navigation.heading (footprint.py)."""

    footprint_window: bool = param(
        True,
        "The rolling window keeps every point of a frame in the scan's height band (the top of a low box seen from "
        "above), not only the nearest per bearing; a later ray clears a cell only where the camera could have seen "
        "what was there; and the window's cells within memory_range_m that the current frame cannot see block the "
        "headings into them: below the view always, beside it when lower than the camera (taller ones, as without "
        "this, only while the plan steers). Needs plan_window_m > 0.",
    )
    footprint_min_points: int = param(
        3,
        "A window cell is marked by the footprint only when it holds at least this many in-band points of one "
        "frame (stray points of noisy depth mark nothing; the scan's nearest returns always mark).",
        min_value=1,
    )
    footprint_min_height_m: float = param(
        0.07,
        "Only what was seen at least this high counts as a low obstacle for footprint_window (marked from above, "
        "kept below the view, blocking headings); lower returns are treated as before: the floor of noisy depth "
        "rises a few centimetres where it meets a wall, m.",
        min_value=0.0,
    )


@dataclass(frozen=True)
class CommitParams:
    """Commitment to the plan's sub-goal (navigation/commit.py): read by navigation.heading."""

    commit_s: float = param(
        4.0,
        "Longest time a sub-goal of the window's plan is held while the plan steers (0 = a new one every frame), s.",
        min_value=0.0,
    )
    commit_switch_m: float = param(
        1.0,
        "A new way replaces the held sub-goal only when it scores this much better (path + cost to the goal), m.",
        min_value=0.0,
    )
    commit_reach_m: float = param(
        0.3,
        "A held sub-goal this close along the planned way counts as reached (the next one is chosen), m.",
        min_value=0.0,
    )
    commit_follow_m: float = param(
        0.4,
        "With no straight gap free, the robot follows the window's way to the held sub-goal: its heading points "
        "this far along that way (0 = turn in place as without a sub-goal), m.",
        min_value=0.0,
    )
    commit_follow_hold_s: float = param(
        2.0,
        "Once the robot follows the window's way to the sub-goal, it keeps following it this long even when a "
        "straight gap opens (the two otherwise alternate frame by frame), s.",
        min_value=0.0,
    )
    stall_turn_rad_s: float = param(
        0.3,
        "While the speed law holds the robot still with the aim off its heading, it turns at least this fast "
        "toward the aim (0 = the PID alone), rad/s.",
        min_value=0.0,
    )
    look_once_s: float = param(
        4.0,
        "While the plan steers, what a look found is remembered this long: a wanted heading outside the view "
        "that, turned to, showed no gap its way is not turned back to while a gap elsewhere is free, and a held "
        "sub-goal given up unreached while the robot nearly stood still does not come back to displace the next "
        "one (0 = neither), s.",
        min_value=0.0,
    )
    plan_squeeze_cost_m: float = param(
        1.0,
        "While squeezing is on: a planned way that only the thin squeeze margin leaves counts this much longer "
        "than one with the full safety margin, m.",
        min_value=0.0,
    )
