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

``--suite extended`` adds the scenarios of :mod:`depth_node.evaluation.scenarios_extended` (narrow_gap, low_box,
thin_legs, crowd).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from depth_node.evaluation.robot import RobotLimits
from depth_node.evaluation.scenarios_extended import BUILDERS as EXTENDED_BUILDERS
from depth_node.evaluation.scenarios_extended import DESCRIPTIONS as EXTENDED_DESCRIPTIONS
from depth_node.evaluation.scenarios_extended import EXTENDED_ONLY
from depth_node.evaluation.scene_layout import (
    REACH,
    STOP,
    Layout,
    Mover,
    Scenario,
    Walkers,
    path_exists,
    start_goal,
)
from depth_node.evaluation.solvable import UnsolvableScenarioError, check_solvable

__all__ = ["REACH", "STOP", "Mover", "Scenario", "Walkers", "build_scenario", "path_exists"]


def _Layout(name: str, seed: int, kind: str, length: float, width: float) -> Layout:  # noqa: N802
    """The layout of one of the default scenarios: its random stream is salted by its place in the suite."""
    return Layout(SCENARIOS.index(name), seed, kind, length, width)


_start_goal = start_goal


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
SCENARIOS = tuple(_BUILDERS)  # the default suite
_BUILDERS.update(EXTENDED_BUILDERS)
ALL_SCENARIOS = tuple(_BUILDERS)
SUITES: dict[str, tuple[str, ...]] = {"default": SCENARIOS, "extended": SCENARIOS + EXTENDED_ONLY}


# What each scenario tests, in the words of the report page (the module docstring's table).
DESCRIPTIONS: dict[str, str] = {
    "corridor_boxes": "A corridor with boxes against alternate walls: weave between them.",
    "cluttered_room": "Boxes, cabinets and pillars scattered between start and goal (a path is guaranteed).",
    "doorway": "A partition wall across the room; the goal is behind its door, off the straight line.",
    "person_standing": "A person stands on the straight line to the goal: slow down, go around.",
    "person_crossing": "A person walks across the robot's path as it arrives: give way, then go on.",
    "dead_end": "A corridor closed at the end, the goal beyond the wall: approach and stop without touching.",
    **EXTENDED_DESCRIPTIONS,
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

    A scenario that expects arrival is checked solvable (:func:`depth_node.evaluation.solvable.check_solvable`)
    before it is handed out, so that a failed run is always the controller's or the depth's.

    Raises:
        ValueError: an unknown name or a negative seed.
        UnsolvableScenarioError: the scene leaves no way for the robot's footprint with the margin.
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown scenario '{name}'; known: {', '.join(ALL_SCENARIOS)}")
    if seed < 0:
        raise ValueError(f"scenario seed must be >= 0, got {seed}")
    scenario = _BUILDERS[name](name, seed)
    why = check_solvable(scenario)
    if why is not None:
        raise UnsolvableScenarioError(f"scenario '{name}' seed {seed} cannot be solved: {why}")
    return scenario
