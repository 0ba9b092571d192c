"""One camera frame in, the detector node's messages out: shared by the live node and replay.

The rclpy ``detector`` node and ``depth-node replay --detector`` both call
:meth:`DetectorFrameProcessor.process`, so a replayed bag runs exactly the detection the robot runs.
Boxes go out as ``vision_msgs/Detection2DArray`` through :func:`depth_node.msgs.detections_to_msg`, the
inverse of what obstacle_avoidance reads, in the image's pixels with its header. A frame that cannot be
processed raises a :class:`depth_node.errors.DepthNodeError` whose ``reason`` the shell counts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from depth_node import image_codec
from depth_node import msgs as ros_msgs
from depth_node.detection.detector import Detection, Detector
from depth_node.detection.draw import draw_detections
from depth_node.errors import DepthNodeError
from depth_node.msgs import MessageSet, decode_image
from depth_node.processing import InferenceError
from depth_node.types import Detection2D


@dataclass
class DetectorOutputs:
    """What one frame produced.

    Attributes:
        detections: The detections, best first, in image pixels.
        detections_msg: vision_msgs/Detection2DArray with the input's header.
        image_msg: bgr8 Image of the frame with its boxes drawn, or None when not asked for.
        times_ms: Milliseconds of "decode", "detect" and "total".
    """

    detections: list[Detection]
    detections_msg: Any
    image_msg: Any
    times_ms: dict[str, float]


def to_detection2d(det: Detection) -> Detection2D:
    """The navigation core's view of a detection: class name as ``class_id``, box in image pixels."""
    return Detection2D(det.cx, det.cy, det.w, det.h, det.class_name, det.score)


class DetectorFrameProcessor:
    """Decode, detect and build the messages for one Image or CompressedImage."""

    def __init__(self, messages: MessageSet, detector: Detector) -> None:
        self.messages = messages
        self.detector = detector

    def process(self, image_msg: Any, want_image: bool = False) -> DetectorOutputs:
        """Run the detector on one frame.

        Args:
            image_msg: sensor_msgs/Image or CompressedImage (any encoding :mod:`depth_node.image_codec` reads).
            want_image: Also build the frame with its boxes drawn (``detections/image``).

        Raises:
            DepthNodeError: a subclass whose ``reason`` names why the frame was dropped.
        """
        t0 = time.perf_counter()
        pixels, encoding = decode_image(image_msg)
        rgb = image_codec.to_rgb8(pixels, encoding)
        t1 = time.perf_counter()
        try:
            detections = self.detector.detect(rgb)
        except DepthNodeError:
            raise
        except Exception as exc:  # onnxruntime's own error types: drop the frame, keep the node
            raise InferenceError(f"detection failed: {type(exc).__name__}: {exc}") from exc
        t2 = time.perf_counter()
        header = image_msg.header
        msg = ros_msgs.detections_to_msg(self.messages, [to_detection2d(d) for d in detections], header)
        drawn = None
        if want_image:
            bgr = np.ascontiguousarray(rgb[..., ::-1])
            drawn = self.messages.image(draw_detections(bgr, detections), "bgr8", header)
        t3 = time.perf_counter()
        times = {"decode": (t1 - t0) * 1e3, "detect": (t2 - t1) * 1e3, "total": (t3 - t0) * 1e3}
        return DetectorOutputs(detections, msg, drawn, times)
