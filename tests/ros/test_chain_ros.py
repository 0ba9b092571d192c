"""depth_node -> obstacle_avoidance over DDS: camera frames in, every depth frame used, the robot not blind."""

from __future__ import annotations

import pytest

pytest.importorskip("rclpy")

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from sensor_msgs.msg import CameraInfo, Image, LaserScan

from tests.ros.frames import Frames
from tests.ros.harness import CONFIG, Harness


def test_camera_to_cmd_vel_through_both_nodes(ros: Harness) -> None:
    ns = ros.namespace()
    depth_node = ros.start("depth_node", ns, params_file=CONFIG / "depth_node.yaml")
    # A goal (no goal, no motion), and a watchdog longer than depth_node's latency on a loaded machine (frames
    # are stamped with the wall clock): what is checked here is that every frame gets through, not the timing.
    heading, timeout = ("-p", "goal_heading_rad:=0.0"), ("-p", "input_timeout_s:=2.0")
    diagnostics = ("-p", "diagnostics_period_s:=0.1")
    # A history deep enough for the whole burst: the shipped depth of 2 keeps the newest frames by design, so a
    # controller starved for a few hundred ms on a loaded machine would drop older ones (observed: 36 of 39).
    history = ("-p", "qos_depth:=50")
    robot = ros.start(
        "obstacle_avoidance",
        ns,
        *heading,
        *timeout,
        *diagnostics,
        *history,
        params_file=CONFIG / "obstacle_avoidance.yaml",
    )
    frames = Frames()
    pub_image = ros.publisher(Image, f"{ns}/image_raw")
    pub_info = ros.publisher(CameraInfo, f"{ns}/camera_info")
    depth = ros.collect(Image, f"{ns}/depth/image_raw")
    scans = ros.collect(LaserScan, f"{ns}/scan")
    cmd = ros.collect(Twist, f"{ns}/cmd_vel")
    diag = ros.collect(DiagnosticArray, "/diagnostics")
    ros.wait_matched(pub_image)
    ros.wait_matched(pub_info)
    # obstacle_avoidance's depth subscriptions must be matched before the count starts
    assert ros.spin_until(lambda: ros.node.count_subscribers(f"{ns}/depth/image_raw") >= 2, 15.0)
    assert ros.spin_until(lambda: ros.node.count_subscribers(f"{ns}/depth/camera_info") >= 1, 15.0)
    assert ros.spin_until(lambda: len(cmd) > 0, 15.0)
    image = frames.image()
    for _ in range(40):  # 4 s at 10 Hz, fresh stamps: the controller judges staleness by them
        now = ros.node.get_clock().now().nanoseconds
        image.header = frames.m.header(now, frames.frame_id)
        pub_info.publish(frames.m.camera_info(frames.camera, image.header))
        pub_image.publish(image)
        ros.spin_for(0.1)
    ros.spin_for(1.0)
    output = depth_node.output() + robot.output()
    assert len(depth) >= 10, output

    # Every depth frame reached the controller and was taken as good (its own count on /diagnostics) ...
    def taken() -> int:
        return int(ros.diagnostics(diag, f"{ns}/obstacle_avoidance").get("depth_frames", "0"))

    ros.spin_until(lambda: taken() >= len(depth), 10.0)
    assert taken() == len(depth), (taken(), len(depth), output)
    # ... and scans came out of it. A tick publishes the scan of the newest frame only, so on a loaded machine two
    # frames that arrive within one 50 ms tick give one scan: count scans against distinct ticks, not frames.
    assert len(scans) >= len(depth) // 2, (len(scans), len(depth), output)
    assert ros.stop(depth_node) == 0 and ros.stop(robot) == 0
