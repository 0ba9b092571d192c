"""``depth-node replay --detector MODEL``: the detector node, offline, in place of a detections topic.

Each colour frame of the bag goes through :class:`depth_node.detector_processing.DetectorFrameProcessor`
(the live node's code) before the depth of the same frame, so obstacle_avoidance fuses this frame's
boxes with this frame's depth, as it does live when the detector keeps up. The Detection2DArray is
written to ``/detections`` at the frame's log time and handed to the navigation as the message itself,
through the same parser the live node uses. A frame the detector cannot process is counted; the depth
of that frame still goes on (live, the detector failing does not stop the depth node either).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from depth_node.detection.detector import Detector
from depth_node.detector_processing import DetectorFrameProcessor
from depth_node.errors import DepthNodeError
from depth_node.evaluation.nav_replay import NavReplay
from depth_node.msgs import DETECTION2D_ARRAY, MessageSet

DETECTIONS_TOPIC = "/detections"


class ReplayDetector:
    """The detector stage of a replay: run, write ``/detections``, feed the navigation, count."""

    def __init__(self, messages: MessageSet, detector: Detector, writer: Any) -> None:
        self.processor = DetectorFrameProcessor(messages, detector)
        self.detector = detector
        self.store = messages.typestore
        self.writer = writer
        self.conn = writer.add_connection(DETECTIONS_TOPIC, DETECTION2D_ARRAY, typestore=self.store)
        self.latencies_ms: list[float] = []
        self.counts: Counter[str] = Counter()
        self.classes: Counter[str] = Counter()

    def process(self, image: Any, timestamp: int, nav: NavReplay) -> None:
        """Detect in one deserialised image message logged at ``timestamp``."""
        try:
            out = self.processor.process(image)
        except DepthNodeError as exc:
            self.counts[f"failed_{exc.reason}"] += 1
            return
        self.counts["frames"] += 1
        self.counts["detections"] += len(out.detections)
        self.classes.update(d.class_name for d in out.detections)
        self.latencies_ms.append(out.times_ms["total"])
        self.writer.write(self.conn, timestamp, self.store.serialize_cdr(out.detections_msg, DETECTION2D_ARRAY))
        nav.on_detections(out.detections_msg)

    def report(self) -> dict[str, Any]:
        """The ``detector`` entry of report.json."""
        in_h, in_w = self.detector.input_hw
        return {
            "model": str(self.detector.path),
            "layout": self.detector.layout,
            "input": f"{in_w}x{in_h}",
            "provider": self.detector.provider,
            "topic": DETECTIONS_TOPIC,
            **{k: int(v) for k, v in sorted(self.counts.items())},
            "classes": dict(self.classes.most_common()),
        }
