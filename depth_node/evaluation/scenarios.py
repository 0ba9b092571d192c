"""The simulator's scenarios: a start, a goal and a world laid out to test one behaviour each.

Every scenario is built from ``(name, seed)`` alone, so a suite is reproducible on any machine. The room
shell, its textures and its light come from :func:`depth_node.evaluation.world.generate_scene` of the same seed (the
kind of world the depth model was trained on); the obstacles are placed here, where the test needs them.

=================  ==========================================================================================
corridor_boxes     a corridor with boxes against alternate walls: weave between them
cluttered_room     boxes, cabinets and pillars scattered between start and goal (a path is guaranteed)
doorway            a partition wall across the room; the goal is behind its door, off the straight line
person_standing    a person stands on the straight line to the goal: slow down, go around
person_crossing    a person walks across the robot's path as it arrives: give way, then go on
dead_end           a corridor closed at the end, the goal beyond the wall: approach and stop without touching
=================  ==========================================================================================
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from depth_node.evaluation.robot import RobotLimits, RobotState
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
    """

    instance: int
    start: tuple[float, float]
    velocity: tuple[float, float]
    t0: float
    t1: float

    def offset(self, t: float) -> tuple[float, float]:
        """Displacement from the start at time ``t``."""
        walked = min(max(t - self.t0, 0.0), self.t1 - self.t0)
        return self.velocity[0] * walked, self.velocity[1] * walked


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

    def scene_at(self, t: float) -> Scene:
        """The world at time ``t`` (the scene itself when nothing moves)."""
        if not self.movers:
            return self.scene
        shifts = {m.instance: m.offset(t) for m in self.movers}
        cylinders = []
        for cyl in self.scene.cylinders:
            dx, dy = shifts.get(cyl.instance, (0.0, 0.0))
            cylinders.append(replace(cyl, center=(cyl.center[0] + dx, cyl.center[1] + dy)))
        return replace(self.scene, cylinders=tuple(cylinders))


class _Layout:
    """A room shell of a chosen size with the textures and light of a generated scene, and a material maker."""

    def __init__(self, name: str, seed: int, kind: str, length: float, width: float) -> None:
        self.rng = np.random.default_rng([seed, 4242, SCENARIOS.index(name)])
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


def _start_goal(lay: _Layout, y_start: float = 0.0, y_goal: float = 0.0) -> tuple[RobotState, tuple[float, float]]:
    return RobotState(lay.lo[0] + 0.7, y_start, 0.0), (lay.hi[0] - 1.0, y_goal)


def _corridor_boxes(name: str, seed: int) -> Scenario:
    rng = np.random.default_rng([seed, 1])
    lay = _Layout(name, seed, "corridor", float(rng.uniform(8.0, 10.0)), float(rng.uniform(2.3, 2.8)))
    start, goal = _start_goal(lay)
    count = int(rng.integers(2, 4))
    side = 1.0 if rng.random() < 0.5 else -1.0
    for x in np.linspace(lay.lo[0] + 2.6, lay.hi[0] - 2.2, count):
        w, d, h = rng.uniform(0.4, 0.7), rng.uniform(0.4, 0.7), rng.uniform(0.4, 0.9)
        y = side * (lay.hi[1] - d / 2 - rng.uniform(0.0, 0.15))
        lay.box(float(x + rng.uniform(-0.3, 0.3)), float(y), (float(w), float(d), float(h)))
        side = -side
    return Scenario(name, seed, lay.scene(), start, goal, REACH, 40.0)


def _cluttered_room(name: str, seed: int) -> Scenario:
    rng = np.random.default_rng([seed, 2])
    lay = _Layout(name, seed, "clutter", float(rng.uniform(6.5, 8.0)), float(rng.uniform(5.0, 6.5)))
    start, goal = _start_goal(lay, float(rng.uniform(-1.0, 1.0)), float(rng.uniform(-1.0, 1.0)))
    # Redraw until the clutter leaves a passage about 1 m wide from start to goal: a map-less reactive
    # controller has local minima (a pocket facing the goal), and this scenario tests avoidance, not escape.
    radius = RobotLimits().radius + 0.25
    for _ in range(40):
        lay.boxes, lay.cylinders = [], []
        for _ in range(int(rng.integers(6, 10))):
            x = float(rng.uniform(lay.lo[0] + 1.8, lay.hi[0] - 1.6))
            y = float(rng.uniform(lay.lo[1] + 0.4, lay.hi[1] - 0.4))
            kind = rng.random()
            if kind < 0.2:
                lay.pillar(x, y, float(rng.uniform(0.12, 0.3)))
            else:
                h = float(rng.uniform(0.4, 0.9) if kind < 0.7 else rng.uniform(1.0, 1.8))
                size = (float(rng.uniform(0.35, 0.9)), float(rng.uniform(0.35, 0.9)), h)
                lay.box(x, y, size, float(rng.uniform(-math.pi, math.pi)), "box" if kind < 0.7 else "cabinet")
        if path_exists(lay.scene(), (start.x, start.y), goal, radius):
            break
    return Scenario(name, seed, lay.scene(), start, goal, REACH, 45.0)


def _doorway(name: str, seed: int) -> Scenario:
    rng = np.random.default_rng([seed, 3])
    lay = _Layout(name, seed, "doorway", float(rng.uniform(7.0, 8.5)), float(rng.uniform(4.0, 5.5)))
    door_w = float(rng.uniform(1.0, 1.3))
    door_y = float(rng.uniform(lay.lo[1] + 0.9, lay.hi[1] - 0.9))
    x = float(rng.uniform(-0.5, 0.5))
    lay.wall(x, door_y + door_w / 2, lay.hi[1])
    lay.wall(x, lay.lo[1], door_y - door_w / 2)
    start, goal = _start_goal(
        lay, float(rng.uniform(-0.8, 0.8)), float(np.clip(door_y + rng.uniform(-0.8, 0.8), -1.5, 1.5))
    )
    return Scenario(name, seed, lay.scene(), start, goal, REACH, 45.0)


def _person_standing(name: str, seed: int) -> Scenario:
    rng = np.random.default_rng([seed, 4])
    lay = _Layout(name, seed, "room", float(rng.uniform(7.0, 9.0)), float(rng.uniform(3.2, 4.5)))
    start, goal = _start_goal(lay)
    lay.person(float(rng.uniform(-0.5, 0.5)), float(rng.uniform(-0.15, 0.15)))
    return Scenario(name, seed, lay.scene(), start, goal, REACH, 40.0)


def _person_crossing(name: str, seed: int) -> Scenario:
    rng = np.random.default_rng([seed, 5])
    lay = _Layout(name, seed, "room", float(rng.uniform(8.0, 9.5)), float(rng.uniform(4.5, 5.5)))
    start, goal = _start_goal(lay)
    x = float(rng.uniform(-0.5, 0.5))
    side = 1.0 if rng.random() < 0.5 else -1.0
    y0, y1 = -side * (lay.hi[1] - 0.5), side * (lay.hi[1] - 0.6)
    speed = float(rng.uniform(0.5, 0.8))
    # Time it so that the person is on the robot's line when the robot (at about 0.4 m/s) is 1-2 m short of it.
    t_meet = max((x - start.x - float(rng.uniform(1.0, 2.0))) / 0.4, 1.0)
    t0 = max(t_meet - abs(y0) / speed, 0.0)
    inst = lay.person(x, y0)
    mover = Mover(inst, (x, y0), (0.0, side * speed), t0, t0 + abs(y1 - y0) / speed)
    return Scenario(name, seed, lay.scene(), start, goal, REACH, 45.0, movers=(mover,))


def _dead_end(name: str, seed: int) -> Scenario:
    rng = np.random.default_rng([seed, 6])
    lay = _Layout(name, seed, "corridor", float(rng.uniform(6.0, 8.0)), float(rng.uniform(1.8, 2.4)))
    start, _ = _start_goal(lay)
    return Scenario(name, seed, lay.scene(), start, (lay.hi[0] + 3.0, 0.0), STOP, 25.0)


_BUILDERS: dict[str, Callable[[str, int], Scenario]] = {
    "corridor_boxes": _corridor_boxes,
    "cluttered_room": _cluttered_room,
    "doorway": _doorway,
    "person_standing": _person_standing,
    "person_crossing": _person_crossing,
    "dead_end": _dead_end,
}
SCENARIOS = tuple(_BUILDERS)
SUITES: dict[str, tuple[str, ...]] = {"default": SCENARIOS}


# What each scenario tests, in the words of the report page (the module docstring's table).
DESCRIPTIONS: dict[str, str] = {
    "corridor_boxes": "A corridor with boxes against alternate walls: weave between them.",
    "cluttered_room": "Boxes, cabinets and pillars scattered between start and goal (a path is guaranteed).",
    "doorway": "A partition wall across the room; the goal is behind its door, off the straight line.",
    "person_standing": "A person stands on the straight line to the goal: slow down, go around.",
    "person_crossing": "A person walks across the robot's path as it arrives: give way, then go on.",
    "dead_end": "A corridor closed at the end, the goal beyond the wall: approach and stop without touching.",
}


def pass_rule(scenario: Scenario) -> str:
    """How a run of ``scenario`` is judged, in one sentence for the report."""
    if scenario.expect == STOP:
        return (
            f"Expects a stop: the goal cannot be reached, so a run passes when the robot touches nothing until "
            f"the {scenario.timeout_s:.0f} s timeout (outcome 'timeout' is the pass)."
        )
    return (
        f"Expects arrival: a run passes when the robot gets within {scenario.goal_tolerance_m:.2f} m of the goal "
        f"without touching anything, before the {scenario.timeout_s:.0f} s timeout."
    )


def build_scenario(name: str, seed: int) -> Scenario:
    """The scenario ``name`` built from ``seed``.

    Raises:
        ValueError: an unknown name or a negative seed.
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown scenario '{name}'; known: {', '.join(SCENARIOS)}")
    if seed < 0:
        raise ValueError(f"scenario seed must be >= 0, got {seed}")
    return _BUILDERS[name](name, seed)
