"""The extended suite's own scenarios: the cases a monocular, map-less controller finds hardest.

=================  ==========================================================================================
narrow_gap         a partition across the room with one passage about 1.5 robot widths wide, the only way
low_box            boxes lower than a third of the camera height on the way: the floor band must keep them
thin_legs          high tables and bar stools: only legs a few centimetres thick stand in the scan's band
crowd              several people walking at different speeds and headings (they give way, as people do)
=================  ==========================================================================================

Every builder redraws its layout (a bounded number of times) until :func:`depth_node.evaluation.solvable.
check_solvable` finds a way with a margin; :func:`depth_node.evaluation.scenarios.build_scenario` checks it again.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from depth_node.evaluation.robot import RobotLimits
from depth_node.evaluation.scene_layout import REACH, Layout, Mover, Scenario, start_goal
from depth_node.evaluation.solvable import DEFAULT_MARGIN_M, check_solvable
from depth_node.evaluation.world import Box

EXTENDED_ONLY = ("narrow_gap", "low_box", "thin_legs", "crowd")
_REDRAWS = 60
# low_box and thin_legs test what the scan sees, not escapes from a maze: like cluttered_room, their obstacles
# are redrawn until a way about 1 m wide is left (the robot's 0.5 m plus this margin on each side).
_WIDE_MARGIN_M = 0.25
# Camera height of the simulator (SimOptions.camera_height_m): a low box stays below a third of it.
_CAMERA_HEIGHT_M = 0.5

DESCRIPTIONS: dict[str, str] = {
    "narrow_gap": "A partition across the room with one passage about 1.5 robot widths wide, the only way through.",
    "low_box": "Boxes lower than a third of the camera height on the way: the scan's floor band must keep them.",
    "thin_legs": "High tables and bar stools: only legs a few centimetres thick stand in the scan's height band.",
    "crowd": "Several people walking at different speeds and headings (they give way to the robot, as people do).",
}


def _layout(name: str, seed: int, kind: str, length: float, width: float) -> Layout:
    return Layout(100 + EXTENDED_ONLY.index(name), seed, kind, length, width)


def _first_solvable(build: Callable[[], Scenario], margin_m: float = DEFAULT_MARGIN_M) -> Scenario:
    """The first of up to ``_REDRAWS`` draws solvable with ``margin_m`` (the last draw otherwise: the check in
    :func:`depth_node.evaluation.scenarios.build_scenario` then refuses it when it leaves no way at all)."""
    scenario = build()
    for _ in range(_REDRAWS - 1):
        if check_solvable(scenario, margin_m=margin_m) is None:
            break
        scenario = build()
    return scenario


def _narrow_gap(name: str, seed: int) -> Scenario:
    rng = np.random.default_rng([seed, 11])
    lay = _layout(name, seed, "doorway", float(rng.uniform(7.0, 8.5)), float(rng.uniform(4.0, 5.5)))
    diameter = 2.0 * RobotLimits().radius
    gap = float(rng.uniform(1.45, 1.6)) * diameter
    gap_y = float(rng.uniform(lay.lo[1] + 0.9, lay.hi[1] - 0.9))
    x = float(rng.uniform(-0.5, 0.5))
    thickness = float(rng.uniform(0.12, 0.5))  # a door jamb or a short passage between two cabinets
    lay.wall(x, gap_y + gap / 2, lay.hi[1], thickness)
    lay.wall(x, lay.lo[1], gap_y - gap / 2, thickness)
    start, goal = start_goal(lay, float(rng.uniform(-1.0, 1.0)), float(rng.uniform(-1.0, 1.0)))
    return Scenario(name, seed, lay.scene(), start, goal, REACH, 50.0)


def _low_box(name: str, seed: int) -> Scenario:
    rng = np.random.default_rng([seed, 12])
    lay = _layout(name, seed, "room", float(rng.uniform(7.0, 9.0)), float(rng.uniform(3.5, 5.0)))
    start, goal = start_goal(lay, float(rng.uniform(-0.6, 0.6)), float(rng.uniform(-0.6, 0.6)))

    def build() -> Scenario:
        lay.boxes = []
        count = int(rng.integers(4, 8))
        for i in range(count):
            # The first two lie on the straight line from start to goal: they must be seen to be avoided.
            f = float(rng.uniform(0.25, 0.8))
            x = start.x + f * (goal[0] - start.x)
            line_y = start.y + f * (goal[1] - start.y)
            y = (
                line_y + float(rng.uniform(-0.2, 0.2))
                if i < 2
                else float(rng.uniform(lay.lo[1] + 0.3, lay.hi[1] - 0.3))
            )
            h = float(rng.uniform(0.08, _CAMERA_HEIGHT_M / 3.0 - 0.01))
            size = (float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.3, 0.7)), h)
            lay.box(x, y, size, float(rng.uniform(-math.pi, math.pi)), "box")
        return Scenario(name, seed, lay.scene(), start, goal, REACH, 45.0)

    return _first_solvable(build, _WIDE_MARGIN_M)


def _legged(lay: Layout, x: float, y: float, size: tuple[float, float], top: float, leg: float, label: str) -> None:
    """A table or stool: a top (its bottom at ``top - 0.04``) on four square legs ``leg`` thick, one instance."""
    rng = lay.rng
    yaw = float(rng.uniform(-math.pi, math.pi))
    mat = lay.material()
    inst = lay.instance()
    lay.boxes.append(Box((x, y, top - 0.02), (size[0], size[1], 0.04), yaw, mat, inst, label))
    c, s = math.cos(yaw), math.sin(yaw)
    for sx in (-1, 1):
        for sy in (-1, 1):
            lx, ly = sx * (size[0] / 2 - leg), sy * (size[1] / 2 - leg)
            center = (x + c * lx - s * ly, y + s * lx + c * ly, (top - 0.04) / 2)
            lay.boxes.append(Box(center, (leg, leg, top - 0.04), yaw, mat, inst, label))


def _thin_legs(name: str, seed: int) -> Scenario:
    rng = np.random.default_rng([seed, 13])
    lay = _layout(name, seed, "room", float(rng.uniform(7.0, 8.5)), float(rng.uniform(4.5, 6.0)))
    start, goal = start_goal(lay, float(rng.uniform(-0.8, 0.8)), float(rng.uniform(-0.8, 0.8)))

    def build() -> Scenario:
        lay.boxes = []
        # High tables: the top is above the scan's band (0.8 m) and the robot's body, so only the legs
        # (3-5 cm) are obstacles; the robot may drive between them when they are wide enough apart.
        for i in range(int(rng.integers(2, 4))):
            f = float(rng.uniform(0.3, 0.75))
            x = start.x + f * (goal[0] - start.x)
            y = (start.y + f * (goal[1] - start.y)) if i == 0 else float(rng.uniform(lay.lo[1] + 0.8, lay.hi[1] - 0.8))
            size = (float(rng.uniform(0.8, 1.5)), float(rng.uniform(0.6, 1.0)))
            _legged(lay, x, y, size, float(rng.uniform(0.85, 1.05)), float(rng.uniform(0.03, 0.05)), "table")
        # Bar stools: a small seat above the body (the camera sees its underside) on legs 2.5-4 cm thick.
        for _ in range(int(rng.integers(2, 6))):
            x = float(rng.uniform(start.x + 1.2, goal[0] - 0.6))
            y = float(rng.uniform(lay.lo[1] + 0.4, lay.hi[1] - 0.4))
            side = float(rng.uniform(0.3, 0.42))
            _legged(lay, x, y, (side, side), float(rng.uniform(0.62, 0.78)), float(rng.uniform(0.025, 0.04)), "chair")
        return Scenario(name, seed, lay.scene(), start, goal, REACH, 45.0)

    return _first_solvable(build, _WIDE_MARGIN_M)


def _crowd(name: str, seed: int) -> Scenario:
    rng = np.random.default_rng([seed, 14])
    lay = _layout(name, seed, "room", float(rng.uniform(8.0, 10.0)), float(rng.uniform(5.0, 6.5)))
    start, goal = start_goal(lay, float(rng.uniform(-0.8, 0.8)), float(rng.uniform(-0.8, 0.8)))
    timeout = 50.0

    def build() -> Scenario:
        lay.cylinders = []
        movers = []
        for _ in range(int(rng.integers(4, 7))):
            for _ in range(50):  # a start away from the robot's start and goal
                x0 = float(rng.uniform(lay.lo[0] + 0.5, lay.hi[0] - 0.5))
                y0 = float(rng.uniform(lay.lo[1] + 0.5, lay.hi[1] - 0.5))
                if math.hypot(x0 - start.x, y0 - start.y) > 2.0 and math.hypot(x0 - goal[0], y0 - goal[1]) > 1.2:
                    break
            heading = float(rng.uniform(-math.pi, math.pi))
            speed = float(rng.uniform(0.3, 1.1))
            vx, vy = speed * math.cos(heading), speed * math.sin(heading)
            # Walk until 0.5 m short of a wall, then stand.
            reach = [
                (bound - p) / v
                for p, v, lo, hi in ((x0, vx, lay.lo[0], lay.hi[0]), (y0, vy, lay.lo[1], lay.hi[1]))
                for bound in ((hi - 0.5) if v > 0 else (lo + 0.5),)
                if abs(v) > 1e-6
            ]
            walk = max(0.0, min(reach, default=0.0))
            t0 = float(rng.uniform(0.0, 12.0))
            inst = lay.person(x0, y0)
            movers.append(Mover(inst, (x0, y0), (vx, vy), t0, t0 + walk, yield_m=1.0))
        return Scenario(name, seed, lay.scene(), start, goal, REACH, timeout, movers=tuple(movers))

    return _first_solvable(build)


BUILDERS: dict[str, Callable[[str, int], Scenario]] = {
    "narrow_gap": _narrow_gap,
    "low_box": _low_box,
    "thin_legs": _thin_legs,
    "crowd": _crowd,
}
