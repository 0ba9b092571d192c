"""``obstacle_avoidance``: the rclpy shell around :class:`navigation.controller.Controller`.

Wiring only. Callbacks convert messages (:mod:`navigation.msgs`) and hand them to the controller; a
timer at ``control_rate_hz`` steps it and publishes, so the watchdog stops the robot even when no
message arrives. A message that cannot be used is logged (throttled) and counted; a failed depth frame
also makes the controller blind (``mark_failed``). The node never dies on one message.

vision_msgs is optional: without it (a pip install that did not build it) the node runs on depth alone,
without ``detections`` and ``obstacles``, and says so once at start-up.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from geometry_msgs.msg import Twist, TwistStamped
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image, LaserScan
from visualization_msgs.msg import MarkerArray

from depth_node.errors import DepthNodeError
from depth_node.msgs import MessageSet, camera_from_info, stamp_ns
from depth_node.node_params import declare_and_read
from depth_node.node_qos import MatchedSubscription
from navigation import msgs as nav_msgs
from navigation.controller import Controller
from navigation.params import ObstacleAvoidanceParams

NODE_NAME = "obstacle_avoidance"
BASE_FRAME = "base_link"
LOG_THROTTLE_S = 5.0


class ObstacleAvoidanceNode(Node):
    """depth/image_raw, depth/camera_info, detections in; cmd_vel, obstacles, scan, markers out."""

    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        self.params: ObstacleAvoidanceParams = declare_and_read(self, ObstacleAvoidanceParams)
        p = self.params
        self.m = MessageSet.from_rclpy()
        self.controller = Controller(p)
        self.counts: Counter[str] = Counter()
        self._info: Any = None
        self._new_header: Any = None
        self.subscriptions_matched = [
            MatchedSubscription(self, Image, "depth/image_raw", self._on_depth, p.qos_depth, p.qos_reliability),
            MatchedSubscription(self, CameraInfo, "depth/camera_info", self._on_info, p.qos_depth, p.qos_reliability),
        ]
        self.pub_obstacles: Any = None
        try:
            from vision_msgs.msg import Detection2DArray, Detection3DArray
        except ImportError as exc:
            self.get_logger().warning(
                f"vision_msgs is not installed ({exc}): running on depth alone, without the detections "
                "subscription and the obstacles topic (see the README to build vision_msgs)"
            )
        else:
            self.create_subscription(Detection2DArray, "detections", self._on_detections, 10)
            self.pub_obstacles = self.create_publisher(Detection3DArray, "obstacles", 10)
        self.pub_cmd = self.create_publisher(TwistStamped if p.stamped else Twist, "cmd_vel", 10)
        self.pub_scan = self.create_publisher(LaserScan, "scan", 10)
        self.pub_markers = self.create_publisher(MarkerArray, "markers", 10) if p.publish_markers else None
        self.create_timer(1.0 / p.control_rate_hz, self._tick)

    def _warn(self, reason: str, text: str) -> None:
        self.counts[reason] += 1
        self.get_logger().warning(f"{text} ({dict(self.counts)})", throttle_duration_sec=LOG_THROTTLE_S)

    def _on_info(self, msg: CameraInfo) -> None:
        self._info = msg

    def _on_depth(self, msg: Image) -> None:
        stamp = stamp_ns(msg.header) * 1e-9
        if self._info is None:
            self.controller.mark_failed(stamp, "no camera_info yet")
            self._warn("no_camera_info", "depth frame without CameraInfo on depth/camera_info")
            return
        try:
            depth = nav_msgs.depth_from_msg(msg)
            camera = camera_from_info(self._info, image_size=(depth.shape[1], depth.shape[0]))
            if self.controller.update_depth(stamp, depth, camera) is not None:
                self._new_header = msg.header
        except DepthNodeError as exc:
            self.controller.mark_failed(stamp, str(exc))
            self._warn(exc.reason, f"depth frame failed: {exc}")

    def _on_detections(self, msg: Any) -> None:
        try:
            dets = nav_msgs.detections_from_msg(msg)
        except (AttributeError, TypeError, ValueError) as exc:
            self._warn("bad_detections", f"detections dropped: {exc}")
            return
        self.controller.update_detections(stamp_ns(msg.header) * 1e-9, dets)

    def _tick(self) -> None:
        now = self.get_clock().now()
        command = self.controller.step(now.nanoseconds * 1e-9)
        if command.blind:
            self.get_logger().warning(f"stopped: {command.reason}", throttle_duration_sec=LOG_THROTTLE_S)
        header = self.m.header(now.nanoseconds, BASE_FRAME) if self.params.stamped else None
        self.pub_cmd.publish(nav_msgs.twist_to_msg(self.m, command, header))
        if self._new_header is None or command.blind:
            return
        depth_header, self._new_header = self._new_header, None
        obstacles = self.controller.obstacles
        scan = self.controller.scan
        if scan is not None:
            self.pub_scan.publish(nav_msgs.scan_to_msg(self.m, scan, depth_header))
        if self.pub_obstacles is not None:
            self.pub_obstacles.publish(nav_msgs.obstacles_to_msg(self.m, obstacles, depth_header))
        if self.pub_markers is not None:
            markers = nav_msgs.markers_to_msg(self.m, obstacles, command, depth_header, self.params.person_classes)
            self.pub_markers.publish(markers)
