"""``depth_node``: the rclpy shell around :class:`depth_node.processing.DepthFrameProcessor`.

Wiring only: parameters (declared from :class:`DepthNodeParams`), QoS, subscriptions, publishers and a
worker thread. The subscription callbacks just keep the newest frame; the worker runs the model on it,
so frames arriving while the model is busy are dropped (counted) instead of queueing latency. A frame
that fails is logged (throttled), counted by reason and dropped; the node never dies on one message.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2

from depth_node.commands.common import build_estimator
from depth_node.depth_params import NODE_NAME, DepthNodeParams
from depth_node.errors import DepthNodeError
from depth_node.msgs import MessageSet
from depth_node.node_params import declare_and_read, spin_node
from depth_node.processing import DepthFrameProcessor

STATS_PERIOD_S = 10.0
LOG_THROTTLE_S = 5.0


class DepthNode(Node):
    """Camera frames in; depth/image_raw, depth/camera_info, depth/points, depth/colored out."""

    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        self.params: DepthNodeParams = declare_and_read(self, DepthNodeParams)
        p = self.params
        estimator = build_estimator(p, notify=self.get_logger().warning)
        self.processor = DepthFrameProcessor(MessageSet.from_rclpy(), estimator, p)
        self.get_logger().info(
            f"depth model on {estimator.provider}, input {estimator.spec.input_width}x{estimator.spec.input_height}"
        )

        qos = QoSProfile(
            history=HistoryPolicy.KEEP_LAST,
            depth=p.qos_depth,
            reliability=ReliabilityPolicy.RELIABLE
            if p.qos_reliability == "reliable"
            else ReliabilityPolicy.BEST_EFFORT,
        )
        if p.image_transport == "compressed":
            self.create_subscription(CompressedImage, "image_raw/compressed", self._on_image, qos)
        else:
            self.create_subscription(Image, "image_raw", self._on_image, qos)
        self.create_subscription(CameraInfo, "camera_info", self._on_info, qos)
        self.pub_depth = self.create_publisher(Image, "depth/image_raw", 5)
        self.pub_info = self.create_publisher(CameraInfo, "depth/camera_info", 5)
        self.pub_cloud = self.create_publisher(PointCloud2, "depth/points", 5) if p.publish_cloud else None
        self.pub_colored = self.create_publisher(Image, "depth/colored", 5) if p.publish_colored else None

        self._lock = threading.Condition()
        self._pending: Any = None
        self._info: Any = None
        self._running = True
        self.counts: Counter[str] = Counter()
        self._total_ms: list[float] = []
        self._worker = threading.Thread(target=self._work, name="depth_inference", daemon=True)
        self._worker.start()
        self.create_timer(STATS_PERIOD_S, self._report)

    def _on_info(self, msg: CameraInfo) -> None:
        with self._lock:
            self._info = msg

    def _on_image(self, msg: Any) -> None:
        with self._lock:
            if self._pending is not None:
                self.counts["dropped_busy"] += 1
            self._pending = msg
            self._lock.notify()

    def _wanted(self) -> tuple[bool, bool, bool]:
        """(anything, cloud, colored): which outputs have subscribers right now."""
        depth = self.pub_depth.get_subscription_count() + self.pub_info.get_subscription_count() > 0
        cloud = self.pub_cloud is not None and self.pub_cloud.get_subscription_count() > 0
        colored = self.pub_colored is not None and self.pub_colored.get_subscription_count() > 0
        return depth or cloud or colored, cloud, colored

    def _work(self) -> None:
        while True:
            with self._lock:
                while self._running and self._pending is None:
                    self._lock.wait(timeout=0.5)
                if not self._running:
                    return
                image, info, self._pending = self._pending, self._info, None
            self._process(image, info)

    def _process(self, image: Any, info: Any) -> None:
        anything, cloud, colored = self._wanted()
        if not anything:
            self._count("idle_no_subscribers")
            return
        if info is None:
            self._count("no_camera_info")
            self.get_logger().warning(
                "no CameraInfo received yet on camera_info; frame dropped",
                throttle_duration_sec=LOG_THROTTLE_S,
            )
            return
        try:
            out = self.processor.process(image, info, want_cloud=cloud, want_colored=colored)
        except DepthNodeError as exc:
            self._count(exc.reason)
            self.get_logger().warning(f"frame dropped ({exc.reason}): {exc}", throttle_duration_sec=LOG_THROTTLE_S)
            return
        self.pub_depth.publish(out.depth_msg)
        self.pub_info.publish(out.info_msg)
        if out.cloud_msg is not None and self.pub_cloud is not None:
            self.pub_cloud.publish(out.cloud_msg)
        if out.colored_msg is not None and self.pub_colored is not None:
            self.pub_colored.publish(out.colored_msg)
        self._count("processed", out.times_ms["total"])
        if out.floor is not None and not out.floor.found:
            self._count("floor_not_found")  # published at the model's own scale

    def _count(self, reason: str, total_ms: float | None = None) -> None:
        with self._lock:
            self.counts[reason] += 1
            if total_ms is not None:
                self._total_ms.append(total_ms)

    def _report(self) -> None:
        with self._lock:
            counts, times, self._total_ms = dict(self.counts), self._total_ms, []
        if not counts:
            return
        p50 = sorted(times)[len(times) // 2] if times else float("nan")
        self.get_logger().info(f"frames: {counts}; total p50 {p50:.1f} ms over the last {STATS_PERIOD_S:.0f} s")

    def destroy_node(self) -> None:
        """Stop the worker before the node's handles go away."""
        with self._lock:
            self._running = False
            self._lock.notify()
        self._worker.join(timeout=2.0)
        super().destroy_node()


def main(args: list[str] | None = None) -> None:
    """Entry point of ``ros2 run depth_node depth_node``."""
    spin_node(NODE_NAME, DepthNode, args)
