"""The simulator's ROS 2 node: publishes the simulated robot's sensors and records what crosses the middleware.

:class:`SimNode` publishes ``/clock``, the camera (``/camera/image_raw`` + ``/camera/camera_info``),
``/detections``, ``/odom``, ``/tf``, ``/tf_static`` and the goal on ``/goal_pose``, and collects what
``depth_node`` and ``obstacle_avoidance`` publish; :class:`Lockstep` spins it until an answer comes. The
loop that drives both is :mod:`depth_node.simulation.runner_node`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import serialize_message
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, LaserScan, PointCloud2
from tf2_msgs.msg import TFMessage
from vision_msgs.msg import Detection2DArray, Detection3DArray
from visualization_msgs.msg import MarkerArray

from depth_node.msgs import stamp_ns
from depth_node.msgs.vision_defs import typestore_with_vision
from depth_node.simulation.options import START_NS
from depth_node.simulation.processes import GraphError, NodeProcess

LATCHED = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
# What the nodes publish, recorded as it arrives (topic -> class, ROS type name).
OUTPUTS: dict[str, tuple[Any, str]] = {
    "/depth/image_raw": (Image, "sensor_msgs/msg/Image"),
    "/depth/camera_info": (CameraInfo, "sensor_msgs/msg/CameraInfo"),
    "/depth/points": (PointCloud2, "sensor_msgs/msg/PointCloud2"),
    "/scan": (LaserScan, "sensor_msgs/msg/LaserScan"),
    "/obstacles": (Detection3DArray, "vision_msgs/msg/Detection3DArray"),
    "/markers": (MarkerArray, "visualization_msgs/msg/MarkerArray"),
    "/cmd_vel": (TwistStamped, "geometry_msgs/msg/TwistStamped"),
    "/diagnostics": (DiagnosticArray, "diagnostic_msgs/msg/DiagnosticArray"),
}
# What this node publishes (topic -> class, ROS type name, QoS).
INPUTS: dict[str, tuple[Any, str, QoSProfile]] = {
    "/clock": (Clock, "rosgraph_msgs/msg/Clock", RELIABLE),
    "/camera/image_raw": (Image, "sensor_msgs/msg/Image", RELIABLE),
    "/camera/camera_info": (CameraInfo, "sensor_msgs/msg/CameraInfo", RELIABLE),
    "/detections": (Detection2DArray, "vision_msgs/msg/Detection2DArray", RELIABLE),
    "/odom": (Odometry, "nav_msgs/msg/Odometry", RELIABLE),
    "/tf": (TFMessage, "tf2_msgs/msg/TFMessage", RELIABLE),
    "/goal_pose": (PoseStamped, "geometry_msgs/msg/PoseStamped", RELIABLE),
    # The renderer's exact depth: recorded for replay's ground truth; with --depth oracle it is the depth.
    "/camera/depth_gt": (Image, "sensor_msgs/msg/Image", RELIABLE),
}
NAV_REMAPS = ("detections:=/detections", "cmd_vel:=/cmd_vel", "odom:=/odom", "goal_pose:=/goal_pose")
DEPTH_REMAPS = ("image_raw:=/camera/image_raw", "camera_info:=/camera/camera_info")


@dataclass(frozen=True)
class GraphOptions:
    """Timing of the lockstep (wall clock; none of it changes the simulated result).

    Attributes:
        start_timeout_s: Time for both nodes to start and connect.
        step_timeout_s: Time for one answer (depth of a frame, cmd_vel of a tick) before the run fails.
        settle_s: Spin this long after a frame's depth arrived, before the clock tick.
        repeats: A run with a lockstep miss is run again up to this many times (the result must not depend on
            which of two messages a loaded machine delivered first).
    """

    start_timeout_s: float = 90.0
    step_timeout_s: float = 30.0
    settle_s: float = 0.01
    repeats: int = 2


class BagSink:
    """Writes serialised messages into a rosbags writer, one connection per topic on first use."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self.store = typestore_with_vision()
        self._conns: dict[str, Any] = {}

    def write(self, topic: str, type_name: str, t_ns: int, data: bytes) -> None:
        """Store one CDR message (rclpy's serialisation is the bag's)."""
        if self.writer is None:
            return
        conn = self._conns.get(topic)
        if conn is None:
            conn = self._conns[topic] = self.writer.add_connection(topic, type_name, typestore=self.store)
        self.writer.write(conn, t_ns, data)


class SimNode(Node):
    """Publishes the simulated robot's sensors, records everything, collects the nodes' answers."""

    def __init__(self, sink: BagSink, context: Any) -> None:
        super().__init__("depth_node_simulator", context=context)
        self.sink = sink
        self.now_ns = START_NS
        self.pubs = {topic: self.create_publisher(cls, topic, qos) for topic, (cls, _t, qos) in INPUTS.items()}
        self.pub_static = self.create_publisher(TFMessage, "/tf_static", LATCHED)
        self.pub_depth = self.create_publisher(Image, "/depth/image_raw", RELIABLE)
        self.pub_depth_info = self.create_publisher(CameraInfo, "/depth/camera_info", RELIABLE)
        self.depth_stamps: dict[int, set[str]] = {}  # stamp -> depth_node topics that arrived with it
        self.commands: dict[int, Any] = {}
        self.diagnostics: dict[int, dict[str, str]] = {}
        self.subs: dict[str, Any] = {}
        for topic, (cls, type_name) in OUTPUTS.items():
            self.subs[topic] = self.create_subscription(cls, topic, self._recorder(topic, type_name), RELIABLE)
        self.create_subscription(
            TFMessage, "/tf_static", self._recorder("/tf_static", "tf2_msgs/msg/TFMessage"), LATCHED
        )

    def _recorder(self, topic: str, type_name: str) -> Callable[[Any], None]:
        def callback(msg: Any) -> None:
            self.sink.write(topic, type_name, self.now_ns, serialize_message(msg))
            if topic in ("/depth/image_raw", "/depth/camera_info", "/depth/points"):
                self.depth_stamps.setdefault(stamp_ns(msg.header), set()).add(topic)
            elif topic == "/cmd_vel":
                self.commands[stamp_ns(msg.header)] = msg.twist
            elif topic == "/diagnostics":
                for status in msg.status:
                    if status.name.endswith("obstacle_avoidance: navigation"):
                        self.diagnostics[stamp_ns(msg.header)] = {kv.key: kv.value for kv in status.values}

        return callback

    def publish(self, topic: str, msg: Any) -> None:
        """Publish on one of :data:`INPUTS` and record it."""
        self.pubs[topic].publish(msg)
        self.sink.write(topic, INPUTS[topic][1], self.now_ns, serialize_message(msg))

    def publish_static(self, msg: Any) -> None:
        """/tf_static (recorded when it comes back through the latched subscription)."""
        self.pub_static.publish(msg)

    def publish_depth(self, info: Any, depth: Any) -> None:
        """The oracle depth sensor: the exact depth on depth_node's topics (recorded by the subscriptions)."""
        self.pub_depth_info.publish(info)
        self.pub_depth.publish(depth)

    def publish_clock(self, t_ns: int) -> None:
        """Advance the simulated time of the graph (not recorded: the bag's own timestamps are the clock)."""
        self.now_ns = t_ns
        sec, nanosec = divmod(t_ns, 1_000_000_000)
        clock = Clock()
        clock.clock.sec, clock.clock.nanosec = sec, nanosec
        self.pubs["/clock"].publish(clock)


class Lockstep:
    """Spins the simulator node until a condition holds, failing the run when a node dies or stays silent."""

    def __init__(self, node: SimNode, processes: list[NodeProcess]) -> None:
        self.node = node
        self.processes = processes
        self.executor = SingleThreadedExecutor(context=node.context)
        self.executor.add_node(node)

    def until(self, done: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Spin until ``done()``.

        Raises:
            GraphError: timeout, or a node process exited.
        """
        deadline = time.monotonic() + timeout_s
        while not done():
            for proc in self.processes:
                if not proc.alive():
                    raise GraphError(f"{proc.name} exited ({proc.process.returncode}) {what}:\n{proc.tail()}")
            if time.monotonic() > deadline:
                raise GraphError(f"no answer within {timeout_s:.0f} s {what}")
            self.executor.spin_once(timeout_sec=0.005)

    def spin_for(self, seconds: float) -> None:
        """Spin (take what arrives) for a while."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.executor.spin_once(timeout_sec=0.002)

    def close(self) -> None:
        """Detach the executor."""
        self.executor.remove_node(self.node)
        self.executor.shutdown()
