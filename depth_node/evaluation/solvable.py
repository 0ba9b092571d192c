"""Whether a scenario can be solved at all: a path for the robot's footprint, with a margin, from start to goal.

A run that fails in a scene with no way through says nothing about the controller or the depth; every scenario
that expects arrival is checked here before it runs (:func:`depth_node.evaluation.scenarios.build_scenario`).
The check is a grid search on the inflated occupancy: the floor is sampled every ``step_m``, a cell is free when
its centre is at least ``radius + margin`` from every wall and every object lower than the robot's body (what
the simulator counts as a collision), and start and goal must lie in one 4-connected free component (4-connected
so that no diagonal step squeezes between two corners).

Moving people are checked sensibly, not exactly: the scene without them must leave a way (with the margin),
and at every second of the run the scene with them where they are then must still leave one (with half the
margin): a crowd may block a passage for a moment, never wall off the goal for the whole run. People who give
way (:class:`depth_node.evaluation.scene_layout.Walkers`) only stand longer where they are, which the
snapshots of their paths already cover.
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
import numpy.typing as npt

from depth_node.evaluation.robot import RobotLimits
from depth_node.evaluation.scene_layout import REACH, Scenario
from depth_node.evaluation.world import Scene

FloatArray = npt.NDArray[np.float64]

# Extra clearance beyond the footprint that a scenario must leave along its way, m.
DEFAULT_MARGIN_M = 0.05


class UnsolvableScenarioError(ValueError):
    """A scenario that expects arrival has no way from start to goal for the robot's footprint."""


def distance_field(scene: Scene, xs: FloatArray, ys: FloatArray, max_height: float = math.inf) -> FloatArray:
    """:func:`depth_node.evaluation.world.obstacle_distance` at many points at once (same rules, numpy).

    Args:
        scene: The world.
        xs: Point x coordinates (any shape).
        ys: Point y coordinates (same shape).
        max_height: Only objects whose bottom is below this height count; the walls always do.
    """
    room = scene.room
    best = np.minimum.reduce([xs - room.lo[0], room.hi[0] - xs, ys - room.lo[1], room.hi[1] - ys])
    for box in scene.boxes:
        if box.center[2] - box.size[2] / 2 >= max_height:
            continue
        c, s = math.cos(box.yaw), math.sin(box.yaw)
        dx, dy = xs - box.center[0], ys - box.center[1]
        qx = np.abs(c * dx + s * dy) - box.size[0] / 2
        qy = np.abs(-s * dx + c * dy) - box.size[1] / 2
        outside = np.hypot(np.maximum(qx, 0.0), np.maximum(qy, 0.0))
        best = np.minimum(best, outside + np.minimum(np.maximum(qx, qy), 0.0))
    for cyl in scene.cylinders:
        if cyl.z0 < max_height:
            best = np.minimum(best, np.hypot(xs - cyl.center[0], ys - cyl.center[1]) - cyl.radius)
    return best


def way_exists(
    scene: Scene,
    start: tuple[float, float],
    goal: tuple[float, float],
    clearance_m: float,
    max_height: float = math.inf,
    step_m: float = 0.05,
) -> bool:
    """Whether a disc of radius ``clearance_m`` can move from ``start`` to ``goal`` (4-connected grid of ``step_m``).

    Start and goal cells themselves need not be free (a robot starts close to a wall); each is joined to
    the free cells within ``clearance_m + step_m`` of it.
    """
    room = scene.room
    nx = max(1, int((room.hi[0] - room.lo[0]) / step_m))
    ny = max(1, int((room.hi[1] - room.lo[1]) / step_m))
    cx = room.lo[0] + (np.arange(nx) + 0.5) * step_m
    cy = room.lo[1] + (np.arange(ny) + 0.5) * step_m
    gx, gy = np.meshgrid(cx, cy, indexing="ij")
    free = distance_field(scene, gx, gy, max_height) >= clearance_m
    count, labels = cv2.connectedComponents(free.astype(np.uint8), connectivity=4)
    del count

    def components(p: tuple[float, float]) -> set[int]:
        near = np.hypot(gx - p[0], gy - p[1]) <= clearance_m + step_m
        return {int(v) for v in np.unique(labels[near & free])}

    return bool(components(start) & components(goal))


def check_solvable(
    scenario: Scenario,
    limits: RobotLimits | None = None,
    margin_m: float = DEFAULT_MARGIN_M,
    snapshot_s: float = 1.0,
) -> str | None:
    """Why ``scenario`` cannot be solved, or None when it can (always None for a scenario that expects a stop).

    Args:
        scenario: The scenario.
        limits: The robot (its radius and body height); the simulator's default when None.
        margin_m: Clearance beyond the footprint that the way must leave.
        snapshot_s: Period of the snapshots of moving people, s.
    """
    if scenario.expect != REACH:
        return None
    robot = limits or RobotLimits()
    start, goal = (scenario.start.x, scenario.start.y), scenario.goal
    movers = {m.instance for m in scenario.movers}
    still = replace(scenario.scene, cylinders=tuple(c for c in scenario.scene.cylinders if c.instance not in movers))
    if not way_exists(still, start, goal, robot.radius + margin_m, robot.body_height):
        return f"no way from start to goal for a {robot.radius:.2f} m footprint with a {margin_m:.2f} m margin"
    if not movers:
        return None
    for t in np.arange(0.0, scenario.timeout_s + 1e-9, snapshot_s):
        if not way_exists(scenario.scene_at(float(t)), start, goal, robot.radius + 0.5 * margin_m, robot.body_height):
            return f"the moving people wall the goal off at t = {t:.0f} s"
    return None
