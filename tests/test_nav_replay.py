"""`depth-node replay` with the navigation: sensor depth, detections, the watchdog on the bag clock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from depth_node import msgs as ros_msgs
from depth_node.cli import main
from depth_node.evaluation.twist_agreement import twist_agreement
from depth_node.msgs import MessageSet, vision_defs
from navigation.bench import synthetic_frame
from navigation.params import ObstacleAvoidanceParams
from tests.bags import T0, Frame, write_camera_bag

PERIOD = 100_000_000  # depth at 10 Hz
TICK = 50_000_000  # control at the default 20 Hz


def _write_rgbd_bag(
    path: Path,
    depth_times: list[int],
    *,
    detections: bool = False,
    float_depth: bool = False,
    goal: tuple[float, float] | None = None,
    garbled_odom: tuple[int, ...] = (),
) -> Path:
    """A depth camera (floor + boxes, 64x48) at ``depth_times`` (ns after T0); optionally detections of the boxes;
    with ``goal``, that goal on /goal_pose at T0 and the robot standing at the origin on /odom with each frame
    (the odometry messages at the indices ``garbled_odom`` cut to their first 12 bytes: undecodable CDR)."""
    store = get_typestore(Stores.ROS2_HUMBLE)
    if detections:
        vision_defs.register(store)
    m = MessageSet.from_rosbags(store)
    full, full_camera, dets = synthetic_frame(ObstacleAvoidanceParams())  # 640x480, boxes in its pixels
    depth, camera = np.ascontiguousarray(full[::10, ::10]), full_camera.rescaled(64, 48)
    if float_depth:
        pixels, encoding = depth, "32FC1"
    else:
        pixels, encoding = np.nan_to_num(depth * 1000.0, nan=0.0).clip(0, 65535).astype(np.uint16), "16UC1"
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        img = writer.add_connection("/cam/depth/image_raw", "sensor_msgs/msg/Image", typestore=store)
        info = writer.add_connection("/cam/depth/camera_info", "sensor_msgs/msg/CameraInfo", typestore=store)
        det = writer.add_connection("/detections", ros_msgs.DETECTION2D_ARRAY, typestore=store) if detections else None
        if goal is not None:
            odom_type, goal_type = "nav_msgs/msg/Odometry", "geometry_msgs/msg/PoseStamped"
            odom = writer.add_connection("/odom", odom_type, typestore=store)
            goal_conn = writer.add_connection("/goal_pose", goal_type, typestore=store)
            goal_msg = ros_msgs.make(m, goal_type, header=m.header(T0, "odom"), pose=ros_msgs.pose(m, (*goal, 0.0)))
            writer.write(goal_conn, T0, store.serialize_cdr(goal_msg, goal_type))
            for k, dt in enumerate(depth_times):
                pose = ros_msgs.make(m, "geometry_msgs/msg/PoseWithCovariance", pose=ros_msgs.pose(m, (0.0, 0.0, 0.0)))
                msg = ros_msgs.make(m, odom_type, header=m.header(T0 + dt, "odom"), pose=pose)
                raw = bytes(store.serialize_cdr(msg, odom_type))
                writer.write(odom, T0 + dt, raw[:12] if k in garbled_odom else raw)
        for dt in depth_times:
            t = T0 + dt
            header = m.header(t, "cam_depth_optical")
            writer.write(img, t, store.serialize_cdr(m.image(pixels, encoding, header), "sensor_msgs/msg/Image"))
            writer.write(info, t, store.serialize_cdr(m.camera_info(camera, header), "sensor_msgs/msg/CameraInfo"))
            if det is not None:
                writer.write(
                    det, t, store.serialize_cdr(ros_msgs.detections_to_msg(m, dets, header), ros_msgs.DETECTION2D_ARRAY)
                )
    return path


def _read(out: Path) -> dict[str, list[tuple[int, Any]]]:
    topics: dict[str, list[tuple[int, Any]]] = {}
    with AnyReader([out]) as reader:
        for conn, t, raw in reader.messages():
            topics.setdefault(conn.topic, []).append((t, reader.deserialize(raw, conn.msgtype)))
    return topics


def test_sensor_depth_watchdog_gap_gives_zero_commands(tmp_path: Path) -> None:
    # 1 s of depth, a 1.5 s gap, 0.5 s of depth: the control loop keeps ticking through the gap.
    times = [i * PERIOD for i in range(10)] + [25 * PERIOD + i * PERIOD for i in range(6)]
    bag = _write_rgbd_bag(tmp_path / "in", times)
    out = tmp_path / "out"
    params = tmp_path / "p.yaml"  # a goal: no goal, no motion
    params.write_text("obstacle_avoidance:\n  ros__parameters:\n    goal_heading_rad: 0.0\n")
    args = ["replay", str(bag), "--out", str(out), "--depth-topic", "/cam/depth/image_raw", "--no-progress"]
    args += ["--params", str(params)]
    assert main(args) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["provider"] == "sensor_depth" and report["frames_processed"] == 16
    assert report["camera_info_topic"] == "/cam/depth/camera_info"
    assert report["latency_ms"]["navigation"]["p50"] > 0 and report["latency_ms"]["inference"]["p50"] is None
    n_ticks = (times[-1] - times[0]) // TICK + 1
    assert report["cmd_vel"]["count"] == n_ticks
    assert report["navigation"]["obstacles_written"] is False and "vision_msgs" in report["navigation"]["warning"]

    topics = _read(out)
    assert "/obstacles" not in topics and "/depth/image_raw" not in topics
    cmds = topics["/cmd_vel"]
    assert [t for t, _ in cmds] == [T0 + k * TICK for k in range(n_ticks)]  # on the bag clock
    assert len(topics["/scan"]) == 16
    scan_t, scan = topics["/scan"][0]
    assert scan.header.frame_id == "camera_scan" and (scan_t - T0) % TICK == 0
    # The level scan frame hangs under the depth image's optical frame, announced once on /tf_static.
    (static,) = [msg.transforms for _, msg in topics["/tf_static"]]
    assert [(tf.header.frame_id, tf.child_frame_id) for tf in static] == [("cam_depth_optical", "camera_scan")]
    assert np.isfinite(scan.ranges).any()

    def command(t: int) -> tuple[float, float]:
        msg = dict(cmds)[t]
        return msg.linear.x, msg.angular.z

    moving = [command(T0 + k * TICK) for k in range(1, 19)]
    assert any(lin > 0.0 for lin, _ in moving), moving  # it drives while it sees
    last_good = T0 + 9 * PERIOD
    timeout = int(ObstacleAvoidanceParams().input_timeout_s * 1e9)
    in_gap = [t for t, _ in cmds if last_good + timeout < t < T0 + 25 * PERIOD]
    assert len(in_gap) >= 15
    assert all(command(t) == (0.0, 0.0) for t in in_gap)
    assert report["cmd_vel"]["zero"] >= len(in_gap) and report["navigation"]["blind_ticks"] >= len(in_gap)
    assert any(command(t)[0] > 0.0 for t, _ in cmds if t > T0 + 26 * PERIOD)  # and drives again


def test_float_depth_and_bad_depth_topic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bag = _write_rgbd_bag(tmp_path / "in", [i * PERIOD for i in range(3)], float_depth=True)
    args = ["replay", str(bag), "--depth-topic", "/cam/depth/image_raw", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["frames_processed"] == 3 and report["navigation"]["scan_written"] == 3
    assert main(["replay", str(bag), "--out", str(tmp_path / "o2"), "--depth-topic", "/nope"]) == 2
    assert "depth topic '/nope' is not an Image topic" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "o3"), "--detections-topic", "/nope"]) == 2
    assert "detections topic '/nope'" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists() and not (tmp_path / "o3").exists()


def test_odometry_and_goals_come_from_the_bag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """/odom and /goal_pose are taken by default, as the live node takes them: a goal at the robot stops it."""
    bag = _write_rgbd_bag(tmp_path / "in", [i * PERIOD for i in range(6)], goal=(0.1, 0.0))
    args = ["replay", str(bag), "--depth-topic", "/cam/depth/image_raw", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert (report["odom_topic"], report["goal_topic"]) == ("/odom", "/goal_pose")
    assert report["navigation"]["odom_msgs"] == 6 and report["navigation"]["goal_msgs"] == 1
    assert report["cmd_vel"]["zero"] == report["cmd_vel"]["count"]  # within goal_tolerance_m: never moves
    # Without the goal the robot drives along goal_heading_rad; the replay says which inputs it took.
    assert main([*args, "--out", str(tmp_path / "o2"), "--goal-topic", "", "--compare-cmd-vel"]) == 2
    assert "--compare-cmd-vel: the bag has no /cmd_vel" in capsys.readouterr().err
    heading = tmp_path / "heading.yaml"  # the heading goal set on purpose (no goal, no motion)
    heading.write_text("obstacle_avoidance:\n  ros__parameters:\n    goal_heading_rad: 0.0\n")
    assert main([*args, "--out", str(tmp_path / "o2"), "--goal-topic", "", "--params", str(heading)]) == 0
    report = json.loads((tmp_path / "o2" / "report.json").read_text())
    assert report["goal_topic"] is None and report["cmd_vel"]["linear_x"]["max"] > 0.0
    assert main([*args, "--out", str(tmp_path / "o3"), "--odom-topic", "/nope"]) == 2
    assert "--odom-topic '/nope' is not a nav_msgs/Odometry topic" in capsys.readouterr().err
    assert not (tmp_path / "o3").exists()


def test_undecodable_odometry_is_dropped_counted_and_the_next_taken(tmp_path: Path) -> None:
    """A damaged /odom message costs that message only: counted, and the replay goes on with the next ones."""
    bag = _write_rgbd_bag(tmp_path / "in", [i * PERIOD for i in range(6)], goal=(0.1, 0.0), garbled_odom=(1, 4))
    args = ["replay", str(bag), "--depth-topic", "/cam/depth/image_raw", "--no-progress", "--out", str(tmp_path / "o")]
    assert main(args) == 0
    navigation = json.loads((tmp_path / "o" / "report.json").read_text())["navigation"]
    assert (navigation["odom_malformed"], navigation["odom_msgs"], navigation["goal_msgs"]) == (2, 4, 1)


def test_twist_agreement_pairs_ticks_and_names_the_first_difference() -> None:
    live = {T0: (0.1, 0.2), T0 + TICK: (0.1, 0.3), T0 + 2 * TICK: (0.2, 0.0), T0 + 3 * TICK: (0.0, 0.0)}
    replayed = {T0: (0.1, 0.2), T0 + TICK: (0.1, 0.3005), T0 + 2 * TICK: (0.2, 0.01)}
    result = twist_agreement(live, replayed)
    assert (result["ticks"], result["paired"], result["equal"], result["fraction"]) == (4, 3, 2, 0.5)
    assert result["first_difference"] == {"t_s": 0.1, "live": [0.2, 0.0], "replayed": [0.2, 0.01]}
    assert result["max_difference"] == pytest.approx(0.01)
    assert twist_agreement({}, replayed)["fraction"] is None


def test_failed_depth_frames_make_the_robot_blind(tmp_path: Path, messages: MessageSet, metric_model: Path) -> None:
    # The model path: colour frames through the estimator, a truncated frame in the middle is a failed frame.
    kinds = ["good"] * 4 + ["truncated"] + ["good"] * 2
    bag = write_camera_bag(tmp_path / "in", [Frame(k) for k in kinds], messages, extra_depth_topic=False)
    params = tmp_path / "p.yaml"
    params.write_text(
        "obstacle_avoidance:\n  ros__parameters:\n    stamped: true\n    control_rate_hz: 10.0\n"
        "    goal_heading_rad: 0.0\n"
    )
    out = tmp_path / "out"
    args = ["replay", str(bag), "--out", str(out), "--model", str(metric_model), "--params", str(params)]
    assert main([*args, "--no-progress"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["frames_processed"] == 6 and report["navigation"]["depth_failed"] == 1
    assert report["cmd_vel"]["count"] == 7 and report["navigation"]["stamped"] is True
    topics = _read(out)
    cmds = topics["/cmd_vel"]
    assert all(msg.__msgtype__ == ros_msgs.TWIST_STAMPED for _, msg in cmds)
    assert cmds[0][1].header.frame_id == "base_link"
    truncated_t = T0 + 4 * PERIOD
    after = next(msg for t, msg in cmds if t >= truncated_t)  # the tick after the failed frame stops the robot
    assert (after.twist.linear.x, after.twist.angular.z) == (0.0, 0.0)


def test_detections_become_obstacles(tmp_path: Path, vision_msg_dir: Path) -> None:
    bag = _write_rgbd_bag(tmp_path / "in", [i * PERIOD for i in range(5)], detections=True)
    params = tmp_path / "p.yaml"
    # Boxes come in the detector's pixels (10x the depth image's), as a network's input would give them.
    params.write_text(
        "obstacle_avoidance:\n  ros__parameters:\n    detector_width: 640\n    detector_height: 480\n"
        "    min_valid_pixels: 5\n"
    )
    out = tmp_path / "out"
    args = ["replay", str(bag), "--out", str(out), "--depth-topic", "/cam/depth/image_raw"]
    det_args = ["--detections-topic", "/detections", "--params", str(params), "--no-progress"]
    assert main([*args, *det_args, "--msg-dir", str(vision_msg_dir)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["navigation"]["vision_msgs_from"] == "msg_dir" and report["navigation"]["detection_msgs"] == 5
    assert report["detections_topic"] == "/detections"
    topics = _read(out)
    assert len(topics["/obstacles"]) == 5
    _, first = topics["/obstacles"][0]
    assert first.header.frame_id == "cam_depth_optical"
    classes = {d.results[0].hypothesis.class_id for d in first.detections}
    assert classes <= {"chair", "person", "table"} and classes
    assert all(d.bbox.center.position.z > 0.5 for d in first.detections)

    # The output bag carries Detection3DArray's definition: replaying it again needs no --msg-dir.
    again = tmp_path / "again"
    assert main(["replay", str(out), "--out", str(again), "--depth-topic", "/cam/depth/image_raw", *det_args]) == 0
    again_report = json.loads((again / "report.json").read_text())
    assert again_report["navigation"]["vision_msgs_from"] == "bag"
    assert again_report["input_topics_replaced"] == ["/cmd_vel", "/obstacles", "/scan"]
