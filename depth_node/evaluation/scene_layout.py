"""The pieces every scenario is built from: movers, the scenario record, the room layout and a path check.

Split from :mod:`depth_node.evaluation.scenarios` so that the default suite's builders and the extended suite's
(:mod:`depth_node.evaluation.scenarios_extended`) share one layout helper without importing each other.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from depth_node.evaluation.robot import RobotState
from depth_node.evaluation.world import Box, Cylinder, Material, Room, Scene, generate_scene, obstacle_distance

REACH, STOP = "reach", "stop"


@dataclass(frozen=True)
class Mover:
    """An object that walks in a straight line at constant speed between two times, then stands.

    Attributes:
        instance: The scene instance id of the object (all its primitives move together).
        start: (x, y) where it stands until ``t0``.
        velocity: (vx, vy) while walking, m/s.
        t0: When it starts walking, s.
        t1: When it stops, s.
        yield_m: A person who gives way: it pauses (its own clock stops, see :class:`Walkers`) while its next
            step would bring it nearer than this to the robot's centre; 0 walks blind (the default scenarios).
    """

    instance: int
    start: tuple[float, float]
    velocity: tuple[float, float]
    t0: float
    t1: float
    yield_m: float = 0.0

    def offset(self, t: float) -> tuple[float, float]:
        """Displacement from the start at time ``t``."""
        walked = min(max(t - self.t0, 0.0), self.t1 - self.t0)
        return self.velocity[0] * walked, self.velocity[1] * walked

    def position(self, t: float) -> tuple[float, float]:
        """Where it stands at time ``t`` of its own clock."""
        dx, dy = self.offset(t)
        return self.start[0] + dx, self.start[1] + dy


@dataclass(frozen=True, eq=False)
class Scenario:
    """One simulation set-up.

    Attributes:
        name: Scenario name (see the module docstring).
        seed: Seed it was built from.
        scene: The world at t = 0.
        start: Robot pose at t = 0 (at rest).
        goal: Goal point (x, y) in the world frame.
        expect: ``"reach"`` (success = at the goal, no collision) or ``"stop"`` (the goal is unreachable;
            success = no collision until the timeout).
        timeout_s: Simulated time limit, s.
        goal_tolerance_m: Distance to the goal that counts as arrived, m.
        movers: Objects that move.
    """

    name: str
    seed: int
    scene: Scene
    start: RobotState
    goal: tuple[float, float]
    expect: str
    timeout_s: float
    goal_tolerance_m: float = 0.35
    movers: tuple[Mover, ...] = ()

    def scene_at(self, t: float, paused: Mapping[int, float] | None = None) -> Scene:
        """The world at time ``t`` (the scene itself when nothing moves).

        Args:
            t: Time since the start, s.
            paused: Seconds each mover (by instance) has stood still to give way (see :class:`Walkers`).
        """
        if not self.movers:
            return self.scene
        lost = paused or {}
        shifts = {m.instance: m.offset(t - lost.get(m.instance, 0.0)) for m in self.movers}
        cylinders = []
        for cyl in self.scene.cylinders:
            dx, dy = shifts.get(cyl.instance, (0.0, 0.0))
            cylinders.append(replace(cyl, center=(cyl.center[0] + dx, cyl.center[1] + dy)))
        return replace(self.scene, cylinders=tuple(cylinders))


class Walkers:
    """The movers of one run, with the pauses of those that give way to the robot (state of one run).

    People step aside for a robot, or stop; a simulated person who walked blind into a robot standing still
    would count a collision against the controller that it could not have avoided (the camera sees 60
    degrees). A mover with ``yield_m > 0`` therefore pauses while its next step would bring it nearer than
    that to the robot; it walks on once the robot has moved off. Movers without it follow the scenario's
    clock exactly, so the default scenarios are unchanged.
    """

    def __init__(self, scenario: Scenario) -> None:
        """Args: scenario: whose movers walk (its scene is the world at t = 0)."""
        self.scenario = scenario
        self.paused = {m.instance: 0.0 for m in scenario.movers if m.yield_m > 0.0}
        self._last_t: float | None = None

    def scene_at(self, t: float, robot: tuple[float, float]) -> Scene:
        """The world at time ``t`` with the robot's centre at ``robot`` (call with increasing ``t``)."""
        if not self.paused:
            return self.scenario.scene_at(t)
        dt = 0.0 if self._last_t is None else t - self._last_t
        self._last_t = t
        if dt > 0.0:
            for m in self.scenario.movers:
                if m.instance not in self.paused:
                    continue
                own = t - self.paused[m.instance]
                before, after = m.position(own - dt), m.position(own)
                near = math.hypot(after[0] - robot[0], after[1] - robot[1])
                if near < m.yield_m and near < math.hypot(before[0] - robot[0], before[1] - robot[1]):
                    self.paused[m.instance] += dt
        return self.scenario.scene_at(t, self.paused)


class Layout:
    """A room shell of a chosen size with the textures and light of a generated scene, and a material maker."""

    def __init__(self, salt: int, seed: int, kind: str, length: float, width: float) -> None:
        """Args: salt: a number per scenario (its random stream); seed: the run's seed; kind: the
        :func:`generate_scene` kind whose textures and light are used; length, width: the room, m."""
        self.rng = np.random.default_rng([seed, 4242, salt])
        base = generate_scene(kind, seed)
        height = base.room.hi[2]
        self.lo = (-length / 2, -width / 2, 0.0)
        self.hi = (length / 2, width / 2, height)
        lamp = (float(self.rng.uniform(self.lo[0], self.hi[0])), float(self.rng.uniform(-0.3, 0.3)), height - 0.1)
        self.base = replace(
            base,
            room=Room(self.lo, self.hi, base.room.materials),
            boxes=(),
            cylinders=(),
            lighting=replace(base.lighting, lamp=lamp),
        )
        self.materials = list(base.materials)
        self.boxes: list[Box] = []
        self.cylinders: list[Cylinder] = []
        self.next_instance = 0

    def material(self) -> int:
        rng = self.rng
        a = rng.uniform(0.15, 0.9, 3)
        b = np.clip(a * rng.uniform(0.5, 1.2), 0.0, 1.0)
        pattern = str(rng.choice(("plain", "wood", "noise", "stripes", "checker")))
        self.materials.append(
            Material(pattern, (float(a[0]), float(a[1]), float(a[2])), (float(b[0]), float(b[1]), float(b[2])), 0.3)
        )
        return len(self.materials) - 1

    def instance(self) -> int:
        self.next_instance += 1
        return self.next_instance - 1

    def box(self, x: float, y: float, size: tuple[float, float, float], yaw: float = 0.0, label: str = "box") -> int:
        inst = self.instance()
        self.boxes.append(Box((x, y, size[2] / 2), size, yaw, self.material(), inst, label))
        return inst

    def wall(self, x: float, y0: float, y1: float, thickness: float = 0.12) -> None:
        """A full-height partition across the room at ``x`` from ``y0`` to ``y1`` (structure: no label)."""
        if y1 - y0 > 0.01:
            h = self.hi[2]
            self.boxes.append(Box((x, (y0 + y1) / 2, h / 2), (thickness, y1 - y0, h), 0.0, 0, self.instance(), None))

    def pillar(self, x: float, y: float, radius: float) -> int:
        inst = self.instance()
        self.cylinders.append(Cylinder((x, y), 0.0, self.hi[2], radius, self.material(), inst, "pillar"))
        return inst

    def person(self, x: float, y: float) -> int:
        """A standing person: body and head, one instance labelled ``person``."""
        inst = self.instance()
        r = float(self.rng.uniform(0.18, 0.25))
        height = float(self.rng.uniform(1.55, 1.85))
        self.cylinders.append(Cylinder((x, y), 0.0, height - 0.25, r, self.material(), inst, "person"))
        self.cylinders.append(Cylinder((x, y), height - 0.25, height, 0.11, self.material(), inst, "person"))
        return inst

    def scene(self) -> Scene:
        return replace(
            self.base, boxes=tuple(self.boxes), cylinders=tuple(self.cylinders), materials=tuple(self.materials)
        )


def path_exists(scene: Scene, start: tuple[float, float], goal: tuple[float, float], clearance: float) -> bool:
    """Whether a disc of radius ``clearance`` can move from start to goal (4-connected grid search, 10 cm)."""
    room, step = scene.room, 0.1
    nx = int((room.hi[0] - room.lo[0]) / step)
    ny = int((room.hi[1] - room.lo[1]) / step)

    def cell(p: tuple[float, float]) -> tuple[int, int]:
        return int((p[0] - room.lo[0]) / step), int((p[1] - room.lo[1]) / step)

    def free(i: int, j: int) -> bool:
        x, y = room.lo[0] + (i + 0.5) * step, room.lo[1] + (j + 0.5) * step
        return obstacle_distance(scene, x, y) >= clearance

    begin, end = cell(start), cell(goal)
    seen, queue = {begin}, deque([begin])
    while queue:
        i, j = queue.popleft()
        if (i, j) == end:
            return True
        for n in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
            if 0 <= n[0] < nx and 0 <= n[1] < ny and n not in seen and free(*n):
                seen.add(n)
                queue.append(n)
    return False


def start_goal(lay: Layout, y_start: float = 0.0, y_goal: float = 0.0) -> tuple[RobotState, tuple[float, float]]:
    """The usual start (0.7 m from the -x wall, facing +x) and goal (1 m from the +x wall)."""
    return RobotState(lay.lo[0] + 0.7, y_start, 0.0), (lay.hi[0] - 1.0, y_goal)
