"""obstacle_avoidance as on a robot, through the live graph: odometry, a goal pose, the state on /diagnostics.

The node runs on simulated time: the test publishes /clock, so each control tick happens when the test says,
after the depth, CameraInfo and odometry of that tick were published (the simulator's lockstep, by hand).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

pytest.importorskip("rclpy")

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, TwistStamped
from nav_msgs.msg import Odometry
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, LaserScan

from depth_node.evaluation.sim_bag import goal_msg
from depth_node.msgs import MessageSet, stamp_ns
from tests.navigation.scenes import Box, camera, render_depth
from tests.ros.harness import CONFIG, Harness, NodeProcess

T0 = 1_700_000_000_000_000_000
TICK = 50_000_000  # 20 Hz, the shipped control_rate_hz
CAM = camera()
ARGS = ("-p", "use_sim_time:=true", "-p", "stamped:=true", "-p", "diagnostics_period_s:=0.05")
HEADING = ("-p", "goal_heading_rad:=0.0")  # a goal on purpose: straight on, until a goal_pose replaces it


class LiveNav:
    """A started obstacle_avoidance on simulated time, with the test's publishers and collectors."""

    def __init__(self, ros: Harness, *args: str) -> None:
        self.ros = ros
        self.ns = ns = ros.namespace()
        self.proc: NodeProcess = ros.start(
            "obstacle_avoidance", ns, *ARGS, *args, params_file=CONFIG / "obstacle_avoidance.yaml"
        )
        self.m = MessageSet.from_rclpy()
        self.k = 0
        self.clock = ros.publisher(Clock, "/clock")
        self.depth = ros.publisher(Image, f"{ns}/depth/image_raw")
        self.info = ros.publisher(CameraInfo, f"{ns}/depth/camera_info")
        self.odom = ros.publisher(Odometry, f"{ns}/odom")
        self.goal = ros.publisher(PoseStamped, f"{ns}/goal_pose")
        self.cmds = ros.collect(TwistStamped, f"{ns}/cmd_vel")
        self.scans = ros.collect(LaserScan, f"{ns}/scan")
        self.diag = ros.collect(DiagnosticArray, "/diagnostics")
        for pub in (self.depth, self.info, self.odom, self.goal):
            ros.wait_matched(pub)
        assert ros.spin_until(lambda: ros.node.count_publishers(f"{ns}/cmd_vel") > 0, 15.0)

    def status(self) -> dict[str, str]:
        return self.ros.diagnostics(self.diag, f"{self.ns}/obstacle_avoidance")

    def tick(
        self, boxes: Sequence[Box] = (), pose: tuple[float, float, float] | None = (0.0, 0.0, 0.0)
    ) -> tuple[float, float]:
        """One control period: depth of ``boxes`` and the odometry ``pose`` at t, then /clock = t; the command."""
        t = self.advance(boxes, pose)
        got = self.ros.spin_until(lambda: any(stamp_ns(c.header) == t for c in self.cmds), 10.0)
        assert got, f"no cmd_vel for tick {self.k - 1}:\n{self.proc.output()[-3000:]}"
        cmd = next(c for c in self.cmds if stamp_ns(c.header) == t)
        return cmd.twist.linear.x, cmd.twist.angular.z

    def silent_tick(self, boxes: Sequence[Box] = (), pose: tuple[float, float, float] | None = (0.0, 0.0, 0.0)) -> None:
        """One control period that must publish nothing on cmd_vel (its state on /diagnostics does come)."""
        t = self.advance(boxes, pose)
        name = f"{self.ns}/obstacle_avoidance:"
        ticked = lambda: any(  # noqa: E731
            stamp_ns(d.header) == t and any(s.name.startswith(name) for s in d.status) for d in self.diag
        )
        assert self.ros.spin_until(ticked, 10.0), f"no status for tick {self.k - 1}:\n{self.proc.output()[-3000:]}"
        self.ros.spin_for(0.2)  # a command of the same tick would have come by now
        assert not any(stamp_ns(c.header) == t for c in self.cmds), (self.k - 1, self.status())

    def advance(self, boxes: Sequence[Box], pose: tuple[float, float, float] | None) -> int:
        """Publish the inputs of the next period and then /clock at its time; that time."""
        t = T0 + self.k * TICK
        self.k += 1
        header = self.m.header(t, "camera_optical_frame")
        self.info.publish(self.m.camera_info(CAM, header))
        self.depth.publish(self.m.image(render_depth(CAM, boxes), "32FC1", header))
        if pose is not None:
            x, y, yaw = pose
            odom = Odometry()
            odom.header = self.m.header(t, "odom")
            odom.child_frame_id = "base_link"
            odom.pose.pose.position.x, odom.pose.pose.position.y = x, y
            odom.pose.pose.orientation.z, odom.pose.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
            self.odom.publish(odom)
        self.ros.spin_for(0.1)  # the node takes its inputs before the tick
        sec, nanosec = divmod(t, 1_000_000_000)
        clock = Clock()
        clock.clock.sec, clock.clock.nanosec = sec, nanosec
        self.clock.publish(clock)
        return t

    def send_goal(self, x: float, y: float, frame: str = "odom") -> None:
        msg: Any = goal_msg(self.m, T0, x, y)
        msg.header.frame_id = frame
        self.goal.publish(msg)
        self.ros.spin_for(0.1)

    def stop(self) -> int:
        return self.ros.stop(self.proc)


@pytest.fixture
def nav(ros: Harness) -> Any:
    live = LiveNav(ros, *HEADING)
    yield live
    assert live.stop() == 0, live.proc.output()[-3000:]


def test_a_goal_behind_turns_the_robot_around_and_a_reached_goal_stops_it(nav: LiveNav) -> None:
    assert nav.status() == {} or nav.status()["pose_source"] == "dead_reckoning"
    nav.send_goal(-3.0, 0.5)
    commands = [nav.tick() for _ in range(10)]
    status = nav.status()
    assert status["pose_source"] == "odometry" and status["goal"] == "point -3.000 0.500", status
    assert status["state"] == "driving", status
    # Behind and to the left: turn left in place (the camera cannot see where it would drive).
    assert all(lin == 0.0 for lin, _ in commands), commands
    assert commands[-1][1] > 0.5, commands
    # At the goal (within goal_tolerance_m 0.35): one zero twist, not blind, then nothing on cmd_vel.
    last = nav.tick(pose=(-2.8, 0.4, math.pi))
    assert last == (0.0, 0.0)
    for _ in range(3):
        nav.silent_tick(pose=(-2.8, 0.4, math.pi))
    status = nav.status()
    assert status["state"] == "goal reached" and status["mode"] == "goal_reached", status
    assert status["reason"].startswith("goal reached: 0.22 m"), status


def test_a_goal_in_another_frame_is_refused(nav: LiveNav) -> None:
    nav.send_goal(-3.0, 0.0, frame="map")
    for _ in range(6):
        lin, ang = nav.tick()
    assert nav.status()["goal"].startswith("heading 0.000"), nav.status()
    assert lin > 0.0 and ang == 0.0  # still the goal heading: straight ahead on open floor
    assert "goal refused: frame 'map' is not the odometry frame 'odom'" in nav.proc.output()


def test_an_odometry_reset_leaves_no_phantom_obstacle(nav: LiveNav) -> None:
    wall = [Box(1.8, 2.0, -0.4, 0.4)]
    for _ in range(6):
        nav.tick(wall)  # a box 1.8 m ahead, seen from the origin
    # The odometry jumps 1.5 m ahead (a reset: more than odom_jump_m 1.0); the camera now sees open floor.
    # Taken as motion, the remembered box would sit 0.3 m ahead, in the blind zone under the view, and stop
    # the robot for good.
    commands = [nav.tick((), pose=(1.5, 0.0, 0.0)) for _ in range(20)]
    assert nav.status()["odom_resets"] == "1", (nav.status(), commands)
    assert commands[-1][0] > 0.3, commands
    assert "odometry jumped" in nav.proc.output()


def test_scan_is_in_the_level_scan_frame_announced_on_tf_static(nav: LiveNav, ros: Harness) -> None:
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    from tf2_msgs.msg import TFMessage

    static: list[Any] = []
    latched = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    ros.node.create_subscription(TFMessage, "/tf_static", static.append, latched)
    for _ in range(3):
        nav.tick([Box(1.5, 1.7, -2.0, 2.0)])
    assert ros.spin_until(lambda: len(nav.scans) > 0 and len(static) > 0, 5.0)
    scan = nav.scans[-1]
    assert scan.header.frame_id == "camera_scan"
    tf = [t for m in static for t in m.transforms if t.child_frame_id == "camera_scan"][-1]
    assert tf.header.frame_id == "camera_optical_frame"
    # A wall 1.5 m ahead: straight ahead (angle 0, the middle bin) the scan reads 1.5 m.
    ranges = np.asarray(scan.ranges)
    assert ranges[len(ranges) // 2] == pytest.approx(1.5, abs=0.05)
