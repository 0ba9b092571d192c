"""Safe start through the live graph: no goal, no motion; ``~/enable`` and ``~/cancel_goal`` (issue 26).

The node runs on the shipped parameters, on wall time, fed open floor at 10 Hz (nothing in the way, so only
the goal decides whether it drives). "Silence" is checked as a robot owner would: nothing at all arrives on
``cmd_vel`` for a while, so teleop, a twist_mux or Nav2 can drive.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("rclpy")

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, Twist
from sensor_msgs.msg import CameraInfo, Image
from std_srvs.srv import SetBool, Trigger

from depth_node.evaluation.sim_bag import goal_msg
from depth_node.msgs import MessageSet
from tests.navigation.scenes import camera, render_depth
from tests.ros.harness import CONFIG, Harness, NodeProcess

CAM = camera(160, 120)
FLOOR = render_depth(CAM)
QUIET_S = 1.5  # this long without any cmd_vel is silence (the control timer runs at 20 Hz)


class Robot:
    """A started obstacle_avoidance on the shipped params, open floor fed at 10 Hz, its services."""

    def __init__(self, ros: Harness, *args: str) -> None:
        self.ros = ros
        self.ns = ns = ros.namespace()
        self.m = MessageSet.from_rclpy()
        self.proc: NodeProcess = ros.start(
            "obstacle_avoidance",
            ns,
            "-p",
            "diagnostics_period_s:=0.1",
            *args,
            params_file=CONFIG / "obstacle_avoidance.yaml",
        )
        self.cmd = ros.collect(Twist, f"{ns}/cmd_vel")
        self.diag = ros.collect(DiagnosticArray, "/diagnostics")
        self.pub_depth = ros.publisher(Image, f"{ns}/depth/image_raw")
        self.pub_info = ros.publisher(CameraInfo, f"{ns}/depth/camera_info")
        self.pub_goal = ros.publisher(PoseStamped, f"{ns}/goal_pose")
        self.enable = ros.node.create_client(SetBool, f"{ns}/obstacle_avoidance/enable")
        self.cancel = ros.node.create_client(Trigger, f"{ns}/obstacle_avoidance/cancel_goal")
        for pub in (self.pub_depth, self.pub_info, self.pub_goal):
            ros.wait_matched(pub)
        assert self.enable.wait_for_service(timeout_sec=15.0) and self.cancel.wait_for_service(timeout_sec=15.0)

    def state(self) -> str:
        return self.ros.diagnostics(self.diag, f"{self.ns}/obstacle_avoidance").get("state", "")

    def feed(self, seconds: float) -> None:
        """Open floor at 10 Hz, now-stamped, for ``seconds`` (the robot is never blind meanwhile)."""
        for _ in range(round(seconds * 10)):
            header = self.m.header(self.ros.node.get_clock().now().nanoseconds, "camera_optical_frame")
            self.pub_info.publish(self.m.camera_info(CAM, header))
            self.pub_depth.publish(self.m.image(FLOOR, "32FC1", header))
            self.ros.spin_for(0.1)

    def feed_until(self, condition: Any, timeout: float = 15.0) -> bool:
        for _ in range(round(timeout * 10)):
            if condition():
                return True
            self.feed(0.1)
        return bool(condition())

    def moving(self) -> bool:
        return any(c.linear.x > 0.0 for c in self.cmd[-5:])

    def call(self, client: Any, request: Any) -> Any:
        future = client.call_async(request)
        assert self.ros.spin_until(future.done, 10.0), self.proc.output()[-2000:]
        return future.result()

    def assert_stops_then_silent(self, state: str) -> None:
        """The command stream ends with one zero twist, then nothing arrives while depth keeps coming."""
        assert self.feed_until(lambda: self.state() == state), (self.state(), self.proc.output()[-2000:])
        self.feed(0.5)  # what was in flight when the state changed has arrived
        assert self.cmd, "nothing ever published"
        last = self.cmd[-1]
        assert (last.linear.x, last.angular.z) == (0.0, 0.0), last
        zeros_at_end = 0
        for c in reversed(self.cmd):
            if (c.linear.x, c.angular.z) != (0.0, 0.0):
                break
            zeros_at_end += 1
        assert zeros_at_end == 1, f"{zeros_at_end} zero twists at the end, expected exactly one"
        self.cmd.clear()
        self.feed(QUIET_S)
        assert self.cmd == [], f"{len(self.cmd)} cmd_vel while {state}"


def test_no_goal_no_motion_then_a_goal_drives_and_enable_and_cancel_stop(ros: Harness) -> None:
    robot = Robot(ros)
    try:
        robot.feed(2.0)
        assert robot.cmd == [], f"{len(robot.cmd)} cmd_vel without a goal: {robot.cmd[:3]}"
        assert robot.state() == "idle", robot.state()

        robot.pub_goal.publish(goal_msg(robot.m, 0, 20.0, 0.0))  # far ahead, in the dead-reckoned odom frame
        assert robot.feed_until(robot.moving), robot.proc.output()[-2000:]
        assert robot.state() == "driving"

        reply = robot.call(robot.enable, SetBool.Request(data=False))
        assert reply.success and "disabled" in reply.message
        robot.assert_stops_then_silent("disabled")

        reply = robot.call(robot.enable, SetBool.Request(data=True))
        assert reply.success
        assert robot.feed_until(robot.moving), "enabled again: it should resume toward the goal it holds"

        reply = robot.call(robot.cancel, Trigger.Request())
        assert reply.success and "cancelled" in reply.message
        robot.assert_stops_then_silent("idle")
        assert robot.ros.diagnostics(robot.diag, f"{robot.ns}/obstacle_avoidance")["goal"] == "none"
    finally:
        assert ros.stop(robot.proc) == 0, robot.proc.output()[-3000:]


def test_autostart_false_waits_for_enable_with_a_goal_held(ros: Harness) -> None:
    robot = Robot(ros, "-p", "autostart:=false", "-p", "goal_heading_rad:=0.0")
    try:
        robot.feed(2.0)
        assert robot.cmd == [] and robot.state() == "disabled", (robot.cmd[:3], robot.state())
        assert robot.call(robot.enable, SetBool.Request(data=True)).success
        assert robot.feed_until(robot.moving), robot.proc.output()[-2000:]
        # Blind while holding a goal: zero twists at every tick, not silence.
        robot.ros.spin_for(1.5)
        n = len(robot.cmd)
        robot.ros.spin_for(1.0)
        blind = robot.cmd[n:]
        assert len(blind) >= 10 and all((c.linear.x, c.angular.z) == (0.0, 0.0) for c in blind)
        assert robot.state() == "blind"
    finally:
        assert ros.stop(robot.proc) == 0, robot.proc.output()[-3000:]
