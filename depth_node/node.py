"""``depth_node``: the rclpy shell around :class:`depth_node.processing.DepthFrameProcessor`.

Wiring only: parameters (declared from :class:`DepthNodeParams`), QoS that follows the camera's
publishers, subscriptions, publishers and a :class:`depth_node.frame_worker.LatestFrameWorker`. The image
callback just hands the newest frame to the worker, which runs the model on it with the newest CameraInfo,
so frames arriving while the model is busy are dropped (counted) instead of queueing latency. A frame that
fails is logged (throttled), counted by reason and dropped; the node never dies on one message, and the
worker survives even an error nobody foresaw (``internal_error``). The counts go to ``/diagnostics``
every ``diagnostics_period_s`` and to the log every 10 s.
"""

from __future__ import annotations

import threading
from typing import Any

from rclpy.lifecycle import LifecycleNode
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2

from depth_node.depth_params import NODE_NAME, DepthNodeParams
from depth_node.errors import DepthNodeError
from depth_node.frame_worker import FrameCounts, LatestFrameWorker, stop_worker
from depth_node.lifecycle import ManagedMixin
from depth_node.msgs import MessageSet
from depth_node.node_diagnostics import CountsReporter
from depth_node.node_params import declare_and_read
from depth_node.node_qos import MatchedSubscription
from depth_node.processing import DepthFrameProcessor

LOG_THROTTLE_S = 5.0


class DepthNode(Node):
    """Camera frames in; depth/image_raw, depth/camera_info, depth/points, depth/colored out."""

    PARAMS = DepthNodeParams

    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        self._start()

    def _start(self) -> None:
        """A plain node wires everything up now; a managed one (:mod:`depth_node.lifecycle`) on configure."""
        self._build()

    def _build(self) -> None:
        self.params: DepthNodeParams = declare_and_read(self, DepthNodeParams, self._retune)
        p = self.params
        estimator = p.build_estimator(notify=self.get_logger().warning)
        self.processor = DepthFrameProcessor(MessageSet.from_rclpy(), estimator, p)
        self.get_logger().info(
            f"depth model {getattr(estimator, 'path', '')} on {estimator.provider}, "
            f"input {estimator.spec.input_width}x{estimator.spec.input_height}"
        )
        self.pub_depth = self.create_publisher(Image, "depth/image_raw", 5)
        self.pub_info = self.create_publisher(CameraInfo, "depth/camera_info", 5)
        self.pub_cloud = self.create_publisher(PointCloud2, "depth/points", 5) if p.publish_cloud else None
        self.pub_colored = self.create_publisher(Image, "depth/colored", 5) if p.publish_colored else None
        self.pub_confidence = self.create_publisher(Image, "depth/confidence", 5) if p.publish_confidence else None

        self._info_lock = threading.Lock()
        self._info: Any = None
        self._waiting: Any = None  # the newest image that came before any CameraInfo
        self._fov_focal_said = False  # an uncalibrated camera on the model's FOV head: said once in the log
        self.counts = FrameCounts()
        self.stats = CountsReporter(self, self.counts, p.diagnostics_period_s)
        self.worker = LatestFrameWorker(self._process, "depth_inference", self.counts, self._on_worker_error)
        if p.image_transport == "compressed":
            image_type, image_topic = CompressedImage, "image_raw/compressed"
        else:
            image_type, image_topic = Image, "image_raw"
        self.subscriptions_matched = [
            MatchedSubscription(self, image_type, image_topic, self.worker.submit, p.qos_depth, p.qos_reliability),
            MatchedSubscription(
                self, CameraInfo, "camera_info", self._on_info, p.qos_depth, p.qos_reliability, newest_only=True
            ),
        ]
        # rectify: auto leaves an image_rect* input as it is: the remapped name says what the camera sends.
        self.processor.camera_input.input_topic = self.subscriptions_matched[0].topic_name

    def _on_info(self, msg: CameraInfo) -> None:
        with self._info_lock:
            self._info = msg
            waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self.worker.submit(waiting)  # the frame that came before the first CameraInfo (another topic, its own way)

    def _on_worker_error(self, exc: Exception) -> None:
        self.get_logger().error(
            f"frame dropped (internal_error): {type(exc).__name__}: {exc}", throttle_duration_sec=LOG_THROTTLE_S
        )

    def _wanted(self) -> tuple[bool, bool, bool]:
        """(anything, cloud, colored): which outputs have subscribers right now."""
        depth = self.pub_depth.get_subscription_count() + self.pub_info.get_subscription_count() > 0
        cloud = self.pub_cloud is not None and self.pub_cloud.get_subscription_count() > 0
        colored = self.pub_colored is not None and self.pub_colored.get_subscription_count() > 0
        confidence = self.pub_confidence is not None and self.pub_confidence.get_subscription_count() > 0
        return depth or cloud or colored or confidence, cloud, colored

    def _process(self, image: Any) -> None:
        anything, cloud, colored = self._wanted()
        if not anything:
            self.counts.count("idle_no_subscribers")
            return
        with self._info_lock:
            info = self._info
            if info is None:
                replaced, self._waiting = self._waiting, image
        if info is None:
            if replaced is None:
                return  # waits for the first CameraInfo
            self.counts.count("no_camera_info")
            self.get_logger().warning(
                "no CameraInfo received yet on camera_info; frame dropped",
                throttle_duration_sec=LOG_THROTTLE_S,
            )
            return
        try:
            out = self.processor.process(image, info, want_cloud=cloud, want_colored=colored)
        except DepthNodeError as exc:
            self.counts.count(exc.reason)
            self.get_logger().warning(f"frame dropped ({exc.reason}): {exc}", throttle_duration_sec=LOG_THROTTLE_S)
            return
        with self.worker.output() as open_:
            if not open_:
                return  # the node is shutting down: its publishers are going away
            self.pub_depth.publish(out.depth_msg)
            self.pub_info.publish(out.info_msg)
            if out.cloud_msg is not None and self.pub_cloud is not None:
                self.pub_cloud.publish(out.cloud_msg)
            if out.colored_msg is not None and self.pub_colored is not None:
                self.pub_colored.publish(out.colored_msg)
            if out.confidence_msg is not None and self.pub_confidence is not None:
                self.pub_confidence.publish(out.confidence_msg)
        self.counts.count("processed", out.times_ms["total"])
        if out.fov_deg is not None and not self._fov_focal_said:
            self._fov_focal_said = True
            self.get_logger().info(
                "camera_info K is all zeros: the focal length comes from the model's field-of-view head, frame by "
                f"frame ({out.fov_deg:.1f} deg horizontal, fx {out.camera.fx:.1f} px on the first frame; "
                "it takes precedence over fallback_hfov_deg; calibrate the camera to use its own)"
            )
        if out.camera_fallback:
            self.get_logger().warning(
                f"camera_info K is all zeros: assuming fallback_hfov_deg {self.params.fallback_hfov_deg:g}; "
                "depth and cloud are only as good as that guess (calibrate the camera)",
                throttle_duration_sec=LOG_THROTTLE_S * 6,
            )
        if out.floor is not None and not out.floor.found:
            self.counts.count("floor_not_found")  # published at the model's own scale

    def _retune(self, params: DepthNodeParams) -> None:
        """Live tuning: the next frame uses the new cloud, colouring and floor settings."""
        self.params = params
        self.processor.retune(params)

    def _teardown(self) -> None:
        """Stop the worker (before the node's handles go away, or on a managed node's cleanup)."""
        stop_worker(getattr(self, "worker", None), self.get_logger())  # never configured (managed): none

    def destroy_node(self) -> None:
        """Stop the worker before the node's handles go away."""
        self._teardown()
        super().destroy_node()


class ManagedDepthNode(ManagedMixin, DepthNode, LifecycleNode):
    """depth_node as a managed (lifecycle) node: ``depth_node --managed``, or ``lifecycle:=true`` when launched."""
