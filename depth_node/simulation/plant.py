"""The simulated world and robot base of a scenario, for :func:`depth_node.simulation.stepper.run_closed_loop`.

:class:`ScenarioPlant` is the same for the in-process run (:mod:`depth_node.simulation.in_process`) and the ROS 2
graph (:mod:`depth_node.simulation.runner_node`): the camera (the procedural world rendered from the robot's
pose), the detector (the renderer's 2-D boxes with noise and misses, :func:`detect`), the collision and goal
rules, the unicycle base and the trace. Only the link to the nodes differs between the two.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from depth_node.evaluation.beliefs import Belief, due
from depth_node.evaluation.robot import RobotState, step_unicycle
from depth_node.evaluation.scenarios import REACH, Scenario, Walkers
from depth_node.evaluation.world import Pose, camera_for, obstacle_distance, render
from depth_node.simulation.options import START_NS, SimOptions
from depth_node.simulation.result import SimResult, Trace, goal_distance, run_result
from depth_node.simulation.stepper import LoopResult, Schedule, Tick
from depth_node.types import Command, Detection2D
from navigation.params import ObstacleAvoidanceParams


def detect(
    boxes: tuple[tuple[str, int, int, int, int], ...], options: SimOptions, rng: np.random.Generator
) -> list[Detection2D]:
    """The renderer's boxes as a detector's output: edge noise, misses, clipped to the image."""
    out = []
    for label, x0, y0, x1, y1 in boxes:
        if options.det_miss_rate > 0.0 and rng.random() < options.det_miss_rate:
            continue
        edges = np.array([x0, y0, x1, y1], dtype=np.float64)
        if options.det_noise_px > 0.0:
            edges += rng.normal(0.0, options.det_noise_px, 4)
        u0, u1 = np.clip(edges[[0, 2]], 0.0, options.width)
        v0, v1 = np.clip(edges[[1, 3]], 0.0, options.height)
        if u1 - u0 < 2.0 or v1 - v0 < 2.0:
            continue
        out.append(Detection2D((u0 + u1) / 2, (v0 + v1) / 2, u1 - u0, v1 - v0, label, options.det_score))
    return out


class ScenarioPlant:
    """A scenario's world and robot base, for :func:`depth_node.simulation.stepper.run_closed_loop`: the same for
    the in-process run and the ROS graph (the camera, the detector's noise and misses, the collision and goal
    rules, the trace)."""

    def __init__(self, scenario: Scenario, options: SimOptions) -> None:
        self.scenario = scenario
        self.options = options
        self.camera = camera_for(options.width, options.height, options.fx_over_width)
        self.rng = np.random.default_rng([scenario.seed, 7, len(scenario.name)])
        self.trace = Trace()
        self.path, self.min_clearance = 0.0, math.inf
        self.walkers = Walkers(scenario)  # people who give way stop for the robot
        # What the controller believes, for the failure panels (set by a link that can read the controller).
        self.believe: Callable[[float], Belief | None] | None = None
        self.last_tick = math.inf  # index of the run's last tick (its belief is always taken)
        self.rate_hz = 20.0  # the control rate (set with the schedule)

    def schedule(self, params: ObstacleAvoidanceParams) -> Schedule:
        """The stepper's schedule: the navigation's control rate, the camera's rate and latency, from START_NS."""
        delay = round(self.options.latency_ms * 1e-3 * params.control_rate_hz)
        schedule = Schedule(params.control_rate_hz, self.options.camera_rate_hz, START_NS, frame_delay_ticks=delay)
        self.rate_hz = params.control_rate_hz
        self.last_tick = schedule.ticks_for(self.scenario.timeout_s) - 1
        return schedule

    def sense(self, tick: Tick, state: RobotState) -> tuple[Any, list[Detection2D]]:
        """The rendered frame at the robot's camera pose and the detector's boxes of it."""
        o = self.options
        pose = Pose(state.x, state.y, o.camera_height_m, state.yaw, o.camera_pitch_rad)
        frame = render(self.walkers.scene_at(tick.t, (state.x, state.y)), self.camera, pose)
        return frame, detect(frame.boxes, o, self.rng)

    def observe(self, tick: Tick, state: RobotState, command: Command) -> str | None:
        """Trace the tick; a collision (the footprint touches something lower than the body) or the goal ends it."""
        limits, scenario = self.options.limits, self.scenario
        scene = self.walkers.scene_at(tick.t, (state.x, state.y))
        clearance = obstacle_distance(scene, state.x, state.y, limits.body_height) - limits.radius
        self.min_clearance = min(self.min_clearance, clearance)
        self.trace.record(tick.t, state, clearance, command.blind, command)
        outcome = None
        if clearance < 0.0:
            outcome = "collision"
        elif scenario.expect == REACH and goal_distance(scenario, state) <= scenario.goal_tolerance_m:
            outcome = "goal"
        if self.believe is not None and (due(tick.t, 1.0 / self.rate_hz) or outcome or tick.index >= self.last_tick):
            belief = self.believe(tick.t)
            self.trace.beliefs.extend([belief] if belief is not None else [])
        return outcome

    def move(self, state: RobotState, command: Command, dt: float) -> RobotState:
        """The unicycle under the command (the base's own speed and acceleration limits)."""
        moved = step_unicycle(state, command.linear_x, command.angular_z, dt, self.options.limits)
        self.path += math.hypot(moved.x - state.x, moved.y - state.y)
        return moved

    def result(self, loop: LoopResult[RobotState], details: dict[str, Any] | None = None) -> SimResult:
        """The run's :class:`SimResult` from how the loop ended."""
        return run_result(
            self.scenario,
            self.options,
            loop.outcome,
            loop.state,
            self.trace,
            path_length_m=self.path,
            min_clearance_m=self.min_clearance,
            frames=loop.frames,
            blind_ticks=loop.blind_ticks,
            details=details,
        )
