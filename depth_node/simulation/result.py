"""What a simulated run leaves: its trace (one entry per control tick) and its result (one entry in report.json).

Both transports (in-process and ``--ros``) end a run through :func:`run_result`, so a run passes or fails by the
same rule whichever way the nodes were reached; the report, its figures and failure panels
(:mod:`depth_node.evaluation.sim_suite`, ``sim_page``, ``sim_figures``, ``sim_failures``) read :class:`SimResult`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from depth_node.evaluation.beliefs import Belief
from depth_node.evaluation.robot import RobotState
from depth_node.evaluation.scenarios import REACH, Scenario
from depth_node.simulation.options import SimOptions
from depth_node.types import Command


@dataclass
class Trace:
    """The run, one entry per control tick (for the report's plots)."""

    t: list[float] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    yaw: list[float] = field(default_factory=list)
    v: list[float] = field(default_factory=list)
    w: list[float] = field(default_factory=list)
    clearance: list[float] = field(default_factory=list)
    blind: list[bool] = field(default_factory=list)
    # What the controller believed at each tick (NaN / "" where a transport does not know it): its mode and
    # the headings it wanted and steered for, in the world frame (for the report's failure panels).
    mode: list[str] = field(default_factory=list)
    desired: list[float] = field(default_factory=list)
    aim: list[float] = field(default_factory=list)
    # The controller's obstacles (scan, remembered points, window cells) every few seconds and at the end.
    beliefs: list[Belief] = field(default_factory=list)

    def record(
        self, t: float, state: RobotState, clearance: float, blind: bool, command: Command | None = None
    ) -> None:
        """Append one control tick (``command``: what the controller decided, when the transport has it)."""
        self.mode.append(command.mode if command is not None else "")
        self.desired.append(state.yaw + command.desired_heading_rad if command is not None else math.nan)
        self.aim.append(state.yaw + command.chosen_heading_rad if command is not None else math.nan)
        self.t.append(t)
        self.x.append(state.x)
        self.y.append(state.y)
        self.yaw.append(state.yaw)
        self.v.append(state.v)
        self.w.append(state.w)
        self.clearance.append(clearance)
        self.blind.append(blind)


@dataclass
class SimResult:
    """The outcome of one run; :meth:`summary` is its entry in report.json."""

    scenario: Scenario
    depth: str
    success: bool
    collision: bool
    outcome: str
    min_clearance_m: float
    time_s: float
    path_length_m: float
    goal_distance_m: float
    frames: int
    blind_ticks: int
    trace: Trace
    radius: float = 0.25  # the footprint, for the plots
    bag: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # transport-specific keys for report.json

    def summary(self) -> dict[str, Any]:
        """The report.json entry (the issue's keys first, then the details)."""
        return {
            "name": self.scenario.name,
            "seed": self.scenario.seed,
            "success": self.success,
            "collision": self.collision,
            "min_clearance_m": round(self.min_clearance_m, 4),
            "time_s": round(self.time_s, 3),
            "path_length_m": round(self.path_length_m, 4),
            "depth": self.depth,
            "expect": self.scenario.expect,
            "outcome": self.outcome,
            "goal_distance_m": round(self.goal_distance_m, 4),
            "frames": self.frames,
            "blind_ticks": self.blind_ticks,
            "bag": self.bag,
            **self.details,
        }


def goal_distance(scenario: Scenario, state: RobotState) -> float:
    """Distance from the robot to the scenario's goal point, m."""
    return math.hypot(scenario.goal[0] - state.x, scenario.goal[1] - state.y)


def run_result(
    scenario: Scenario,
    options: SimOptions,
    outcome: str,
    state: RobotState,
    trace: Trace,
    *,
    path_length_m: float,
    min_clearance_m: float,
    frames: int,
    blind_ticks: int,
    details: dict[str, Any] | None = None,
) -> SimResult:
    """One run's result from where it ended, for both transports (in-process and ``--ros``).

    A run passes when it reached the goal of a REACH scenario, or, for a scenario that expects a stop, when
    it ran out of time without contact (a ``collision`` or ``no_answer`` outcome fails either kind).
    """
    success = outcome == "goal" if scenario.expect == REACH else outcome == "timeout"
    return SimResult(
        scenario=scenario,
        depth=options.depth,
        success=success,
        collision=outcome == "collision",
        outcome=outcome,
        min_clearance_m=min_clearance_m,
        time_s=trace.t[-1] if trace.t else 0.0,
        path_length_m=path_length_m,
        goal_distance_m=goal_distance(scenario, state),
        frames=frames,
        blind_ticks=blind_ticks,
        trace=trace,
        radius=options.limits.radius,
        details=details or {},
    )
