"""Obstacle memory: scan points kept in the odometry frame, returned outside the view; headings they block."""

from __future__ import annotations

import math

import numpy as np
import pytest

from navigation.memory import ObstacleMemory, headings_blocked_by


def _scan(*points: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(angles, ranges) of scan points given as (bearing, range)."""
    return np.array([p[0] for p in points]), np.array([p[1] for p in points])


def _wrap(a: float) -> float:
    return math.atan2(math.sin(a), math.cos(a))


def test_a_point_seen_ahead_is_beside_the_robot_after_it_turns() -> None:
    memory = ObstacleMemory(horizon_s=3.0, range_m=2.0)
    memory.add(0.0, *_scan((0.0, 0.5)), pose=(1.0, 0.0, 0.0))  # world (1.5, 0)
    # Half a metre on, facing +y: the point is 0.5 m to the right.
    bearings, distances = memory.outside_view(0.5, (1.0, 0.0, math.pi / 2), half_fov=0.5)
    assert bearings == pytest.approx([-math.pi / 2]) and distances == pytest.approx([0.5])
    # Driven past it along +x: the point is behind.
    bearings, distances = memory.outside_view(0.5, (2.0, 0.0, 0.0), half_fov=0.5)
    assert abs(bearings[0]) == pytest.approx(math.pi) and distances == pytest.approx([0.5])


def test_points_are_transformed_through_both_poses() -> None:
    rng = np.random.default_rng(3)
    memory = ObstacleMemory(horizon_s=10.0, range_m=100.0)
    seen_at = (0.4, -0.7, 2.1)
    angles, ranges = rng.uniform(-0.5, 0.5, 20), rng.uniform(0.2, 3.0, 20)
    memory.add(1.0, angles, ranges, seen_at)
    now = (-0.3, 0.9, -1.3)
    bearings, distances = memory.outside_view(1.5, now, half_fov=0.0)
    assert len(bearings) == 20
    for a, r, b, d in zip(angles, ranges, bearings, distances, strict=True):
        wx = seen_at[0] + r * math.cos(seen_at[2] + a)
        wy = seen_at[1] + r * math.sin(seen_at[2] + a)
        # Into the current base frame by the inverse rotation, then to polar.
        dx, dy = wx - now[0], wy - now[1]
        bx = math.cos(now[2]) * dx + math.sin(now[2]) * dy
        by = -math.sin(now[2]) * dx + math.cos(now[2]) * dy
        assert d == pytest.approx(math.hypot(bx, by), abs=1e-12)
        assert _wrap(b - math.atan2(by, bx)) == pytest.approx(0.0, abs=1e-12)
        assert -math.pi <= b < math.pi


def test_only_points_outside_the_view_and_within_range_come_back() -> None:
    memory = ObstacleMemory(horizon_s=3.0, range_m=1.0)
    angles, ranges = _scan((0.0, 0.5), (0.9, 0.6), (-1.2, 0.7), (2.0, 0.8), (0.0, 1.5), (0.3, math.inf), (0.2, 0.0))
    memory.add(0.0, angles, ranges, pose=(0.0, 0.0, 0.0))
    bearings, distances = memory.outside_view(0.1, (0.0, 0.0, 0.0), half_fov=0.8)
    # In view (0.0), beyond range (1.5), infinite and zero ranges are not returned.
    assert sorted(bearings) == pytest.approx([-1.2, 0.9, 2.0])
    assert sorted(distances) == pytest.approx([0.6, 0.7, 0.8])
    # Backed away by 0.6 m: only the point behind-left (world (-0.33, 0.73)) is still within 1 m.
    bearings, distances = memory.outside_view(0.1, (-0.6, 0.0, 0.0), half_fov=0.0)
    wx, wy = 0.8 * math.cos(2.0), 0.8 * math.sin(2.0)
    assert distances == pytest.approx([math.hypot(wx + 0.6, wy)])
    assert bearings == pytest.approx([math.atan2(wy, wx + 0.6)])


def test_points_expire_after_the_horizon() -> None:
    memory = ObstacleMemory(horizon_s=2.0, range_m=2.0)
    memory.add(0.0, *_scan((1.5, 0.5)), pose=(0.0, 0.0, 0.0))
    memory.add(1.5, *_scan((-1.5, 0.5)), pose=(0.0, 0.0, 0.0))
    pose = (0.0, 0.0, 0.0)
    assert sorted(memory.outside_view(1.9, pose, 0.5)[0]) == pytest.approx([-1.5, 1.5])
    assert list(memory.outside_view(2.1, pose, 0.5)[0]) == pytest.approx([-1.5])
    assert memory.outside_view(3.6, pose, 0.5)[0].size == 0
    # add() forgets frames older than the horizon for good: a late query at an early stamp does not revive them.
    memory.add(5.0, *_scan((2.5, 0.5)), pose=(0.0, 0.0, 0.0))
    assert list(memory.outside_view(0.0, pose, 0.5)[0]) == pytest.approx([2.5])


def test_zero_horizon_disables_the_memory() -> None:
    memory = ObstacleMemory(horizon_s=0.0, range_m=2.0)
    memory.add(0.0, *_scan((1.5, 0.5)), pose=(0.0, 0.0, 0.0))
    bearings, distances = memory.outside_view(0.0, (0.0, 0.0, 0.0), 0.5)
    assert bearings.size == 0 and distances.size == 0


def test_empty_memory_returns_empty_arrays() -> None:
    bearings, distances = ObstacleMemory(3.0, 1.0).outside_view(0.0, (0.0, 0.0, 0.0), 0.5)
    assert bearings.shape == (0,) and distances.shape == (0,)


def test_a_point_ahead_left_blocks_the_headings_toward_it_only() -> None:
    headings = np.array([0.5, 0.3, 0.7, 0.0, -1.0, 0.5 + math.pi, 1.5])
    blocked = headings_blocked_by(headings, np.array([0.5]), np.array([1.0]), radius=0.3)
    # Lateral offset of the point from each heading's line: 1.0 * |sin(heading - 0.5)|, blocked below 0.3.
    assert blocked.tolist() == [True, True, True, False, False, False, False]


def test_a_point_within_the_radius_blocks_every_heading_not_moving_away() -> None:
    headings = np.linspace(-math.pi, math.pi, 73)
    blocked = headings_blocked_by(headings, np.array([1.0]), np.array([0.2]), radius=0.3)
    expected = np.cos(headings - 1.0) > 0.0
    np.testing.assert_array_equal(blocked, expected)
    assert blocked.any() and not blocked.all()


def test_no_points_block_nothing() -> None:
    headings = np.linspace(-1.0, 1.0, 5)
    blocked = headings_blocked_by(headings, np.empty(0), np.empty(0), radius=0.3)
    assert blocked.shape == (5,) and not blocked.any()


def test_several_points_block_the_union() -> None:
    headings = np.array([-0.6, 0.0, 0.6])
    blocked = headings_blocked_by(headings, np.array([0.6, -0.6]), np.array([0.8, 0.8]), radius=0.2)
    assert blocked.tolist() == [True, False, True]
