"""``detector``: the rclpy shell around :class:`depth_node.detector_processing.DetectorFrameProcessor`.

Wiring only, as the depth node: parameters declared from :class:`DetectorParams`, an image subscription
(raw or compressed), the ``detections`` publisher (vision_msgs/Detection2DArray in image pixels, with the
image's stamp and frame_id) and optionally ``detections/image``. Callbacks hand the newest frame to a
:class:`depth_node.frame_worker.LatestFrameWorker`; with nobody subscribed the frame is skipped; a frame
that fails is logged (throttled), counted by reason and dropped.
"""

from __future__ import annotations

from typing import Any

from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image

from depth_node.detection.detector import Detector
from depth_node.detection.params import NODE_NAME, DetectorParams
from depth_node.detector_processing import DetectorFrameProcessor
from depth_node.errors import DepthNodeError
from depth_node.frame_worker import LatestFrameWorker
from depth_node.msgs import MessageSet
from depth_node.node_params import declare_and_read, spin_node

STATS_PERIOD_S = 10.0
LOG_THROTTLE_S = 5.0


class DetectorNode(Node):
    """Camera frames in; detections (and detections/image) out."""

    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        try:  # built apart from the ROS wheels (README): say so in one line, not with a traceback
            from vision_msgs.msg import Detection2DArray
        except ImportError as exc:
            raise DepthNodeError(
                f"vision_msgs is not installed ({exc}); the detector publishes vision_msgs/Detection2DArray"
            ) from exc
        self.params: DetectorParams = declare_and_read(self, DetectorParams)
        p = self.params
        detector = Detector(p)
        self.processor = DetectorFrameProcessor(MessageSet.from_rclpy(), detector)
        in_h, in_w = detector.input_hw
        self.get_logger().info(
            f"detector {detector.path.name}: {detector.layout}, input {in_w}x{in_h}, "
            f"{len(detector.labels)} classes, on {detector.provider}"
        )
        qos = QoSProfile(
            history=HistoryPolicy.KEEP_LAST,
            depth=p.qos_depth,
            reliability=ReliabilityPolicy.RELIABLE
            if p.qos_reliability == "reliable"
            else ReliabilityPolicy.BEST_EFFORT,
        )
        if p.image_transport == "compressed":
            self.create_subscription(CompressedImage, "image_raw/compressed", self.worker_submit, qos)
        else:
            self.create_subscription(Image, "image_raw", self.worker_submit, qos)
        self.pub_detections = self.create_publisher(Detection2DArray, "detections", 10)
        self.pub_image = self.create_publisher(Image, "detections/image", 5) if p.publish_image else None
        self.worker = LatestFrameWorker(self._process, "detector_inference")
        self.create_timer(STATS_PERIOD_S, self._report)

    def worker_submit(self, msg: Any) -> None:
        """Image callback: keep the newest frame for the worker."""
        self.worker.submit(msg)

    @property
    def counts(self) -> dict[str, int]:
        """Frames counted by reason (processed, dropped_busy, idle_no_subscribers, a failure's reason ...)."""
        return dict(self.worker.counts)

    def _process(self, image: Any) -> None:
        want_detections = self.pub_detections.get_subscription_count() > 0
        want_image = self.pub_image is not None and self.pub_image.get_subscription_count() > 0
        if not (want_detections or want_image):
            self.worker.count("idle_no_subscribers")
            return
        try:
            out = self.processor.process(image, want_image=want_image)
        except DepthNodeError as exc:
            self.worker.count(exc.reason)
            self.get_logger().warning(f"frame dropped ({exc.reason}): {exc}", throttle_duration_sec=LOG_THROTTLE_S)
            return
        self.pub_detections.publish(out.detections_msg)
        if out.image_msg is not None and self.pub_image is not None:
            self.pub_image.publish(out.image_msg)
        self.worker.count("processed", out.times_ms["total"])

    def _report(self) -> None:
        line = self.worker.stats_line(STATS_PERIOD_S)
        if line is not None:
            self.get_logger().info(line)

    def destroy_node(self) -> None:
        """Stop the worker before the node's handles go away."""
        self.worker.stop()
        super().destroy_node()


def main(args: list[str] | None = None) -> None:
    """Entry point of ``ros2 run depth_node detector``."""
    spin_node(NODE_NAME, DetectorNode, args)
