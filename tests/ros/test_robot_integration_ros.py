"""An ordinary Jazzy robot, over DDS: stamped cmd_vel, prefixed frames (two robots), the nodes' offered QoS,
and depth_node on an uncalibrated or a distorted camera."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("rclpy")

from geometry_msgs.msg import TwistStamped
from sensor_msgs.msg import CameraInfo, Image, LaserScan

from depth_node.offered_qos import offered_qos
from tests.ros.frames import Frames
from tests.ros.harness import CONFIG, Harness
from tests.ros.test_obstacle_avoidance_ros import FLOOR, Robot


def _static_children(ros: Harness, messages: list[Any]) -> set[tuple[str, str]]:
    return {(t.header.frame_id, t.child_frame_id) for msg in messages for t in msg.transforms}


def test_stamped_cmd_vel_and_prefixed_frames_of_two_robots(ros: Harness) -> None:
    """Two obstacle_avoidance nodes in one graph, frame_prefix robot1/ and robot2/: each commands TwistStamped in
    its own base frame, stamped with its control tick, and each puts its scan frame into its own tree."""
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    from tf2_msgs.msg import TFMessage

    latched = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    static: list[Any] = []
    ros.node.create_subscription(TFMessage, "/tf_static", static.append, latched)
    robots = [
        Robot(ros, "-p", "cmd_vel_stamped:=true", "-p", f"frame_prefix:={name}/", stamped=True)
        for name in ("robot1", "robot2")
    ]
    try:
        scans = [ros.collect(LaserScan, f"{r.ns}/scan") for r in robots]
        for r in robots:
            r.drive(FLOOR, 1.0)
        for name, r, scan in zip(("robot1", "robot2"), robots, scans, strict=True):
            cmd: TwistStamped = r.cmd[-1]
            assert cmd.header.frame_id == f"{name}/base_link", r.proc.output()[-2000:]
            now = ros.node.get_clock().now().nanoseconds
            stamp = cmd.header.stamp.sec * 1_000_000_000 + cmd.header.stamp.nanosec
            assert 0 < now - stamp < 5_000_000_000  # the tick's own time, not zero, not the depth's
            assert scan and scan[-1].header.frame_id == f"{name}/camera_scan"
            assert max(c.twist.linear.x for c in r.cmd) > 0.0  # the prefixed robot drove while it had depth
        assert ros.spin_until(
            lambda: (
                {("camera_optical_frame", "robot1/camera_scan"), ("camera_optical_frame", "robot2/camera_scan")}
                <= _static_children(ros, static)
            )
        ), _static_children(ros, static)
    finally:
        for r in robots:
            assert ros.stop(r.proc) == 0, r.proc.output()[-2000:]


def test_the_old_parameter_name_still_commands_stamped(ros: Harness) -> None:
    """A params file or -p of 'stamped' (the name before cmd_vel_stamped) keeps working, with a log line."""
    r = Robot(ros, "-p", "stamped:=true", "-p", "base_frame:=chassis", stamped=True)
    try:
        assert r.cmd[0].header.frame_id == "chassis"
        assert "'stamped' was renamed to 'cmd_vel_stamped'" in r.proc.output()
    finally:
        assert ros.stop(r.proc) == 0


def _profile(info: Any) -> tuple[str, str]:
    """Reliability and durability as discovery reports them (the history depth does not travel in discovery)."""
    q = info.qos_profile
    return q.reliability.name.lower(), q.durability.name.lower()


def test_the_nodes_offer_what_the_bags_record(ros: Harness) -> None:
    """The QoS table the bag writers use (depth_node.offered_qos) is what the live nodes offer, topic by topic."""
    ns = ros.namespace()
    depth_node = ros.start("depth_node", ns, params_file=CONFIG / "depth_node.yaml")
    robot = ros.start("obstacle_avoidance", ns, params_file=CONFIG / "obstacle_avoidance.yaml")
    topics = [f"{ns}/{t}" for t in ("depth/image_raw", "depth/camera_info", "depth/points", "scan", "cmd_vel")]
    topics.append("/tf_static")
    try:

        def offered() -> dict[str, tuple[str, str]]:
            found = {}
            for topic in topics:
                infos = [i for i in ros.node.get_publishers_info_by_topic(topic) if i.node_name != "depth_node_tests"]
                if infos:
                    found[topic] = _profile(infos[0])
            return found

        assert ros.spin_until(lambda: len(offered()) == len(topics), 30.0), (offered(), ros.started_output())
        for topic, profile in offered().items():
            want = offered_qos(topic)
            assert profile == (want.reliability, want.durability), topic
        assert offered()["/tf_static"] == ("reliable", "transient_local")
    finally:
        assert ros.stop(depth_node) == 0 and ros.stop(robot) == 0


def _run_depth_node(ros: Harness, info: Any, *args: str) -> tuple[list[Any], list[Any], str]:
    """depth_node on one camera stream with this CameraInfo; (depth images, depth camera_infos, its log)."""
    ns = ros.namespace()
    proc = ros.start("depth_node", ns, *args, params_file=CONFIG / "depth_node.yaml")
    frames = Frames(width=320, height=240)
    pub_image = ros.publisher(Image, f"{ns}/image_raw")
    pub_info = ros.publisher(CameraInfo, f"{ns}/camera_info")
    depth = ros.collect(Image, f"{ns}/depth/image_raw")
    infos = ros.collect(CameraInfo, f"{ns}/depth/camera_info")
    ros.wait_matched(pub_image)
    ros.wait_matched(pub_info)
    try:
        for _ in range(50):
            image = frames.image()
            info.header = image.header
            pub_info.publish(info)
            pub_image.publish(image)
            if ros.spin_until(lambda: len(depth) >= 2, 0.3):
                break
        assert len(depth) >= 2 and infos, proc.output()[-3000:]
        return depth, infos, proc.output()
    finally:
        assert ros.stop(proc) == 0


def test_an_uncalibrated_camera_runs_on_fallback_hfov(ros: Harness) -> None:
    """usb_cam without calibration: K all zeros. With fallback_hfov_deg the node publishes depth and warns."""
    frames = Frames(width=320, height=240)
    info = frames.info()
    info.k = [0.0] * 9
    info.p = [0.0] * 12
    depth, infos, log = _run_depth_node(ros, info, "-p", "fallback_hfov_deg:=90.0")
    assert (depth[-1].width, depth[-1].height, depth[-1].encoding) == (320, 240, "32FC1")
    assert infos[-1].k[0] == pytest.approx(160.0)  # 90 degrees over 320 pixels
    assert "fallback_hfov_deg 90" in log and "only as good as that guess" in log


def test_a_distorted_camera_is_published_rectified(ros: Harness) -> None:
    frames = Frames(width=320, height=240)
    info = frames.info()
    info.distortion_model = "plumb_bob"
    info.d = [-0.25, 0.05, 0.0, 0.0, 0.0]
    depth, infos, _log = _run_depth_node(ros, info)
    # The corners of the rectified view of this barrel lens lie inside the raw image: depth everywhere.
    values = np.frombuffer(bytes(depth[-1].data), np.float32)
    assert values.size == 320 * 240 and np.isfinite(values).all()
    out = infos[-1]
    assert out.distortion_model == "plumb_bob" and not np.any(np.asarray(out.d))
    assert (out.width, out.height) == (320, 240) and out.k[0] == pytest.approx(frames.camera.fx)
