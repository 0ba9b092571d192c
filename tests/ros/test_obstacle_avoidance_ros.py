"""obstacle_avoidance through the live ROS 2 graph: depth (and detections) in over DDS, cmd_vel out."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("rclpy")

from geometry_msgs.msg import Twist, TwistStamped
from sensor_msgs.msg import CameraInfo, Image, LaserScan

from depth_node.msgs import MessageSet
from tests.navigation.scenes import Box, Pose, camera, detect, render_depth
from tests.ros.harness import CONFIG, Harness, NodeProcess

PARAMS = CONFIG / "obstacle_avoidance.yaml"
CAM = camera(160, 120)
FLOOR = render_depth(CAM)
WALL = render_depth(CAM, [Box(0.5, 0.7, -3.0, 3.0, 0.0, 1.5)])
PERSON = Box(1.4, 1.7, -0.15, 0.15, 0.0, 1.7, "person")


class Robot:
    """A started obstacle_avoidance with the test's depth publishers and cmd_vel collector."""

    def __init__(self, ros: Harness, *args: str, stamped: bool = False, env: dict[str, str] | None = None) -> None:
        self.ros = ros
        self.ns = ros.namespace()
        self.m = MessageSet.from_rclpy()
        # A goal on purpose (straight on): without one the node commands nothing (tests/ros/test_safe_start_ros.py).
        heading = ("-p", "goal_heading_rad:=0.0")
        self.proc: NodeProcess = ros.start("obstacle_avoidance", self.ns, *heading, *args, params_file=PARAMS, env=env)
        self.cmd = ros.collect(TwistStamped if stamped else Twist, f"{self.ns}/cmd_vel")
        self.scan = ros.collect(LaserScan, f"{self.ns}/scan")
        self.pub_depth = ros.publisher(Image, f"{self.ns}/depth/image_raw")
        self.pub_info = ros.publisher(CameraInfo, f"{self.ns}/depth/camera_info")
        ros.wait_matched(self.pub_depth)
        ros.wait_matched(self.pub_info)
        assert ros.spin_until(lambda: len(self.cmd) > 0), self.proc.output()

    def header(self) -> Any:
        return self.m.header(self.ros.node.get_clock().now().nanoseconds, "camera_optical_frame")

    def drive(self, depth: np.ndarray, seconds: float, encoding: str = "32FC1", detections: Any = None) -> None:
        """Publish ``depth`` (now-stamped) at 10 Hz for ``seconds``."""
        for _ in range(round(seconds * 10)):
            header = self.header()
            self.pub_info.publish(self.m.camera_info(CAM, header))
            self.pub_depth.publish(self.m.image(depth, encoding, header))
            if detections is not None:
                detections(header)
            self.ros.spin_for(0.1)

    def linear(self, last: int) -> list[float]:
        return [(c.twist if hasattr(c, "twist") else c).linear.x for c in self.cmd[-last:]]


@pytest.fixture(scope="module")
def robot(ros: Harness) -> Iterator[Robot]:
    """One obstacle_avoidance on the shipped params file."""
    r = Robot(ros)
    yield r
    assert ros.stop(r.proc) == 0, r.proc.output()


def test_cmd_vel_at_the_control_rate_and_zero_while_blind(robot: Robot) -> None:
    robot.cmd.clear()
    robot.ros.spin_for(2.0)
    assert 30 <= len(robot.cmd) <= 50  # control_rate_hz 20
    assert all(c.linear.x == 0.0 and c.angular.z == 0.0 for c in robot.cmd)


def test_drives_on_open_floor_then_stops_when_depth_stops(robot: Robot) -> None:
    robot.cmd.clear()
    robot.scan.clear()
    robot.drive(FLOOR, 2.0)
    assert max(robot.linear(20)) > 0.2, robot.proc.output()[-2000:]
    assert len(robot.scan) >= 10
    robot.ros.spin_for(1.0)  # input_timeout_s 0.5: blind
    assert robot.linear(5) == [0.0] * 5


def test_16uc1_depth_in_millimetres(robot: Robot) -> None:
    mm = np.nan_to_num(FLOOR * 1000.0, nan=0.0).astype(np.uint16)
    robot.cmd.clear()
    robot.drive(mm, 2.0, encoding="16UC1")
    assert max(robot.linear(20)) > 0.2


def test_stops_in_front_of_a_wall(robot: Robot) -> None:
    robot.drive(FLOOR, 1.0)
    robot.scan.clear()
    robot.drive(WALL, 1.5)
    assert robot.linear(5) == [0.0] * 5
    assert len(robot.scan) >= 5  # not blind: it sees the wall
    ranges = np.asarray(robot.scan[-1].ranges)
    assert np.nanmin(ranges[np.isfinite(ranges)]) < 0.8


def test_detections_in_obstacles_out(robot: Robot) -> None:
    from vision_msgs.msg import Detection2DArray, Detection3DArray

    from depth_node import msgs as ros_msgs

    obstacles = robot.ros.collect(Detection3DArray, f"{robot.ns}/obstacles")
    pub = robot.ros.publisher(Detection2DArray, f"{robot.ns}/detections")
    robot.ros.wait_matched(pub)
    dets = detect(CAM, [PERSON], Pose())
    assert dets
    depth = render_depth(CAM, [PERSON])
    robot.drive(depth, 1.5, detections=lambda h: pub.publish(ros_msgs.detections_to_msg(robot.m, dets, h)))
    assert robot.ros.spin_until(lambda: any(d.detections for d in obstacles))
    last = next(d for d in reversed(obstacles) if d.detections)
    classes = [r.hypothesis.class_id for d in last.detections for r in d.results]
    assert "person" in classes
    centre = last.detections[classes.index("person")].bbox.center.position
    assert math.isfinite(centre.x)


def test_stamped_twist(ros: Harness) -> None:
    r = Robot(ros, "-p", "stamped:=true", stamped=True)
    try:
        assert r.cmd[0].header.frame_id == "base_link"
    finally:
        assert ros.stop(r.proc) == 0


def test_runs_without_vision_msgs(ros: Harness, tmp_path: Path, ros_env: dict[str, str]) -> None:
    hidden = tmp_path / "hide" / "vision_msgs"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('vision_msgs hidden by the test')\n")
    env = dict(ros_env, PYTHONPATH=str(hidden.parent))
    r = Robot(ros, env=env)
    try:
        r.drive(FLOOR, 1.0)
        assert max(r.linear(10)) > 0.0
        assert r.proc.output().count("vision_msgs is not installed") == 1
    finally:
        assert ros.stop(r.proc) == 0
