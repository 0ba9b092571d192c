"""The extended suite: its scenes build, render, test what they claim, and are solvable; the check itself."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from depth_node.evaluation.robot import RobotLimits, RobotState
from depth_node.evaluation.scenarios import (
    ALL_SCENARIOS,
    REACH,
    SCENARIOS,
    SUITES,
    Mover,
    Scenario,
    Walkers,
    build_scenario,
)
from depth_node.evaluation.scenarios_extended import EXTENDED_ONLY
from depth_node.evaluation.solvable import check_solvable, distance_field, way_exists
from depth_node.evaluation.world import Box, Pose, camera_for, obstacle_distance, render


def test_the_extended_suite_is_the_default_six_and_the_new_ones() -> None:
    assert SUITES["default"] == SCENARIOS and len(SCENARIOS) == 6
    assert SUITES["extended"] == SCENARIOS + EXTENDED_ONLY
    assert set(EXTENDED_ONLY) >= {"narrow_gap", "low_box", "thin_legs", "crowd"}
    assert set(ALL_SCENARIOS) == set(SUITES["extended"])


@pytest.mark.parametrize("name", EXTENDED_ONLY)
def test_new_scenes_build_solvable_and_render(name: str) -> None:
    radius = RobotLimits().radius
    camera = camera_for(160, 120)
    for seed in range(3):
        sc = build_scenario(name, seed)
        assert (sc.name, sc.seed, sc.expect) == (name, seed, REACH)
        assert check_solvable(sc) is None
        assert obstacle_distance(sc.scene, sc.start.x, sc.start.y) >= radius
        assert obstacle_distance(sc.scene, *sc.goal) >= radius
        # From the start, looking at the goal, the scene's own objects are in view (not an empty room).
        yaw = math.atan2(sc.goal[1] - sc.start.y, sc.goal[0] - sc.start.x)
        frame = render(sc.scene, camera, Pose(sc.start.x, sc.start.y, 0.5, yaw, 0.05))
        assert frame.rgb.shape == (120, 160, 3) and np.isfinite(frame.depth).mean() > 0.99
        seen = set(np.unique(frame.instance)) - {-1}
        assert seen, (name, seed)


def test_narrow_gap_is_about_one_and_a_half_robot_widths_and_the_only_way() -> None:
    diameter = 2.0 * RobotLimits().radius
    for seed in range(5):
        sc = build_scenario("narrow_gap", seed)
        walls = [b for b in sc.scene.boxes if b.label is None]
        assert len(walls) == 2
        (a, b) = sorted(walls, key=lambda w: w.center[1])
        gap = (b.center[1] - b.size[1] / 2) - (a.center[1] + a.size[1] / 2)
        assert 1.4 * diameter <= gap <= 1.65 * diameter
        blocked = replace(sc.scene, boxes=(*sc.scene.boxes, replace(a, center=(a.center[0], a.center[1] + 0.3, 1.0))))
        assert not way_exists(blocked, (sc.start.x, sc.start.y), sc.goal, RobotLimits().radius)


def test_low_boxes_are_under_a_third_of_the_camera_height_and_on_the_way() -> None:
    for seed in range(5):
        sc = build_scenario("low_box", seed)
        assert sc.scene.boxes and all(b.center[2] + b.size[2] / 2 < 0.5 / 3 for b in sc.scene.boxes)
        # At least one stands across the straight line from start to goal.
        t = np.linspace(0.0, 1.0, 200)
        xs = sc.start.x + t * (sc.goal[0] - sc.start.x)
        ys = sc.start.y + t * (sc.goal[1] - sc.start.y)
        assert distance_field(sc.scene, xs, ys).min() < RobotLimits().radius


def test_thin_legs_are_a_few_centimetres_and_the_tops_above_the_body() -> None:
    limits = RobotLimits()
    for seed in range(5):
        sc = build_scenario("thin_legs", seed)
        legs = [b for b in sc.scene.boxes if b.center[2] - b.size[2] / 2 < limits.body_height]
        tops = [b for b in sc.scene.boxes if b.center[2] - b.size[2] / 2 >= limits.body_height]
        assert legs and tops and len(legs) == 4 * len(tops)
        assert all(max(b.size[0], b.size[1]) <= 0.05 for b in legs)
        # Tables' tops are above the scan band (0.8 m): only their legs are obstacles to the scan.
        assert any(b.label == "table" and b.center[2] - 0.02 > 0.8 for b in tops)


def test_crowd_walks_at_different_speeds_and_headings_and_gives_way() -> None:
    sc = build_scenario("crowd", 0)
    assert len(sc.movers) >= 4 and all(m.yield_m > 0.0 for m in sc.movers)
    speeds = {round(math.hypot(*m.velocity), 2) for m in sc.movers}
    headings = {round(math.atan2(m.velocity[1], m.velocity[0]), 2) for m in sc.movers}
    assert len(speeds) == len(sc.movers) and len(headings) == len(sc.movers)
    # A walker heading at a robot that stands in its way stops short of it, then walks on once it has gone.
    m = max(sc.movers, key=lambda w: (w.t1 - w.t0) * math.hypot(*w.velocity))
    assert (m.t1 - m.t0) * math.hypot(*m.velocity) > 2.5
    ahead = m.position(m.t0 + 2.0 / math.hypot(*m.velocity))  # 2 m along its walk
    walkers = Walkers(sc)
    dt = 0.05
    for k in range(int((m.t0 + 6.0) / dt)):
        scene = walkers.scene_at(k * dt, ahead)
    body = next(c for c in scene.cylinders if c.instance == m.instance)
    assert math.hypot(body.center[0] - ahead[0], body.center[1] - ahead[1]) >= m.yield_m - math.hypot(*m.velocity) * dt
    assert walkers.paused[m.instance] > 1.0
    t = (int((m.t0 + 6.0) / dt) - 1) * dt
    before = walkers.paused[m.instance]
    walkers.scene_at(t + dt, (1e3, 1e3))  # the robot is gone: its clock runs again
    assert walkers.paused[m.instance] == before


def test_people_who_do_not_give_way_follow_the_clock_exactly() -> None:
    sc = build_scenario("person_crossing", 0)
    walkers = Walkers(sc)
    (m,) = sc.movers
    for t in (0.0, m.t0 + 1.0, m.t1):
        assert walkers.scene_at(t, m.position(t)).cylinders == sc.scene_at(t).cylinders


def _room_scenario(boxes: tuple[Box, ...], movers: tuple[Mover, ...] = ()) -> Scenario:
    base = build_scenario("person_standing", 0)
    scene = replace(base.scene, boxes=boxes, cylinders=base.scene.cylinders if movers else ())
    return Scenario(
        "probe", 0, scene, RobotState(base.scene.room.lo[0] + 0.7, 0.0, 0.0), base.goal, REACH, 10.0, 0.35, movers
    )


def test_the_check_refuses_a_wall_and_a_gap_narrower_than_the_footprint() -> None:
    room = build_scenario("person_standing", 0).scene.room
    height, width = room.hi[2], room.hi[1] - room.lo[1]

    def wall(gap: float) -> tuple[Box, ...]:
        half = (width - gap) / 2
        return (
            Box((0.0, room.lo[1] + half / 2, height / 2), (0.1, half, height), 0.0, 0, 0, None),
            Box((0.0, room.hi[1] - half / 2, height / 2), (0.1, half, height), 0.0, 0, 1, None),
        )

    assert check_solvable(_room_scenario(())) is None
    assert check_solvable(_room_scenario(wall(0.75))) is None
    why = check_solvable(_room_scenario(wall(0.45)))
    assert why is not None and "no way" in why
    # A table top above the body is driven under; the same box reaching the floor walls the room off.
    top = Box((0.0, 0.0, 1.5), (0.2, width, 1.0), 0.0, 0, 0, "table")
    assert check_solvable(_room_scenario((top,))) is None
    assert check_solvable(_room_scenario((replace(top, center=(0.0, 0.0, 0.5)),))) is not None


def test_the_check_refuses_people_who_wall_the_goal_off() -> None:
    base = build_scenario("person_standing", 0)
    (person,) = {c.instance for c in base.scene.cylinders}
    x, y = next(c.center for c in base.scene.cylinders if c.z0 == 0.0)
    room = base.scene.room
    # Standing on the line is fine (there is room around); walking to block the whole width is not,
    # and neither is a wall with one passage that a person then stands in for good.
    assert check_solvable(_room_scenario((), (Mover(person, (x, y), (0.0, 0.0), 0.0, 0.0),))) is None
    height = room.hi[2]
    half = (room.hi[1] - room.lo[1] - 0.8) / 2
    walls = (
        Box((x, room.lo[1] + half / 2, height / 2), (0.1, half, height), 0.0, 0, 90, None),
        Box((x, room.hi[1] - half / 2, height / 2), (0.1, half, height), 0.0, 0, 91, None),
    )
    walks_in = Mover(person, (x - 1.5, 0.0), (0.5, 0.0), 1.0, 4.0)
    shifted = replace(
        base.scene,
        boxes=walls,
        cylinders=tuple(replace(c, center=(x - 1.5, 0.0)) for c in base.scene.cylinders),
    )
    sc = Scenario(
        "probe", 0, shifted, RobotState(room.lo[0] + 0.7, 0.0, 0.0), base.goal, REACH, 10.0, 0.35, (walks_in,)
    )
    why = check_solvable(sc)
    assert why is not None and "moving people" in why
