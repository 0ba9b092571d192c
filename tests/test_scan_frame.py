"""/scan means what a LaserScan says: through the TF a bag carries, its points lie on the rendered obstacles."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from depth_node.evaluation.bagio import open_bag
from depth_node.evaluation.scenarios import build_scenario
from depth_node.frames import (
    level_from_optical,
    matrix_from_quaternion,
    optical_to_scan,
    scan_from_optical,
    scan_tf_rotation,
)
from depth_node.msgs import stamp_ns
from depth_node.simulation.in_process import run_scenario
from depth_node.simulation.options import START_NS, SimOptions
from navigation.params import ObstacleAvoidanceParams

ORACLE = SimOptions(depth="oracle", width=96, height=72)


def _matrix(transform: Any) -> np.ndarray:
    t, q = transform.translation, transform.rotation
    out = np.eye(4)
    out[:3, :3] = matrix_from_quaternion(q.x, q.y, q.z, q.w)
    out[:3, 3] = (t.x, t.y, t.z)
    return out


class BagTf:
    """The transforms of a bag: /tf_static once, /tf by time (latest at or before the stamp)."""

    def __init__(self, bag: Path) -> None:
        self.static: dict[str, tuple[str, np.ndarray]] = {}
        self.dynamic: dict[str, list[tuple[int, str, np.ndarray]]] = {}
        self.scans: list[Any] = []
        with open_bag(bag) as reader:
            for conn, _t, raw in reader.messages():
                if conn.topic in ("/tf", "/tf_static"):
                    for tf in reader.deserialize(raw, conn.msgtype).transforms:
                        entry = (tf.header.frame_id, _matrix(tf.transform))
                        if conn.topic == "/tf_static":
                            self.static[tf.child_frame_id] = entry
                        else:
                            self.dynamic.setdefault(tf.child_frame_id, []).append((stamp_ns(tf.header), *entry))
                elif conn.topic == "/scan":
                    self.scans.append(reader.deserialize(raw, conn.msgtype))

    def to(self, target: str, frame: str, t_ns: int) -> np.ndarray:
        """The 4x4 transform taking points of ``frame`` into ``target`` at ``t_ns``."""
        out = np.eye(4)
        while frame != target:
            if frame in self.static:
                parent, m = self.static[frame]
            else:
                parent, m = [(p, m) for s, p, m in self.dynamic[frame] if s <= t_ns][-1]
            out, frame = m @ out, parent
        return out


@pytest.fixture(scope="module")
def oracle_bag(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, ObstacleAvoidanceParams]:
    base = build_scenario("cluttered_room", 1)
    scenario = dataclasses.replace(base, timeout_s=3.0)
    params = ObstacleAvoidanceParams(scan_bins=60)
    bag = tmp_path_factory.mktemp("scan_frame") / "bag"
    run_scenario(scenario, ORACLE, None, nav_params=params, bag=bag)
    return bag, scenario, params


def test_every_scan_point_lies_on_a_rendered_surface_through_the_bags_tf(
    oracle_bag: tuple[Path, Any, ObstacleAvoidanceParams],
) -> None:
    from depth_node.evaluation.world import obstacle_distance

    bag, scenario, params = oracle_bag
    tf = BagTf(bag)
    assert tf.scans and {s.header.frame_id for s in tf.scans} == {params.scan_frame}
    checked = 0
    for scan in tf.scans:
        t_ns = stamp_ns(scan.header)
        ranges = np.asarray(scan.ranges, dtype=np.float64)
        angles = scan.angle_min + scan.angle_increment * np.arange(len(ranges))
        finite = np.isfinite(ranges)
        r, a = ranges[finite], angles[finite]
        points = np.stack([r * np.cos(a), r * np.sin(a), np.zeros_like(r), np.ones_like(r)])
        world = tf.to("odom", scan.header.frame_id, t_ns) @ points
        scene = scenario.scene_at((t_ns - START_NS) * 1e-9)
        for (x, y, z), rng in zip(world[:3].T, r, strict=True):
            # The bin's range is the nearest pixel in the bin, drawn at the bin's centre bearing: up to half a
            # bin off sideways, plus a few cm for the pixel grid and float32.
            tolerance = 0.03 + rng * scan.angle_increment
            assert abs(obstacle_distance(scene, x, y, params.obstacle_max_height_m)) <= tolerance, (x, y, rng)
            assert params.obstacle_min_height_m <= z <= params.obstacle_max_height_m
            assert z == pytest.approx(ORACLE.camera_height_m, abs=1e-6)  # the scan plane is level
            checked += 1
    assert checked > 100


def test_the_scan_frame_is_a_pure_rotation_of_the_optical_frame() -> None:
    pitch = 0.2
    rot = scan_from_optical(pitch)
    np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rot) == pytest.approx(1.0)
    # The optical axis points forward and down by the pitch; optical -y (up in the image) is up-ish.
    np.testing.assert_allclose(optical_to_scan([0.0, 0.0, 1.0], pitch), [math.cos(pitch), 0.0, -math.sin(pitch)])
    np.testing.assert_allclose(optical_to_scan([1.0, 0.0, 0.0], pitch), [0.0, -1.0, 0.0])  # right is -y
    q = scan_tf_rotation(pitch)
    np.testing.assert_allclose(matrix_from_quaternion(*q), rot.T, atol=1e-12)


@pytest.mark.parametrize("pitch", [-0.4, 0.0, 0.1, 0.7])
def test_the_one_ray_formula_is_the_scan_frame_rotation(pitch: float) -> None:
    """level_from_optical (the ray geometry the scan, the floor fits and fusion use) is scan_from_optical."""
    rng = np.random.default_rng(3)
    v = rng.normal(size=(50, 3))
    forward, left, down = level_from_optical(v[:, 0], v[:, 1], v[:, 2], pitch)
    np.testing.assert_allclose(np.stack((forward, left, -down), axis=-1), optical_to_scan(v, pitch), atol=1e-12)
    # a ray per metre of depth: the optical axis reaches cos(pitch) forward and drops sin(pitch)
    assert level_from_optical(0.0, 0.0, 1.0, pitch) == pytest.approx((math.cos(pitch), -0.0, math.sin(pitch)))
