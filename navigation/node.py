"""``obstacle_avoidance``: the rclpy shell around :class:`navigation.core.NavigationCore`.

Wiring only. Callbacks convert messages (:mod:`depth_node.msgs`) and hand them to the core with their stamps;
a timer at ``control_rate_hz`` ticks it and publishes what the tick emits, so the watchdog stops the robot
even when no message arrives. A message that cannot be used is logged (throttled) and counted; a failed depth
frame also makes the core blind (``on_failed``). The node never dies on one message. Every rule (blind,
stale, goal reached, which header, odometry or dead reckoning) is the core's, shared with the replay and the
simulators.

vision_msgs is optional: without it (a pip install that did not build it) the node runs on depth alone,
without ``detections`` and ``obstacles``, and says so once at start-up.

As on a robot: ``odom`` (nav_msgs/Odometry) places the memory and the rolling window and turns the goal into
the robot frame (without it, dead reckoning of the commands; the node logs which); ``goal_pose``
(geometry_msgs/PoseStamped in ``odom_frame``, what RViz's "2D Goal Pose" and Foxglove publish) sets a goal
point, and within ``goal_tolerance_m`` the node stops with a zero twist. No goal, no motion: without a
goal_pose, a ``target_class`` in view or a ``goal_heading_rad`` set on purpose, nothing is published on
``cmd_vel``. ``~/enable`` (std_srvs/SetBool) and ``~/cancel_goal`` (std_srvs/Trigger) stop the robot with one
zero twist and then leave ``cmd_vel`` to other sources; ``autostart`` false starts disabled. The state (idle,
driving, blocked, blind, goal reached, disabled) goes to ``/diagnostics``.
``scan`` and ``markers`` are in ``scan_frame`` (level, z up; see :mod:`depth_node.frames`), whose transform
from the depth image's optical frame the node publishes on ``/tf_static`` (tf2_msgs, when installed).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image, LaserScan
from std_srvs.srv import SetBool, Trigger
from visualization_msgs.msg import MarkerArray

from depth_node import msgs as ros_msgs
from depth_node.errors import DepthNodeError
from depth_node.msgs import MessageSet, camera_from_info, stamp_ns
from depth_node.node_params import declare_and_read
from depth_node.node_qos import MatchedSubscription
from navigation.core import WARNING, NavigationCore, TickOutput
from navigation.params import ObstacleAvoidanceParams

NODE_NAME = "obstacle_avoidance"
LOG_THROTTLE_S = 5.0


class ObstacleAvoidanceNode(Node):
    """depth/image_raw, depth/camera_info, detections, odom, goal_pose in; cmd_vel, obstacles, scan, markers out."""

    PARAMS = ObstacleAvoidanceParams

    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        self._start()

    def _start(self) -> None:
        """A plain node wires everything up now; a managed one (navigation.managed_node) on configure."""
        self._build()

    def _build(self) -> None:
        # Frames with frame_prefix applied (robot1/base_link ...): what every header and the core use.
        self.params: ObstacleAvoidanceParams = declare_and_read(self, ObstacleAvoidanceParams, self._retune).prefixed()
        p = self.params
        self.m = MessageSet.from_rclpy()
        self.core = NavigationCore(p)
        self.counts: Counter[str] = Counter()
        self._info: Any = None
        self._pending_depth: Any = None
        self.subscriptions_matched = [
            MatchedSubscription(self, Image, "depth/image_raw", self._on_depth, p.qos_depth, p.qos_reliability),
            MatchedSubscription(
                self, CameraInfo, "depth/camera_info", self._on_info, p.qos_depth, p.qos_reliability, newest_only=True
            ),
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
        self.pub_cmd = self.create_publisher(TwistStamped if p.cmd_vel_stamped else Twist, "cmd_vel", 10)
        self.pub_scan = self.create_publisher(LaserScan, "scan", 10)
        self.pub_markers = self.create_publisher(MarkerArray, "markers", 10) if p.publish_markers else None
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.pub_static = self._static_tf_publisher() if p.publish_scan_tf else None
        self.create_subscription(Odometry, "odom", self._on_odom, 10)
        self.create_subscription(PoseStamped, "goal_pose", self._on_goal, 10)
        self._announced: set[str] = set()
        self.create_service(SetBool, "~/enable", self._on_enable)
        self.create_service(Trigger, "~/cancel_goal", self._on_cancel_goal)
        self._log_notices()
        self.create_timer(1.0 / p.control_rate_hz, self._tick)

    def _retune(self, params: ObstacleAvoidanceParams) -> None:
        """Live tuning (``ros2 param set``): the next tick decides with the new speeds, distances and gains."""
        params = params.prefixed()  # frames are read-only, but the values come back unprefixed
        self.params = params
        self.core.retune(params)

    def _teardown(self) -> None:
        """Nothing runs outside the executor here (the depth node stops its worker thread)."""

    def _static_tf_publisher(self) -> Any:
        try:
            from tf2_msgs.msg import TFMessage
        except ImportError as exc:
            self.get_logger().warning(
                f"tf2_msgs is not installed ({exc}): not publishing the transform to scan_frame "
                f"'{self.params.scan_frame}'; provide it, or build tf2_msgs (see the README)"
            )
            return None
        latched = QoSProfile(
            depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
        )
        return self.create_publisher(TFMessage, "/tf_static", latched)

    def _log_notices(self) -> None:
        """Log what the core has to say (warnings throttled, with the counts of this node's drops)."""
        for notice in self.core.take_notices():
            if notice.level == WARNING and notice.reason:
                self._warn(notice.reason, notice.text)
            elif notice.level == WARNING:
                self.get_logger().warning(notice.text)
            else:
                self.get_logger().info(notice.text)

    def _on_odom(self, msg: Odometry) -> None:
        stamp, frame, x, y, yaw = ros_msgs.odometry_from_msg(msg)
        self.core.on_odometry(stamp, frame, x, y, yaw)
        self._log_notices()

    def _on_goal(self, msg: PoseStamped) -> None:
        stamp, frame, x, y = ros_msgs.goal_from_msg(msg)
        self.core.on_goal(stamp, frame, x, y)
        self._log_notices()

    def _on_enable(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        """``~/enable``: false stops (one zero twist, then silence) and keeps the goal; true resumes toward it."""
        response.message = self.core.set_enabled(request.data)
        response.success = True
        self._log_notices()
        return response

    def _on_cancel_goal(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        """``~/cancel_goal``: drop the goal and stop (one zero twist, then silence)."""
        del request
        response.message = self.core.cancel_goal()
        response.success = True
        self._log_notices()
        return response

    def _warn(self, reason: str, text: str) -> None:
        self.counts[reason] += 1
        self.get_logger().warning(f"{text} ({dict(self.counts)})", throttle_duration_sec=LOG_THROTTLE_S)

    def _on_info(self, msg: CameraInfo) -> None:
        first = self._info is None
        self._info = msg
        pending, self._pending_depth = self._pending_depth, None
        if first and pending is not None:
            self._on_depth(pending)  # the first frame's depth came before its CameraInfo (depth_node's order)

    def _on_depth(self, msg: Image) -> None:
        stamp = stamp_ns(msg.header)
        if self._info is None:
            if self._pending_depth is not None:  # a second frame and still no CameraInfo: the first one failed
                self.core.on_failed(stamp, "no camera_info yet")
                self._warn("no_camera_info", "depth frame without CameraInfo on depth/camera_info")
            self._pending_depth = msg
            return
        try:
            depth = ros_msgs.depth_from_msg(msg)
            camera = camera_from_info(self._info, image_size=(depth.shape[1], depth.shape[0]))
            self.core.on_depth(stamp, msg.header.frame_id, depth, camera)
        except DepthNodeError as exc:
            self.core.on_failed(stamp, str(exc))
            self._warn(exc.reason, f"depth frame failed: {exc}")

    def _on_detections(self, msg: Any) -> None:
        try:
            dets = ros_msgs.detections_from_msg(msg)
        except (AttributeError, TypeError, ValueError) as exc:
            self._warn("bad_detections", f"detections dropped: {exc}")
            return
        self.core.on_detections(stamp_ns(msg.header), dets)

    def _tick(self) -> None:
        out = self.core.tick(self.get_clock().now().nanoseconds)
        self._log_notices()
        self._publish(out)

    def _publish(self, out: TickOutput) -> None:
        """The tick's messages: cmd_vel, /diagnostics, and for a new depth frame scan, obstacles, markers."""
        command, p, m = out.command, self.params, self.m
        if command.blind:
            self.get_logger().warning(f"stopped: {command.reason}", throttle_duration_sec=LOG_THROTTLE_S)
        if out.publish_command:
            header = m.header(out.stamp_ns, p.base_frame) if p.cmd_vel_stamped else None
            self.pub_cmd.publish(ros_msgs.twist_to_msg(m, command, header))
        if out.status is not None:
            self._publish_status(out.stamp_ns, out.status)
        frame = out.frame
        if frame is None:
            return
        depth_header = m.header(frame.stamp_ns, frame.frame_id)
        self._announce_scan_frame(depth_header)
        scan_header = ros_msgs.scan_header(m, depth_header, p.scan_frame)
        if frame.scan is not None:
            self.pub_scan.publish(ros_msgs.scan_to_msg(m, frame.scan, scan_header))
        if self.pub_obstacles is not None:
            self.pub_obstacles.publish(ros_msgs.obstacles_to_msg(m, frame.obstacles, depth_header))
        if self.pub_markers is not None:
            markers = ros_msgs.markers_to_msg(
                m, frame.obstacles, command, scan_header, p.person_classes, pitch_rad=p.camera_pitch_rad
            )
            self.pub_markers.publish(markers)

    def _announce_scan_frame(self, depth_header: Any) -> None:
        """The optical frame -> scan_frame transform, once per camera frame id (latched on /tf_static)."""
        frame = depth_header.frame_id
        if self.pub_static is None or frame in self._announced:
            return
        self._announced.add(frame)
        p = self.params
        self.pub_static.publish(ros_msgs.scan_tf_msg(self.m, depth_header, p.scan_frame, p.camera_pitch_rad))

    def _publish_status(self, now_ns: int, status: Any) -> None:
        """One DiagnosticStatus of the core's state, stamped with the tick's time (lined up with cmd_vel)."""
        msg = DiagnosticArray(
            status=[
                DiagnosticStatus(
                    level=bytes([status.level]),
                    name=f"{self.get_fully_qualified_name()}: navigation",
                    message=status.message,
                    hardware_id=NODE_NAME,
                    values=[KeyValue(key=k, value=v) for k, v in status.values],
                )
            ]
        )
        msg.header.stamp = self.m.header(now_ns, "").stamp
        self.pub_diagnostics.publish(msg)
