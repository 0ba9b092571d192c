"""``depth-node replay --detector``: a camera-only bag exercises the whole graph offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rosbags.highlevel import AnyReader

from depth_node.cli import main
from depth_node.detection.layouts import anchor_count
from depth_node.msgs import MessageSet, stamp_ns
from tests.bags import Frame, write_camera_bag
from tests.detection.models import write_constant_detector


@pytest.fixture
def person_detector(tmp_path: Path) -> tuple[Path, Path]:
    """A yolov8-layout model that always sees a "person" in the middle of a 64x48 frame."""
    out = np.zeros((1, 6, anchor_count(64, 64)), np.float32)
    out[0, :, 0] = [32.0, 32.0, 32.0, 24.0, 0.9, 0.0]  # 64x48 letterboxed into 64x64: 8 rows above
    labels = tmp_path / "labels.txt"
    labels.write_text("person\ncar\n", encoding="utf-8")
    return write_constant_detector(tmp_path / "det.onnx", out), labels


def _read(out: Path) -> dict[str, list[tuple[int, Any]]]:
    topics: dict[str, list[tuple[int, Any]]] = {}
    with AnyReader([out]) as reader:
        for conn, t, raw in reader.messages():
            topics.setdefault(conn.topic, []).append((t, reader.deserialize(raw, conn.msgtype)))
    return topics


def test_detector_feeds_the_navigation_and_writes_detections(
    tmp_path: Path, messages: MessageSet, metric_model: Path, person_detector: tuple[Path, Path]
) -> None:
    model, labels = person_detector
    bag = write_camera_bag(tmp_path / "in", [Frame(), Frame(), Frame(kind="truncated"), Frame()], messages)
    params = tmp_path / "p.yaml"
    params.write_text(f"detector:\n  ros__parameters:\n    labels_path: {labels}\n    score_threshold: 0.5\n")
    out = tmp_path / "out"
    args = ["replay", str(bag), "--out", str(out), "--model", str(metric_model), "--no-progress"]
    assert main([*args, "--detector", str(model), "--params", str(params)]) == 0
    report = json.loads((out / "report.json").read_text())
    det = report["detector"]
    assert det["frames"] == 3 and det["detections"] == 3 and det["classes"] == {"person": 3}
    assert det["failed_bad_image"] == 1 and det["layout"] == "yolov8"
    assert report["navigation"]["detection_msgs"] == 3 and report["navigation"]["vision_msgs_from"] == "built-in"
    assert report["latency_ms"]["detector"]["p50"] > 0.0

    topics = _read(out)
    images = {stamp_ns(m.header) for _, m in topics["/cam/image_raw"]}
    detections = topics["/detections"]
    assert len(detections) == 3 and {stamp_ns(m.header) for _, m in detections} < images
    [d] = detections[0][1].detections
    assert d.results[0].hypothesis.class_id == "person" and d.results[0].hypothesis.score == pytest.approx(0.9)
    box = (d.bbox.center.position.x, d.bbox.center.position.y, d.bbox.size_x, d.bbox.size_y)
    np.testing.assert_allclose(box, (32.0, 24.0, 32.0, 24.0), atol=1e-4)  # image pixels, not network
    # The metric model sees 1.8 m everywhere: the person becomes an obstacle 1.8 m ahead.
    people = [o for _, m in topics["/obstacles"] for o in m.detections if o.results[0].hypothesis.class_id == "person"]
    assert people and all(o.bbox.center.position.z == pytest.approx(1.8, abs=0.05) for o in people)


def test_detector_with_a_detections_topic_is_refused(
    tmp_path: Path, messages: MessageSet, metric_model: Path, person_detector: tuple[Path, Path], capsys: Any
) -> None:
    bag = write_camera_bag(tmp_path / "in", [Frame()], messages)
    args = ["replay", str(bag), "--out", str(tmp_path / "o"), "--model", str(metric_model)]
    assert main([*args, "--detector", str(person_detector[0]), "--detections-topic", "/detections"]) == 2
    assert "cannot be combined with --detections-topic" in capsys.readouterr().err
