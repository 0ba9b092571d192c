"""cmd_vel_stamped and the frame parameters (base_frame, odom_frame, scan_frame, frame_prefix) in every shell
that is not a live node: the replay and the in-process simulator record what the node would publish.

The live node's side (TwistStamped through DDS, two prefixed robots in one graph) is
``tests/ros/test_robot_integration_ros.py``.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest

from depth_node import msgs as ros_msgs
from depth_node import params as params_mod
from depth_node.cli import main
from depth_node.estimator import load_estimator
from depth_node.evaluation.bagio import open_bag
from depth_node.evaluation.scenarios import build_scenario
from depth_node.msgs import stamp_ns
from depth_node.simulation.in_process import run_scenario
from depth_node.simulation.options import SimOptions
from navigation.params import ObstacleAvoidanceParams
from tests.test_nav_replay import PERIOD, _read, _write_rgbd_bag

NAV = "obstacle_avoidance"


def test_cmd_vel_stamped_and_its_old_name(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    new = tmp_path / "new.yaml"
    new.write_text(f"/**/{NAV}:\n  ros__parameters:\n    cmd_vel_stamped: true\n")
    assert params_mod.load(ObstacleAvoidanceParams, new, NAV).cmd_vel_stamped is True
    old = tmp_path / "old.yaml"  # a params file from before the rename
    old.write_text(f"{NAV}:\n  ros__parameters:\n    stamped: true\n    cmd_vel_stamped: false\n")
    with caplog.at_level(logging.WARNING):
        assert params_mod.load(ObstacleAvoidanceParams, old, NAV).cmd_vel_stamped is True  # the old name, given, wins
    assert "'stamped' was renamed to 'cmd_vel_stamped'" in caplog.text
    with pytest.raises(params_mod.ParameterError, match="cmd_vel_stamped"):
        params_mod.from_mapping(ObstacleAvoidanceParams, {"stamped": "yes"})


def test_frame_prefix_applies_to_every_frame_once() -> None:
    p = ObstacleAvoidanceParams(frame_prefix="robot1/", odom_frame="odom", base_frame="base_footprint")
    q = p.prefixed()
    assert (q.odom_frame, q.base_frame, q.scan_frame, q.frame_prefix) == (
        "robot1/odom",
        "robot1/base_footprint",
        "robot1/camera_scan",
        "",
    )
    assert q.prefixed() == q and ObstacleAvoidanceParams().prefixed() == ObstacleAvoidanceParams()
    for name in ("base_frame", "odom_frame", "scan_frame"):
        with pytest.raises(params_mod.ParameterError, match=name):
            ObstacleAvoidanceParams(**{name: " "})


def test_replay_writes_stamped_cmd_vel_in_the_prefixed_frames(tmp_path: Path) -> None:
    bag = _write_rgbd_bag(tmp_path / "in", [i * PERIOD for i in range(5)])
    params = tmp_path / "p.yaml"
    # A goal on purpose (no goal, no motion: a replay without one publishes no cmd_vel)
    params.write_text(
        f"/**/{NAV}:\n  ros__parameters:\n    cmd_vel_stamped: true\n    frame_prefix: robot1/\n"
        "    goal_heading_rad: 0.0\n"
    )
    out = tmp_path / "out"
    argv = ["replay", str(bag), "--out", str(out), "--depth-topic", "/cam/depth/image_raw", "--params", str(params)]
    assert main([*argv, "--no-progress"]) == 0
    topics = _read(out)
    cmds = topics["/cmd_vel"]
    assert cmds and all(msg.__msgtype__ == ros_msgs.TWIST_STAMPED for _, msg in cmds)
    # Each TwistStamped carries its control tick's time (it is logged at it) and the robot's base frame.
    assert all(stamp_ns(msg.header) == t and msg.header.frame_id == "robot1/base_link" for t, msg in cmds)
    assert {msg.header.frame_id for _, msg in topics["/scan"]} == {"robot1/camera_scan"}
    static = {(tf.header.frame_id, tf.child_frame_id) for _, msg in topics["/tf_static"] for tf in msg.transforms}
    assert static == {("cam_depth_optical", "robot1/camera_scan")}


def _sim(bag: Path, metric_model: Path, nav: ObstacleAvoidanceParams) -> Any:
    scenario = dataclasses.replace(build_scenario("person_standing", 0), timeout_s=1.0)
    estimator = load_estimator(metric_model, providers=("cpu",))
    return run_scenario(scenario, SimOptions(width=64, height=48), estimator, nav_params=nav, bag=bag)


def _frames(bag: Path) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    with open_bag(bag) as reader:
        for conn, _t, raw in reader.messages():
            msg = reader.deserialize(raw, conn.msgtype)
            if conn.topic in ("/tf", "/tf_static"):
                pairs = {(tf.header.frame_id, tf.child_frame_id) for tf in msg.transforms}
            elif conn.topic == "/odom":
                pairs = {(msg.header.frame_id, msg.child_frame_id)}
            elif hasattr(msg, "header"):
                pairs = {(msg.header.frame_id, conn.msgtype)}
            else:
                continue
            out.setdefault(conn.topic, set()).update(pairs)
    return out


def test_the_simulator_records_the_nodes_frames_and_stamped_cmd_vel(tmp_path: Path, metric_model: Path) -> None:
    """A prefixed robot in the simulator: odometry, goal, transforms and cmd_vel all in robot1/ frames, and
    the run the same as the unprefixed one (a goal in the wrong frame would be refused: the robot would not go)."""
    plain = _sim(tmp_path / "plain", metric_model, ObstacleAvoidanceParams())
    nav = ObstacleAvoidanceParams(frame_prefix="robot1/", cmd_vel_stamped=True)
    prefixed = _sim(tmp_path / "prefixed", metric_model, nav)
    assert prefixed.trace.x == plain.trace.x and prefixed.trace.yaw == plain.trace.yaw
    assert max(prefixed.trace.x) > min(prefixed.trace.x)  # it drove
    frames = _frames(tmp_path / "prefixed")
    assert frames["/odom"] == {("robot1/odom", "robot1/base_link")}
    assert frames["/tf"] == {("robot1/odom", "robot1/base_link")}
    assert frames["/tf_static"] == {
        ("robot1/base_link", "robot1/camera_color_optical_frame"),
        ("robot1/camera_color_optical_frame", "robot1/camera_scan"),
    }
    assert frames["/cmd_vel"] == {("robot1/base_link", ros_msgs.TWIST_STAMPED)}
    assert frames["/camera/image_raw"] == {("robot1/camera_color_optical_frame", "sensor_msgs/msg/Image")}
    assert "/cmd_vel" not in {t for t, pairs in _frames(tmp_path / "plain").items() if pairs}  # Twist: no header
