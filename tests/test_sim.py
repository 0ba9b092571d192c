"""The closed-loop simulator: world distances, collisions, scenarios, the bag it records, the suite and its CLI."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from depth_node.cli import main
from depth_node.estimator import load_estimator
from depth_node.evaluation.bagio import open_bag
from depth_node.evaluation.robot import RobotLimits
from depth_node.evaluation.scenarios import REACH, SCENARIOS, STOP, Scenario, build_scenario, path_exists
from depth_node.evaluation.world import (
    Box,
    Cylinder,
    Pose,
    Room,
    Scene,
    camera_for,
    generate_scene,
    obstacle_distance,
    render,
)
from depth_node.frames import quaternion_from_matrix
from depth_node.msgs import depth_from_msg, stamp_ns
from depth_node.simulation.in_process import run_scenario
from depth_node.simulation.options import SimOptions
from depth_node.simulation.plant import detect
from navigation.params import ObstacleAvoidanceParams

SMALL = SimOptions(width=64, height=48)
ORACLE = SimOptions(depth="oracle", width=64, height=48)
# A controller that sees nothing: its obstacle height band (5 m) is above every ceiling, so it drives straight.
# 30 scan bins: a 64-pixel-wide depth image leaves some of the default 90 bins without a pixel, and such a
# bin is "unknown", which the controller steers around (a phantom obstacle straight ahead).
BLIND_TO_OBSTACLES = ObstacleAvoidanceParams(obstacle_min_height_m=5.0, obstacle_max_height_m=5.0, scan_bins=30)
SIM_TOPICS = {
    "/camera/image_raw": "sensor_msgs/msg/Image",
    "/camera/camera_info": "sensor_msgs/msg/CameraInfo",
    "/camera/depth_gt": "sensor_msgs/msg/Image",
    "/detections": "vision_msgs/msg/Detection2DArray",
    "/depth/image_raw": "sensor_msgs/msg/Image",
    "/depth/camera_info": "sensor_msgs/msg/CameraInfo",
    "/depth/points": "sensor_msgs/msg/PointCloud2",
    "/scan": "sensor_msgs/msg/LaserScan",
    "/obstacles": "vision_msgs/msg/Detection3DArray",
    "/cmd_vel": "geometry_msgs/msg/Twist",
    "/odom": "nav_msgs/msg/Odometry",
    "/tf": "tf2_msgs/msg/TFMessage",
    "/tf_static": "tf2_msgs/msg/TFMessage",
    "/goal_pose": "geometry_msgs/msg/PoseStamped",
}
SUMMARY_KEYS = {"name", "seed", "success", "collision", "min_clearance_m", "time_s", "path_length_m"}


def _scene(boxes: tuple[Box, ...] = (), cylinders: tuple[Cylinder, ...] = ()) -> Scene:
    """A 10 x 6 m room centred on the origin holding exactly the given objects."""
    base = generate_scene("room", 0)
    room = Room((-5.0, -3.0, 0.0), (5.0, 3.0, 2.5), base.room.materials)
    return dataclasses.replace(base, room=room, boxes=boxes, cylinders=cylinders)


def _box(x: float, y: float, size: tuple[float, float, float], yaw: float = 0.0, bottom: float = 0.0) -> Box:
    return Box((x, y, bottom + size[2] / 2), size, yaw, 0, 50, None)


def _straight_run(obstacle: Box, timeout_s: float = 5.0) -> tuple[Scenario, Any]:
    """person_standing's room with only ``obstacle`` in it, driven by a controller that cannot see it."""
    base = build_scenario("person_standing", 0)
    scene = dataclasses.replace(base.scene, boxes=(obstacle,), cylinders=())
    scenario = dataclasses.replace(base, scene=scene, timeout_s=timeout_s)
    return scenario, run_scenario(scenario, ORACLE, None, nav_params=BLIND_TO_OBSTACLES)


# --- world distances ---------------------------------------------------------------------------------


def test_distance_to_the_walls() -> None:
    scene = _scene()
    assert obstacle_distance(scene, 4.2, 0.5) == pytest.approx(0.8)
    assert obstacle_distance(scene, -1.0, -2.9) == pytest.approx(0.1)
    assert obstacle_distance(scene, 0.0, 0.0) == pytest.approx(3.0)
    assert obstacle_distance(scene, 5.5, 0.0) == pytest.approx(-0.5)  # outside the room


def test_signed_distance_to_a_yawed_box() -> None:
    yaw = math.pi / 4
    scene = _scene(boxes=(_box(0.5, 0.2, (2.0, 1.0, 1.0), yaw),))
    c, s = math.cos(yaw), math.sin(yaw)

    def at(u: float, v: float) -> float:  # a point given in the box's own frame
        return obstacle_distance(scene, 0.5 + c * u - s * v, 0.2 + s * u + c * v)

    assert at(1.3, 0.0) == pytest.approx(0.3)  # off the end face
    assert at(-0.2, -0.7) == pytest.approx(0.2)  # off the long side
    assert at(1.3, 0.9) == pytest.approx(0.5)  # off the corner: hypot(0.3, 0.4)
    assert at(0.0, 0.0) == pytest.approx(-0.5)  # the centre: half the short side inside
    assert at(0.9, 0.0) == pytest.approx(-0.1)
    # The yaw matters: the same offsets along the world axes are not the same distances.
    assert obstacle_distance(scene, 0.5 + 1.3, 0.2) != pytest.approx(0.3)


def test_signed_distance_to_a_cylinder() -> None:
    scene = _scene(cylinders=(Cylinder((1.0, -1.0), 0.0, 1.7, 0.3, 0, 7, "person"),))
    assert obstacle_distance(scene, 1.5, -1.0) == pytest.approx(0.2)
    assert obstacle_distance(scene, 1.0 - 0.3 / math.sqrt(2), -1.0 + 0.3 / math.sqrt(2)) == pytest.approx(0.0)
    assert obstacle_distance(scene, 1.0, -1.0) == pytest.approx(-0.3)


def test_max_height_ignores_what_the_robot_drives_under_but_never_the_walls() -> None:
    table_top = _box(0.0, 0.0, (1.0, 1.0, 0.05), bottom=0.7)
    lamp = Cylinder((2.0, 0.0), 1.2, 2.5, 0.2, 0, 8, None)
    scene = _scene(boxes=(table_top,), cylinders=(lamp,))
    assert obstacle_distance(scene, 0.0, 0.0) == pytest.approx(-0.5)
    assert obstacle_distance(scene, 0.0, 0.0, max_height=0.55) == pytest.approx(3.0)  # only the walls
    assert obstacle_distance(scene, 2.0, 0.0) == pytest.approx(-0.2)
    assert obstacle_distance(scene, 2.0, 0.0, max_height=0.55) == pytest.approx(3.0)
    assert obstacle_distance(scene, 4.9, 0.0, max_height=0.0) == pytest.approx(0.1)
    low = _scene(boxes=(_box(0.0, 0.0, (1.0, 1.0, 0.3)),))
    assert obstacle_distance(low, 0.0, 0.0, max_height=0.55) == pytest.approx(-0.5)


# --- collisions ----------------------------------------------------------------------------------------


def test_driving_into_a_box_is_a_collision_against_the_footprint() -> None:
    start = build_scenario("person_standing", 0).start
    box = _box(start.x + 1.2, 0.0, (0.3, 0.6, 0.6))
    scenario, result = _straight_run(box)
    limits = RobotLimits()
    assert (result.outcome, result.collision, result.success) == ("collision", True, False)
    trace = result.trace
    x, y = trace.x[-1], trace.y[-1]
    assert result.min_clearance_m < 0.0
    assert result.min_clearance_m == min(trace.clearance) == trace.clearance[-1]
    assert trace.clearance[-1] == obstacle_distance(scenario.scene, x, y, limits.body_height) - limits.radius
    assert trace.clearance[-2] >= 0.0  # the run ends at the first tick that touches
    # It drove straight at the face (x = start + 1.05) and stopped at the first tick past touching it.
    face = start.x + 1.2 - 0.15
    assert y == 0.0 and set(trace.w) == {0.0}
    assert face - limits.radius < x <= face - limits.radius + 0.5 * 0.05  # 0.5 m/s, 20 Hz
    assert result.summary()["min_clearance_m"] == round(result.min_clearance_m, 4)


def test_a_table_top_above_the_body_is_driven_under() -> None:
    start = build_scenario("person_standing", 0).start
    table_x = start.x + 1.2
    scenario, result = _straight_run(_box(table_x, 0.0, (0.6, 0.8, 0.05), bottom=0.7))
    assert scenario.scene.boxes[0].center[2] - 0.025 > RobotLimits().body_height
    assert not result.collision and result.outcome != "collision"
    assert max(result.trace.x) > table_x + 0.5  # right under it and out the other side
    assert result.min_clearance_m >= 0.0


# --- a recorded run, replayed ---------------------------------------------------------------------------


def _topic_messages(bag: Path, topic: str) -> list[Any]:
    with open_bag(bag) as reader:
        conns = [c for c in reader.connections if c.topic == topic]
        return [reader.deserialize(raw, c.msgtype) for c, _t, raw in reader.messages(connections=conns)]


@pytest.fixture(scope="module")
def model_run(tmp_path_factory: pytest.TempPathFactory, metric_model: Path) -> tuple[Path, Any]:
    """1.5 s of person_standing at 64x48 with the tiny metric model, recorded."""
    bag = tmp_path_factory.mktemp("sim") / "run"
    scenario = dataclasses.replace(build_scenario("person_standing", 0), timeout_s=1.5)
    estimator = load_estimator(metric_model, providers=("cpu",))
    return bag, run_scenario(scenario, SMALL, estimator, bag=bag)


def test_the_bag_has_every_topic_of_a_live_robot(model_run: tuple[Path, Any]) -> None:
    bag, result = model_run
    assert result.bag == str(bag)
    with open_bag(bag) as reader:
        types = {c.topic: c.msgtype for c in reader.connections}
        counts = {c.topic: c.msgcount for c in reader.connections}
    assert types == SIM_TOPICS
    assert all(n > 0 for n in counts.values()), counts
    assert counts["/camera/image_raw"] == result.frames == 15  # 10 Hz camera over 1.5 s
    for topic in ("/camera/camera_info", "/camera/depth_gt", "/detections", "/depth/image_raw", "/scan"):
        assert counts[topic] == result.frames, topic
    assert counts["/cmd_vel"] == counts["/odom"] == counts["/tf"] == len(result.trace.t)
    assert counts["/tf_static"] == 2  # the camera mount, and the node's optical frame -> scan frame
    gt = _topic_messages(bag, "/camera/depth_gt")[0]
    assert (gt.encoding, gt.width, gt.height) == ("32FC1", 64, 48)
    odom = _topic_messages(bag, "/odom")
    assert odom[-1].pose.pose.position.x == pytest.approx(result.trace.x[-1])
    person = [d for m in _topic_messages(bag, "/detections") for d in m.detections]
    assert person and {d.results[0].hypothesis.class_id for d in person} == {"person"}


def test_a_recorded_run_replays_with_ground_truth(
    model_run: tuple[Path, Any], metric_model: Path, tmp_path: Path
) -> None:
    bag, result = model_run
    out = tmp_path / "replay"
    argv = ["replay", str(bag), "--out", str(out), "--model", str(metric_model), "--image-topic", "/camera/image_raw"]
    argv += ["--gt-depth-topic", "/camera/depth_gt", "--detections-topic", "/detections", "--no-progress"]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["frames_total"] == report["frames_processed"] == result.frames
    assert report["depth_metrics"] is not None and report["depth_metrics"]["n_pixels"] > 0
    assert report["depth_eval"]["frames_evaluated"] == result.frames
    # The simulator recorded the depth node's and the controller's outputs; the replay writes its own.
    assert set(report["input_topics_replaced"]) >= {"/depth/image_raw", "/depth/points", "/scan", "/cmd_vel"}
    # Same model, same images: the replayed depth is the recorded depth.
    recorded = {stamp_ns(m.header): depth_from_msg(m) for m in _topic_messages(bag, "/depth/image_raw")}
    replayed = {stamp_ns(m.header): depth_from_msg(m) for m in _topic_messages(out, "/depth/image_raw")}
    assert sorted(recorded) == sorted(replayed)
    for stamp, depth in recorded.items():
        np.testing.assert_array_equal(depth, replayed[stamp])


def test_a_replay_of_the_recorded_depth_commands_what_the_run_commanded(
    model_run: tuple[Path, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bag carries the goal, the odometry and params.yaml: a replay on its depth is the run, tick for tick."""
    bag, result = model_run
    assert (bag / "params.yaml").is_file()
    out = tmp_path / "replay"
    argv = ["replay", str(bag), "--out", str(out), "--depth-topic", "/depth/image_raw", "--no-progress"]
    assert main([*argv, "--detections-topic", "/detections", "--compare-cmd-vel"]) == 0
    assert "using the bag's parameters" in capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert (report["odom_topic"], report["goal_topic"]) == ("/odom", "/goal_pose")
    agreement = report["cmd_vel_agreement"]
    assert agreement["ticks"] == agreement["paired"] == len(result.trace.t)
    assert agreement["equal"] == agreement["ticks"] and agreement["first_difference"] is None


def test_oracle_depth_is_the_ground_truth(tmp_path: Path) -> None:
    scenario = dataclasses.replace(build_scenario("corridor_boxes", 1), timeout_s=0.6)
    result = run_scenario(scenario, ORACLE, None, bag=tmp_path / "oracle")
    gts = {stamp_ns(m.header): depth_from_msg(m) for m in _topic_messages(tmp_path / "oracle", "/camera/depth_gt")}
    depths = _topic_messages(tmp_path / "oracle", "/depth/image_raw")
    assert len(depths) == len(gts) == result.frames > 0
    for msg in depths:
        assert msg.encoding == "32FC1"
        np.testing.assert_array_equal(depth_from_msg(msg), gts[stamp_ns(msg.header)])  # NaN where NaN


def test_the_same_run_twice_is_identical() -> None:
    scenario = dataclasses.replace(build_scenario("person_crossing", 2), timeout_s=3.0)
    options = dataclasses.replace(ORACLE, det_noise_px=2.0, det_miss_rate=0.3)
    first = run_scenario(scenario, options, None)
    second = run_scenario(scenario, options, None)
    assert first.summary() == second.summary()
    assert first.trace == second.trace
    assert first.bag is None and first.time_s > 0.0 and first.path_length_m > 0.0


def test_sim_options_are_validated() -> None:
    with pytest.raises(ValueError, match="depth source"):
        SimOptions(depth="lidar")
    with pytest.raises(ValueError, match="16x16"):
        SimOptions(width=8)
    with pytest.raises(ValueError, match="miss rate"):
        SimOptions(det_miss_rate=1.5)
    with pytest.raises(ValueError, match="needs a depth estimator"):
        run_scenario(build_scenario("dead_end", 0), SMALL, None)


# --- detections ---------------------------------------------------------------------------------------


def test_detect_reproduces_the_renderer_boxes() -> None:
    scenario = build_scenario("person_standing", 0)
    s = scenario.start
    frame = render(scenario.scene, camera_for(64, 48), Pose(s.x, s.y, 0.5, s.yaw, 0.05))
    assert frame.boxes, "the person is in view from the start"
    got = detect(frame.boxes, SMALL, np.random.default_rng(0))
    assert len(got) == len(frame.boxes)
    for det, (label, x0, y0, x1, y1) in zip(got, frame.boxes, strict=True):
        assert (det.class_id, det.score) == (label, SMALL.det_score)
        assert (det.center_x, det.center_y) == ((x0 + x1) / 2, (y0 + y1) / 2)
        assert (det.size_x, det.size_y) == (x1 - x0, y1 - y0)


def test_detect_clips_to_the_image_and_drops_what_is_left_outside() -> None:
    boxes = (("person", 10, 5, 30, 45), ("box", -5, 10, 20, 60), ("chair", 70, 0, 90, 20), ("cup", 63, 40, 64, 41))
    got = detect(boxes, SMALL, np.random.default_rng(0))
    assert [(d.class_id, d.center_x, d.center_y, d.size_x, d.size_y) for d in got] == [
        ("person", 20.0, 25.0, 20.0, 40.0),
        ("box", 10.0, 29.0, 20.0, 38.0),
    ]


def test_detect_misses_and_noise() -> None:
    boxes = (("person", 10, 5, 30, 45),) * 50
    assert detect(boxes, dataclasses.replace(SMALL, det_miss_rate=1.0), np.random.default_rng(0)) == []
    some = detect(boxes, dataclasses.replace(SMALL, det_miss_rate=0.5), np.random.default_rng(0))
    assert 10 < len(some) < 40
    noisy = dataclasses.replace(SMALL, det_noise_px=1.5)
    a = detect(boxes, noisy, np.random.default_rng(4))
    assert a == detect(boxes, noisy, np.random.default_rng(4))
    centers = np.array([d.center_x for d in a])
    assert len(a) == 50 and centers.std() > 0.3 and abs(centers.mean() - 20.0) < 1.0
    for d in a:
        assert d.center_x - d.size_x / 2 >= 0.0 and d.center_x + d.size_x / 2 <= 64.0


# --- quaternions of the transforms -------------------------------------------------------------------


def _matrix(q: tuple[float, float, float, float]) -> np.ndarray:
    x, y, z, w = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _yaw(a: float) -> np.ndarray:
    return np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0.0, 0.0, 1.0]])


@pytest.mark.parametrize(
    "rot",
    [
        np.eye(3),
        _yaw(math.pi / 2),
        _yaw(math.pi),  # trace -1: the branch without w
        np.diag([1.0, -1.0, -1.0]),  # 180 degrees about x
        np.diag([-1.0, -1.0, 1.0]),
        Pose(0.0, 0.0, 0.5, 0.0, 0.05).world_from_optical(),
        Pose(1.0, 2.0, 0.5, 2.7, -0.3).world_from_optical(),
    ],
    ids=["identity", "yaw90", "yaw180", "roll180", "z180", "optical", "optical_yawed"],
)
def test_quaternion_from_matrix_rebuilds_the_matrix(rot: np.ndarray) -> None:
    q = quaternion_from_matrix(rot)
    assert math.fsum(c * c for c in q) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(_matrix(q), rot, atol=1e-12)


def test_quaternion_of_known_rotations() -> None:
    assert quaternion_from_matrix(np.eye(3)) == pytest.approx((0.0, 0.0, 0.0, 1.0))
    h = math.sqrt(0.5)
    assert quaternion_from_matrix(_yaw(math.pi / 2)) == pytest.approx((0.0, 0.0, h, h))
    # The optical frame of a level camera: z forward (world x), x right (world -y), y down (world -z).
    q = np.array(quaternion_from_matrix(Pose(0.0, 0.0, 0.0).world_from_optical()))
    assert np.abs(q) == pytest.approx([0.5] * 4)  # q and -q are the same rotation
    assert q * np.sign(q[3]) == pytest.approx([-0.5, 0.5, -0.5, 0.5])


# --- scenarios -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenarios_build_with_a_free_start_and_a_path(name: str) -> None:
    radius = RobotLimits().radius
    for seed in range(3):
        sc = build_scenario(name, seed)
        assert (sc.name, sc.seed, sc.expect in (REACH, STOP)) == (name, seed, True)
        assert obstacle_distance(sc.scene, sc.start.x, sc.start.y) >= radius
        assert (sc.start.v, sc.start.w) == (0.0, 0.0)
        start = (sc.start.x, sc.start.y)
        if sc.expect == REACH:
            assert path_exists(sc.scene, start, sc.goal, radius), (name, seed)
            assert obstacle_distance(sc.scene, *sc.goal) >= radius
        else:
            assert not path_exists(sc.scene, start, sc.goal, radius)


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_same_name_and_seed_build_the_same_world(name: str) -> None:
    a, b, other = build_scenario(name, 1), build_scenario(name, 1), build_scenario(name, 2)
    for field in ("room", "boxes", "cylinders", "materials", "lighting"):
        assert getattr(a.scene, field) == getattr(b.scene, field), field
    np.testing.assert_array_equal(a.scene.noise, b.scene.noise)
    assert (a.start, a.goal, a.expect, a.timeout_s, a.movers) == (b.start, b.goal, b.expect, b.timeout_s, b.movers)
    assert (a.scene.room, a.scene.boxes, a.scene.cylinders) != (
        other.scene.room,
        other.scene.boxes,
        other.scene.cylinders,
    )


def test_movers_move_the_whole_person() -> None:
    sc = build_scenario("person_crossing", 0)
    (mover,) = sc.movers
    parts = [c for c in sc.scene.cylinders if c.instance == mover.instance]
    assert len(parts) == 2 and all(c.label == "person" for c in parts)
    assert sc.scene_at(0.0).cylinders == sc.scene.cylinders
    assert sc.scene_at(mover.t0).cylinders == sc.scene.cylinders
    mid = (mover.t0 + mover.t1) / 2
    for t, walked in ((mid, mid - mover.t0), (mover.t1 + 5.0, mover.t1 - mover.t0)):
        moved = [c for c in sc.scene_at(t).cylinders if c.instance == mover.instance]
        for before, after in zip(parts, moved, strict=True):
            assert after.center[0] == pytest.approx(before.center[0] + mover.velocity[0] * walked)
            assert after.center[1] == pytest.approx(before.center[1] + mover.velocity[1] * walked)
            assert (after.z0, after.z1, after.radius) == (before.z0, before.z1, before.radius)
    # It walks across the robot's line (y = 0) and the scene without movers never changes.
    end = next(c for c in sc.scene_at(mover.t1).cylinders if c.instance == mover.instance)
    assert np.sign(end.center[1]) == -np.sign(parts[0].center[1])
    still = build_scenario("person_standing", 0)
    assert still.scene_at(10.0) is still.scene


def test_unknown_scenarios_and_seeds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'moon'"):
        build_scenario("moon", 0)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        build_scenario("doorway", -1)


# --- the suite and its CLI -----------------------------------------------------------------------------


def _check_report(out: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    for key in ("scenarios", "success_rate", "collision_rate"):
        assert key in report
    html = (out / "report.html").read_text()
    images = re.findall(r'<img[^>]*\bsrc="([^"]+)"', html)
    assert images
    for src in images:
        assert (out / src).is_file(), src
    return report


def _check_rates(section: dict[str, Any], depth: str) -> None:
    runs = section["scenarios"]
    assert isinstance(runs, list) and len(runs) == 1
    assert set(runs[0]) >= SUMMARY_KEYS
    assert (runs[0]["name"], runs[0]["seed"], runs[0]["depth"]) == ("dead_end", 0, depth)
    assert section["success_rate"] == float(runs[0]["success"])
    assert section["collision_rate"] == float(runs[0]["collision"])


def test_cli_sim_with_oracle_depth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim"
    argv = ["sim", "--scenario", "dead_end", "--seeds", "1", "--out", str(out), "--depth", "oracle"]
    assert main([*argv, "--width", "64", "--height", "48", "--bags", "none"]) == 0
    report = _check_report(out)
    _check_rates(report, "oracle")
    assert "oracle" not in report and not (out / "bags").exists()
    assert report["provider"] == "none (oracle depth)"  # said, not an empty cell
    # The dead end is approached and the robot stops short of the wall: a success without a collision.
    assert (report["success_rate"], report["collision_rate"]) == (1.0, 0.0)
    assert "success_rate 1.000" in capsys.readouterr().out


def test_cli_sim_compares_with_the_oracle(tmp_path: Path, metric_model: Path) -> None:
    out = tmp_path / "sim"
    argv = ["sim", "--scenario", "dead_end", "--seeds", "1", "--out", str(out), "--model", str(metric_model)]
    argv += ["--providers", "cpu", "--compare-oracle", "--width", "64", "--height", "48", "--bags", "none"]
    assert main(argv) == 0
    report = _check_report(out)
    _check_rates(report, "model")
    _check_rates(report["oracle"], "oracle")
    assert report["model"] == str(metric_model)


@pytest.mark.parametrize(
    "flags",
    [["--seeds", "0"], ["--seed-start", "-1"], ["--width", "8"], ["--det-miss-rate", "2"]],
)
def test_cli_sim_refuses_bad_flags(tmp_path: Path, flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sim", "--scenario", "dead_end", "--out", str(tmp_path / "sim"), "--depth", "oracle", *flags]
    assert main(argv) == 2
    assert "depth-node sim: error:" in capsys.readouterr().err
    assert not (tmp_path / "sim" / "report.json").exists()


def test_the_report_names_the_provider_also_through_the_graph() -> None:
    """With --ros the depth_node process opens the session: the report still names its provider (not a dash)."""
    from depth_node.commands.sim import _provider
    from depth_node.depth_params import DepthNodeParams

    assert _provider(None, DepthNodeParams()) == "CPUExecutionProvider"  # this machine's onnxruntime: CPU only
    assert _provider(None, DepthNodeParams(model_path="/m/model.pt2")) == "torch"
