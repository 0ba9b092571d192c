"""The rolling obstacle window, its wavefront and the heading it plans; the progress watch that engages it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from depth_node.evaluation.scenarios import build_scenario
from depth_node.simulation.in_process import run_scenario
from depth_node.simulation.options import SimOptions
from navigation.grid import inflate, wavefront
from navigation.local_plan import LocalPlanner
from navigation.params import ObstacleAvoidanceParams
from navigation.progress import ProgressWatch

TURN_COST = 0.5  # m/rad: 0.5 m/s top speed over 1 rad/s top turn rate, the defaults


def _planner(window: float = 6.0, memory: float = 20.0) -> LocalPlanner:
    return LocalPlanner(window_m=window, resolution_m=0.1, memory_s=memory, max_range_m=3.0)


def _ring_scan(ranges_by_angle: dict[float, float], bins: int = 720) -> tuple[np.ndarray, np.ndarray]:
    """A full-circle scan, +inf (free to the range limit) except where a function of the bearing says otherwise."""
    angles = np.linspace(-math.pi, math.pi, bins, endpoint=False)
    ranges = np.full(bins, np.inf)
    for (low, high), r in ranges_by_angle.items():  # type: ignore[misc]
        ranges[(angles >= low) & (angles <= high)] = r
    return angles, ranges


def test_wavefront_on_an_empty_grid_is_the_octile_distance() -> None:
    blocked = np.zeros((12, 12), dtype=bool)
    seed = np.full((12, 12), np.inf)
    seed[2, 3] = 0.0
    cost = wavefront(blocked, seed)
    i, j = np.indices(cost.shape)
    di, dj = np.abs(i - 2), np.abs(j - 3)
    octile = np.maximum(di, dj) + (math.sqrt(2.0) - 1.0) * np.minimum(di, dj)
    np.testing.assert_allclose(cost, octile, atol=1e-9)


def test_wavefront_goes_round_a_wall_and_never_through_it() -> None:
    blocked = np.zeros((11, 11), dtype=bool)
    blocked[5, 0:10] = True  # a wall across, open only at j = 10
    seed = np.full((11, 11), np.inf)
    seed[0, 0] = 0.0
    cost = wavefront(blocked, seed)
    assert np.all(np.isinf(cost[blocked]))
    # From (0, 0) to (10, 0): through the opening at (5, 10), not the 10 cells straight down.
    assert cost[10, 0] == pytest.approx(2 * (5 + 5 * math.sqrt(2.0)), abs=1e-9)
    enclosed = np.ones((5, 5), dtype=bool)
    enclosed[2, 2] = False
    lone = np.full((5, 5), np.inf)
    lone[0, 0] = 0.0  # a seed inside a blocked cell reaches nothing
    assert np.all(np.isinf(wavefront(enclosed, lone)))


def test_inflate_is_a_disc() -> None:
    occupied = np.zeros((11, 11), dtype=bool)
    occupied[5, 5] = True
    grown = inflate(occupied, 2.5)
    i, j = np.indices(grown.shape)
    np.testing.assert_array_equal(grown, (i - 5) ** 2 + (j - 5) ** 2 <= 6.25)


def test_integrate_marks_returns_and_clears_what_the_rays_pass() -> None:
    planner = _planner()
    pose = (0.0, 0.0, 0.0)
    angles, ranges = np.array([0.0, math.pi / 2]), np.array([2.0, np.inf])
    planner.integrate(1.0, angles, ranges, pose)
    occ = planner.occupied(1.0)
    ox, oy = planner.origin
    hit = (int((2.0 - ox) / 0.1), int((0.0 - oy) / 0.1))
    assert occ[hit] and occ.sum() == 1  # one return; the +inf ray marks nothing
    # The obstacle moved away: a later ray through that cell clears it.
    planner.integrate(2.0, np.array([0.0]), np.array([2.6]), pose)
    occ = planner.occupied(2.0)
    assert not occ[hit] and occ.sum() == 1
    # Not measured (NaN) and too close (-inf) change nothing; old hits are forgotten after memory_s.
    planner.integrate(3.0, np.array([0.0, 0.1]), np.array([np.nan, -np.inf]), pose)
    assert planner.occupied(3.0).sum() == 1
    assert planner.occupied(2.0 + 20.0 + 0.01).sum() == 0


def _cell(planner: LocalPlanner, x: float, y: float) -> tuple[int, int]:
    ox, oy = planner.origin
    return int((x - ox) / planner.resolution), int((y - oy) / planner.resolution)


def test_a_ray_grazing_a_remembered_corner_outside_the_view_does_not_erase_it() -> None:
    """The outermost beam passes millimetres from a corner just beyond the view, through its cell."""
    planner = _planner()
    corner = (1.02, -0.63)  # about 31.7 degrees to the right, 1.2 m away
    bearing = math.atan2(corner[1], corner[0])
    planner.integrate(0.0, np.array([bearing, bearing + 0.01]), np.array([math.hypot(*corner), np.inf]), (0, 0, 0))
    assert planner.occupied(0.0)[_cell(planner, *corner)]
    # The robot has turned left by 0.4 degrees: the fan now ends 0.03 degrees short of the corner.
    yaw = 0.007
    fan = np.linspace(bearing - yaw + 0.0005, 0.5, 60)
    planner.integrate(0.1, fan, np.full(fan.size, np.inf), (0.0, 0.0, yaw))
    assert planner.occupied(0.1)[_cell(planner, *corner)]
    # Turned back, the corner is inside the fan, and a ray through its cell that returns far beyond clears it.
    fan = np.linspace(bearing - 0.1, 0.5, 60)
    planner.integrate(0.2, fan, np.full(fan.size, np.inf), (0.0, 0.0, 0.0))
    assert not planner.occupied(0.2)[_cell(planner, *corner)]


def test_the_window_rolls_with_the_robot_and_keeps_its_hits() -> None:
    planner = _planner(window=4.0)
    planner.integrate(0.0, np.array([0.0]), np.array([1.0]), (0.0, 0.0, 0.0))
    before = planner.origin
    planner.integrate(0.1, np.array([math.pi / 2]), np.array([np.inf]), (1.5, 0.0, 0.0))  # looks aside
    assert planner.origin[0] > before[0]  # recentred
    bearings, distances = planner.obstacles_near(0.1, (1.5, 0.0, 0.0), 1.0)
    assert bearings.size == 1
    assert distances[0] == pytest.approx(0.5, abs=0.08)
    assert abs(bearings[0]) == pytest.approx(math.pi, abs=0.2)  # behind the robot now


def test_free_space_plans_straight_to_the_goal() -> None:
    planner = _planner()
    angles, ranges = _ring_scan({})
    planner.integrate(0.0, angles, ranges, (0.0, 0.0, 0.3))
    heading = planner.heading(0.0, (0.0, 0.0, 0.3), (4.0, 0.0), 0.0, 0.35, 1.0, 0.0)
    assert heading == pytest.approx(-0.3, abs=0.06)
    along = planner.heading(0.0, (0.0, 0.0, 0.3), None, 0.0, 0.35, 1.0, 0.0)
    assert along == pytest.approx(-0.3, abs=0.06)
    # The turn cost trades a little path for less turning: toward the goal, but not all the way at once.
    lagging = planner.heading(0.0, (0.0, 0.0, 0.3), (4.0, 0.0), 0.0, 0.35, 1.0, TURN_COST)
    assert lagging is not None and -0.3 < lagging < 0.0


def test_a_pocket_facing_the_goal_is_left_sideways() -> None:
    """A cup of obstacles 1 m ahead spanning +-70 degrees: the goal behind it is reached round its rim."""
    planner = _planner()
    angles, ranges = _ring_scan({(-1.22, 1.22): 1.0})
    planner.integrate(0.0, angles, ranges, (0.0, 0.0, 0.0))
    heading = planner.heading(0.0, (0.0, 0.0, 0.0), (4.0, 0.0), 0.0, 0.35, 1.0, TURN_COST)
    assert heading is not None
    assert abs(heading) > 1.0  # out past the rim, not into the cup
    # A whole ring of obstacles: no way out, no plan.
    enclosed = _planner()
    angles, ranges = _ring_scan({(-math.pi, math.pi): 0.6})
    enclosed.integrate(0.0, angles, ranges, (0.0, 0.0, 0.0))
    assert enclosed.heading(0.0, (0.0, 0.0, 0.0), (4.0, 0.0), 0.0, 0.35, 1.0, TURN_COST) is None


def test_the_turn_cost_keeps_the_side_the_robot_faces() -> None:
    """A wall straight across the goal line: both ends are equally far, the one the robot faces wins."""
    for yaw in (0.4, -0.4):
        planner = _planner()
        angles, ranges = _ring_scan({(-0.6, 0.6): 1.2})
        pose = (0.0, 0.0, yaw)
        planner.integrate(0.0, angles - yaw, ranges, pose)  # the same wall in the odometry frame
        heading = planner.heading(0.0, pose, (4.0, 0.0), 0.0, 0.35, 1.0, TURN_COST)
        assert heading is not None
        assert math.copysign(1.0, heading + yaw) == math.copysign(1.0, yaw)


def test_progress_watch_engages_when_stuck_and_releases_past_the_point() -> None:
    watch = ProgressWatch(after_s=5.0)
    assert not watch.update(0.0, 0.0)
    assert not watch.update(3.0, 0.5)  # progress
    assert not watch.update(8.0, 0.6)  # only 0.1 m more, but within 5 s of the last real progress
    assert watch.update(8.1, 0.6)  # 5.1 s since 0.5 m
    assert watch.update(12.0, 0.2)  # backing out of the pocket
    assert watch.update(15.0, 0.9)  # 0.4 m past where it got stuck: still planning
    assert not watch.update(16.0, 1.1)  # 0.6 m past: handed back
    assert ProgressWatch(after_s=0.0).update(0.0, 0.0)  # 0: always engaged


def test_a_pocket_in_the_cluttered_room_is_escaped() -> None:
    """Oracle depth, cluttered_room seed 3: the gap follower alone stalls in a pocket until the timeout."""
    scenario = build_scenario("cluttered_room", 3)
    plain = run_scenario(
        scenario, SimOptions(depth="oracle"), None, nav_params=ObstacleAvoidanceParams(plan_window_m=0)
    )
    planned = run_scenario(scenario, SimOptions(depth="oracle"), None)
    assert plain.outcome == "timeout"
    assert planned.success and not planned.collision


def _dijkstra(blocked: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Reference: textbook Dijkstra over the 8-connected grid (moves of 1 and sqrt 2, never into a blocked cell)."""
    import heapq

    n, m = blocked.shape
    cost = np.where(blocked, np.inf, seed)
    heap = [(float(cost[i, j]), i, j) for i, j in zip(*np.nonzero(np.isfinite(cost)), strict=True)]
    heapq.heapify(heap)
    while heap:
        c, i, j = heapq.heappop(heap)
        if c > cost[i, j]:
            continue
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                a, b = i + di, j + dj
                if (di or dj) and 0 <= a < n and 0 <= b < m and not blocked[a, b]:
                    step = c + math.hypot(di, dj)
                    if step < cost[a, b]:
                        cost[a, b] = step
                        heapq.heappush(heap, (step, a, b))
    return cost


def test_wavefront_equals_dijkstra_and_a_limited_one_is_exact_within_its_sweeps() -> None:
    rng = np.random.default_rng(11)
    for trial in range(40):
        n, m = int(rng.integers(5, 40)), int(rng.integers(5, 40))
        blocked = rng.random((n, m)) < rng.uniform(0.0, 0.4)
        seed = np.full((n, m), np.inf)
        seed[rng.integers(0, n, 3), rng.integers(0, m, 3)] = rng.uniform(0.0, 4.0, 3)
        if trial % 4 == 0:
            seed[0, :] = np.linspace(0.0, 6.0, m)  # a border seeded with costs, as cost_to_go does
        reference = _dijkstra(blocked, seed)
        np.testing.assert_allclose(wavefront(blocked, seed), reference, atol=1e-9)
        near = reference <= 6.0  # at most 6 moves away from a seed (every move is >= 1 cell)
        np.testing.assert_allclose(wavefront(blocked, seed, max_sweeps=6)[near], reference[near], atol=1e-9)


def _hold_planner(hold_m: float) -> LocalPlanner:
    return LocalPlanner(window_m=6.0, resolution_m=0.1, memory_s=20.0, max_range_m=3.0, hold_unseen_m=hold_m)


def test_a_leg_kept_beside_the_view_is_not_forgotten_and_is_cleared_once_seen_empty() -> None:
    """thin_legs 6 and 7: a leg seen once, then beside the robot for longer than ``memory_s`` while it creeps."""
    fan = np.linspace(-0.55, 0.55, 64)
    near_bin, far_bin = int(np.argmin(np.abs(fan))), int(np.argmin(np.abs(fan - 0.26)))
    near_leg = (0.5 * math.cos(fan[near_bin]), 0.5 * math.sin(fan[near_bin]))  # half a metre ahead
    far_leg = (2.1 * math.cos(fan[far_bin]), 2.1 * math.sin(fan[far_bin]))  # 2.1 m ahead, to the left
    legs = (near_leg, far_leg)
    results = {}
    for hold in (0.0, 0.75):
        planner = _hold_planner(hold)
        ranges = np.full(fan.size, np.inf)
        ranges[near_bin], ranges[far_bin] = 0.5, 2.1
        planner.integrate(0.0, fan, ranges, (0.0, 0.0, 0.0))
        for leg in legs:
            assert planner.occupied(0.0)[_cell(planner, *leg)]
        # Turned left by 90 degrees, both legs are beside the view for 30 s (the fan sees nothing).
        for k in range(1, 301):
            planner.integrate(0.1 * k, fan, np.full(fan.size, np.inf), (0.0, 0.0, math.pi / 2))
        results[hold] = {leg: bool(planner.occupied(30.0)[_cell(planner, *leg)]) for leg in legs}
        if hold > 0.0:
            # Facing it again, a ray through the leg's cell that returns far beyond clears it as before.
            planner.integrate(30.1, fan, np.full(fan.size, np.inf), (0.0, 0.0, 0.0))
            assert not planner.occupied(30.1)[_cell(planner, *near_leg)]
    assert results[0.0] == {near_leg: False, far_leg: False}  # main's window: aged out although still there
    assert results[0.75] == {near_leg: True, far_leg: False}  # held within hold_unseen_m only


def test_thin_legs_seed_6_collides_without_holding_the_unseen_leg() -> None:
    """Oracle depth, thin_legs seed 6: the leg seen at 1 s ages out of the window at 21 s, still beside the robot."""
    scenario = build_scenario("thin_legs", 6)
    forgetting = run_scenario(
        scenario, SimOptions(depth="oracle"), None, nav_params=ObstacleAvoidanceParams(plan_hold_unseen_m=0.0)
    )
    holding = run_scenario(scenario, SimOptions(depth="oracle"), None)
    assert forgetting.collision
    assert not holding.collision
