"""obstacle_avoidance as a managed (lifecycle) node and its live tuning, through the live ROS 2 graph.

Transitions over ``change_state`` and parameters over ``set_parameters``, as nav2_lifecycle_manager, ``ros2
lifecycle set`` and ``ros2 param set`` call them. "Nothing comes" can only be watched for a while (QUIET_S).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("rclpy")
pytest.importorskip("lifecycle_msgs")

from geometry_msgs.msg import Twist
from sensor_msgs.msg import CameraInfo, Image

from depth_node.msgs import MessageSet
from tests.navigation.scenes import camera, render_depth
from tests.ros.harness import CONFIG, Harness, NodeProcess
from tests.ros.services import NodeServices
from tests.test_nav2_example import example_topics

PARAMS = CONFIG / "obstacle_avoidance.yaml"
CAM = camera(160, 120)
FLOOR = render_depth(CAM)
QUIET_S = 1.5


class ManagedRobot:
    """An obstacle_avoidance started with ``--managed``, its services, the test's depth publishers."""

    def __init__(self, ros: Harness) -> None:
        self.ros = ros
        self.ns = ros.namespace()
        self.m = MessageSet.from_rclpy()
        heading = ("-p", "goal_heading_rad:=0.0")  # a goal on purpose: without one the node commands nothing
        self.proc: NodeProcess = ros.start(
            "obstacle_avoidance", self.ns, *heading, params_file=PARAMS, node_args=["--managed"]
        )
        self.services = NodeServices(ros, f"{self.ns}/obstacle_avoidance")
        self.cmd = ros.collect(Twist, f"{self.ns}/cmd_vel")
        self.pub_depth = ros.publisher(Image, f"{self.ns}/depth/image_raw")
        self.pub_info = ros.publisher(CameraInfo, f"{self.ns}/depth/camera_info")

    def publishers(self) -> int:
        return int(self.ros.node.count_publishers(f"{self.ns}/cmd_vel"))

    def drive(self, seconds: float) -> None:
        """Publish open floor (now-stamped) at 10 Hz for ``seconds``."""
        for _ in range(round(seconds * 10)):
            header = self.m.header(self.ros.node.get_clock().now().nanoseconds, "camera_optical_frame")
            self.pub_info.publish(self.m.camera_info(CAM, header))
            self.pub_depth.publish(self.m.image(FLOOR, "32FC1", header))
            self.ros.spin_for(0.1)

    def drive_until(self, condition: object, timeout: float = 20.0) -> None:
        for _ in range(round(timeout)):
            self.drive(1.0)
            if condition():  # type: ignore[operator]
                return
        raise AssertionError(f"not reached; last cmd_vel {[c.linear.x for c in self.cmd[-5:]]}\n{self.proc.output()}")

    def activate(self) -> None:
        s = self.services
        if s.state() == "unconfigured":
            assert s.transition("configure")
        if s.state() == "inactive":
            assert s.transition("activate")
        assert s.state() == "active"


@pytest.fixture(scope="module")
def robot(ros: Harness) -> Iterator[ManagedRobot]:
    r = ManagedRobot(ros)
    yield r
    assert ros.stop(r.proc) == 0, r.proc.output()


def test_commands_only_while_active_and_stops_when_deactivated(robot: ManagedRobot) -> None:
    s, ros = robot.services, robot.ros
    assert s.state() == "unconfigured" and robot.publishers() == 0
    assert s.transition("configure") and s.state() == "inactive"
    assert ros.spin_until(lambda: robot.publishers() == 1)
    robot.drive(QUIET_S)
    assert robot.cmd == []  # configured but inactive: no command at all, even with depth coming in
    assert s.transition("activate") and s.state() == "active"
    robot.drive_until(lambda: robot.cmd and robot.cmd[-1].linear.x > 0.1)
    assert s.transition("deactivate") and s.state() == "inactive"
    ros.spin_for(0.5)  # the last words (one zero twist) may still be on the way
    assert robot.cmd[-1].linear.x == 0.0 and robot.cmd[-1].angular.z == 0.0, robot.cmd[-3:]
    robot.cmd.clear()
    robot.drive(QUIET_S)
    assert robot.cmd == []  # deactivated: it commands nothing
    assert s.transition("activate")
    robot.drive_until(lambda: robot.cmd and robot.cmd[-1].linear.x > 0.1)  # back to driving on fresh depth
    assert s.transition("deactivate") and s.transition("cleanup") and s.state() == "unconfigured"
    assert ros.spin_until(lambda: robot.publishers() == 0), "cleanup left cmd_vel behind"
    assert not s.transition("activate")  # not from unconfigured; the node lives on
    assert s.state() == "unconfigured"


def test_publishes_what_the_nav2_example_feeds_on(robot: ManagedRobot) -> None:
    robot.activate()
    robot.drive_until(lambda: robot.cmd and robot.cmd[-1].linear.x > 0.0)
    names = {n for n, _ in robot.ros.node.get_publisher_names_and_types_by_node("obstacle_avoidance", robot.ns)}
    assert f"{robot.ns}/scan" in names and "/scan" in example_topics()


def test_live_tuning_takes_effect_and_refuses_with_a_reason(robot: ManagedRobot) -> None:
    s = robot.services
    robot.activate()
    robot.drive_until(lambda: robot.cmd and robot.cmd[-1].linear.x > 0.3)  # max_linear_speed 0.5 on open floor
    assert s.set("max_linear_speed", 0.2) == (True, "")
    robot.cmd.clear()
    robot.drive(1.0)
    assert robot.cmd and max(c.linear.x for c in robot.cmd[-5:]) == pytest.approx(0.2)
    ok, reason = s.set("max_linear_speed", -1.0)  # the dataclass's own words (one bound: no ROS range)
    assert (ok, reason) == (False, "parameter 'max_linear_speed': -1.0 is below the minimum 0.0")
    assert s.describe("max_linear_speed").additional_constraints == "minimum 0.0"
    ok, reason = s.set("box_margin", 0.9)  # two bounds: a ROS range, checked by rclpy (and drawn as a slider)
    assert not ok and "box_margin" in reason and "range" in reason
    assert s.describe("box_margin").floating_point_range[0].to_value == 0.45
    ok, reason = s.set("stop_distance_m", 5.0)  # in range, but above slow_distance_m: the dataclass's own rule
    assert not ok and "stop_distance_m" in reason and "slow_distance_m" in reason
    ok, reason = s.set("kp", "fast")
    assert not ok and reason
    ok, reason = s.set("scan_frame", "elsewhere")  # structural: read-only, and it says so
    assert not ok and "read-only" in reason
    assert "restart the node" in s.describe("scan_frame").description
    assert s.get("max_linear_speed") == 0.2 and s.get("stop_distance_m") == 0.45
    assert s.set("kp", 2.5) == (True, "")
    assert s.get("kp") == 2.5
