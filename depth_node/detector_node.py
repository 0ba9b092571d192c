"""``detector``: the rclpy shell around :class:`depth_node.detector_processing.DetectorFrameProcessor`.

Wiring only, as the depth node: parameters declared from :class:`DetectorParams`, an image subscription
(raw or compressed), the ``detections`` publisher (vision_msgs/Detection2DArray in image pixels, with the
image's stamp and frame_id) and optionally ``detections/image``. Callbacks hand the newest frame to a
:class:`depth_node.frame_worker.LatestFrameWorker`; with nobody subscribed the frame is skipped; a frame
that fails is logged (throttled), counted by reason and dropped. QoS, the worker and ``/diagnostics`` are
the depth node's mechanisms.
"""

from __future__ import annotations

from typing import Any

from rclpy.lifecycle import LifecycleNode
from rclpy.node import Node
from sensor_msgs.msg import CompressedImage, Image

from depth_node.detection.detector import Detector
from depth_node.detection.params import NODE_NAME, DetectorParams
from depth_node.detector_processing import DetectorFrameProcessor
from depth_node.errors import DepthNodeError
from depth_node.frame_worker import FrameCounts, LatestFrameWorker, stop_worker
from depth_node.lifecycle import ManagedMixin
from depth_node.msgs import MessageSet
from depth_node.node_diagnostics import CountsReporter
from depth_node.node_params import declare_and_read
from depth_node.node_qos import MatchedSubscription

LOG_THROTTLE_S = 5.0


class DetectorNode(Node):
    """Camera frames in; detections (and detections/image) out."""

    PARAMS = DetectorParams

    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        self._start()

    def _start(self) -> None:
        """A plain node wires everything up now; a managed one (:mod:`depth_node.lifecycle`) on configure."""
        self._build()

    def _build(self) -> None:
        try:  # built apart from the ROS wheels (README): say so in one line, not with a traceback
            from vision_msgs.msg import Detection2DArray
        except ImportError as exc:
            raise DepthNodeError(
                f"vision_msgs is not installed ({exc}); the detector publishes vision_msgs/Detection2DArray"
            ) from exc
        self.params: DetectorParams = declare_and_read(self, DetectorParams, self._retune)
        p = self.params
        detector = Detector(p)
        self.processor = DetectorFrameProcessor(MessageSet.from_rclpy(), detector)
        in_h, in_w = detector.input_hw
        self.get_logger().info(
            f"detector {detector.path.name}: {detector.layout}, input {in_w}x{in_h}, "
            f"{len(detector.labels)} classes, on {detector.provider}"
        )
        self.pub_detections = self.create_publisher(Detection2DArray, "detections", 10)
        self.pub_image = self.create_publisher(Image, "detections/image", 5) if p.publish_image else None
        self.counts = FrameCounts()
        self.stats = CountsReporter(self, self.counts, p.diagnostics_period_s)
        self.worker = LatestFrameWorker(self._process, "detector_inference", self.counts, self._on_worker_error)
        image_type, topic = (
            (CompressedImage, "image_raw/compressed")
            if p.image_transport == "compressed"
            else (
                Image,
                "image_raw",
            )
        )
        self.subscription_matched = MatchedSubscription(
            self, image_type, topic, self.worker.submit, p.qos_depth, p.qos_reliability
        )

    def _on_worker_error(self, exc: Exception) -> None:
        self.get_logger().error(
            f"frame dropped (internal_error): {type(exc).__name__}: {exc}", throttle_duration_sec=LOG_THROTTLE_S
        )

    def _process(self, image: Any) -> None:
        want_detections = self.pub_detections.get_subscription_count() > 0
        want_image = self.pub_image is not None and self.pub_image.get_subscription_count() > 0
        if not (want_detections or want_image):
            self.counts.count("idle_no_subscribers")
            return
        try:
            out = self.processor.process(image, want_image=want_image)
        except DepthNodeError as exc:
            self.counts.count(exc.reason)
            self.get_logger().warning(f"frame dropped ({exc.reason}): {exc}", throttle_duration_sec=LOG_THROTTLE_S)
            return
        with self.worker.output() as open_:
            if not open_:
                return  # the node is shutting down: its publishers are going away
            self.pub_detections.publish(out.detections_msg)
            if out.image_msg is not None and self.pub_image is not None:
                self.pub_image.publish(out.image_msg)
        self.counts.count("processed", out.times_ms["total"])

    def _retune(self, params: DetectorParams) -> None:
        """Live tuning: the next frame is decoded with the new thresholds."""
        self.params = params
        self.processor.detector.retune(params)

    def _teardown(self) -> None:
        """Stop the worker (before the node's handles go away, or on a managed node's cleanup)."""
        stop_worker(getattr(self, "worker", None), self.get_logger())  # never configured (managed): none

    def destroy_node(self) -> None:
        """Stop the worker before the node's handles go away."""
        self._teardown()
        super().destroy_node()


class ManagedDetectorNode(ManagedMixin, DetectorNode, LifecycleNode):  # type: ignore[misc]
    """The detector as a managed (lifecycle) node: ``detector --managed``, or ``lifecycle:=true`` when launched."""
