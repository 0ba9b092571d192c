"""The detector as a managed (lifecycle) node, and live tuning of its thresholds, through the live ROS 2 graph.

The model is the constant one of test_detector_node_ros.py: a "person" of score 0.9 in the middle of every frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rclpy")
pytest.importorskip("vision_msgs.msg")
pytest.importorskip("lifecycle_msgs")

from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2DArray

from depth_node.detection.layouts import anchor_count
from tests.detection.models import write_constant_detector
from tests.ros.frames import Frames
from tests.ros.harness import CONFIG, Harness
from tests.ros.services import NodeServices

QUIET_S = 1.5


def test_managed_detector_detects_only_while_active_and_takes_new_thresholds(ros: Harness, tmp_path: Path) -> None:
    out = np.zeros((1, 6, anchor_count(64, 64)), np.float32)
    out[0, :, 0] = [32.0, 32.0, 32.0, 24.0, 0.9, 0.0]
    model = write_constant_detector(tmp_path / "person.onnx", out)
    ns = ros.namespace()
    proc = ros.start(
        "detector", ns, "-p", f"model_path:={model}", params_file=CONFIG / "detector.yaml", node_args=["--managed"]
    )
    s = NodeServices(ros, f"{ns}/detector")
    frames = Frames()
    pub = ros.publisher(Image, f"{ns}/image_raw")
    detections = ros.collect(Detection2DArray, f"{ns}/detections")

    def feed(seconds: float) -> None:
        for _ in range(round(seconds / 0.1)):
            pub.publish(frames.image())
            ros.spin_for(0.1)

    def feed_until(condition: object) -> None:
        for _ in range(60):
            feed(0.3)
            if condition():  # type: ignore[operator]
                return
        raise AssertionError(f"not reached: {len(detections)} messages\n{proc.output()[-3000:]}")

    assert s.state() == "unconfigured"
    assert s.transition("configure") and s.state() == "inactive"
    ros.wait_matched(pub)
    feed(QUIET_S)
    assert detections == []  # inactive: no inference, nothing published
    assert s.transition("activate")
    feed_until(lambda: detections and len(detections[-1].detections) == 1)
    assert s.set("score_threshold", 0.95) == (True, "")  # above the person's 0.9: the next frames have none
    feed_until(lambda: detections and len(detections[-1].detections) == 0)
    ok, reason = s.set("score_threshold", 1.5)
    assert not ok and "score_threshold" in reason and "range" in reason
    ok, reason = s.set("model_path", "/other.onnx")
    assert not ok and "read-only" in reason
    assert s.set("score_threshold", 0.5) == (True, "")
    feed_until(lambda: detections and len(detections[-1].detections) == 1)
    assert s.transition("deactivate")
    ros.spin_for(0.5)
    detections.clear()
    feed(QUIET_S)
    assert detections == []
    assert ros.stop(proc) == 0, proc.output()
