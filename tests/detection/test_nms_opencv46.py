"""The detector without ``cv2.dnn.NMSBoxesBatched`` (OpenCV 4.6, the apt ``python3-opencv`` of Jazzy).

Every test hides the function (as OpenCV 4.6 lacks it) and checks the per-class suppression against a
plain greedy NMS written here, and the whole detector on a real ONNX Runtime session.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from depth_node.detection.nms import Candidates, select
from tests.detection.models import load, write_constant_detector
from tests.detection.test_filters import N


@pytest.fixture
def opencv46(monkeypatch: pytest.MonkeyPatch) -> None:
    """cv2.dnn as OpenCV 4.6 has it: no NMSBoxesBatched (raising=False: on 4.6 it is absent already)."""
    monkeypatch.delattr(cv2.dnn, "NMSBoxesBatched", raising=False)
    assert not hasattr(cv2.dnn, "NMSBoxesBatched")


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _greedy_reference(c: Candidates, iou: float) -> list[int]:
    """Greedy per-class NMS, best first: a box goes when it overlaps a kept one of its class by more than iou."""
    kept: list[int] = []
    for i in np.argsort(-c.scores, kind="stable"):
        box = c.boxes[i].astype(np.float64)
        if all(c.classes[j] != c.classes[i] or _iou(c.boxes[j].astype(np.float64), box) <= iou for j in kept):
            kept.append(int(i))
    return kept


def _random_candidates(seed: int, count: int) -> Candidates:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-40.0, 600.0, (count, 2))  # some boxes start left of / above the image (letterbox decode)
    wh = rng.uniform(4.0, 120.0, (count, 2))
    # Clusters: many boxes near a few centres, so that suppression really happens within and across classes.
    xy[: count // 2] = xy[0] + rng.normal(0.0, 8.0, (count // 2, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1).astype(np.float32)
    scores = rng.permutation(np.linspace(0.31, 0.99, count)).astype(np.float32)  # distinct: no ties to order
    classes = rng.integers(0, 5, count).astype(np.int64)
    return Candidates(boxes, scores, classes)


@pytest.mark.parametrize("seed", range(6))
def test_per_class_nms_without_batched_equals_greedy_reference(opencv46: None, seed: int) -> None:
    _check_against_reference(seed)


@pytest.mark.skipif(not hasattr(cv2.dnn, "NMSBoxesBatched"), reason="OpenCV < 4.7 has no NMSBoxesBatched")
def test_opencv_batched_nms_equals_the_same_reference() -> None:
    """The reference is OpenCV's own rule: with NMSBoxesBatched (4.7+, what setup.py installs) it agrees too."""
    for seed in range(3):
        _check_against_reference(seed)


def _check_against_reference(seed: int) -> None:
    cands = _random_candidates(seed, 200)
    out = select(cands, score_threshold=0.0, iou_threshold=0.45, max_detections=0)
    expected = cands.take(np.asarray(_greedy_reference(cands, 0.45), dtype=np.intp))
    assert out.scores.tolist() == expected.scores.tolist()
    assert out.classes.tolist() == expected.classes.tolist()
    np.testing.assert_array_equal(out.boxes, expected.boxes)
    assert len(out) < len(cands)  # the clusters made NMS remove boxes


def test_same_box_in_two_classes_is_kept_twice_and_limits_apply(opencv46: None) -> None:
    rows = np.array(
        [[0, 0, 10, 10, 0.9, 0], [0, 0, 10, 10, 0.8, 3], [1, 0, 11, 10, 0.7, 0], [500, 500, 520, 530, 0.6, 3]],
        np.float64,
    )
    c = Candidates(rows[:, :4].astype(np.float32), rows[:, 4].astype(np.float32), rows[:, 5].astype(np.int64))
    assert select(c, 0.3, 0.5, 10).classes.tolist() == [0, 3, 3]
    assert select(c, 0.3, 0.5, 2).scores.tolist() == pytest.approx([0.9, 0.8])
    assert select(c, 0.3, 0.5, 10, classes={3}).scores.tolist() == pytest.approx([0.8, 0.6])


def test_detector_runs_on_opencv46(opencv46: None, tmp_path: Path) -> None:
    """The whole detector (ONNX Runtime, decode, NMS) with the function hidden: it used to raise AttributeError."""
    out = np.zeros((1, 6, N), np.float32)
    out[0, :, 0] = [16, 32, 8, 8, 0.9, 0.0]
    out[0, :, 1] = [17, 32, 8, 8, 0.8, 0.0]  # same class, IoU 0.78 with the first: suppressed
    out[0, :, 2] = [17, 32, 8, 8, 0.0, 0.7]  # same place, other class: kept
    model = write_constant_detector(tmp_path / "m.onnx", out)
    found = load(model).detect(np.zeros((64, 64, 3), np.uint8))
    assert [(d.class_name, round(d.score, 2)) for d in found] == [("0", 0.9), ("1", 0.7)]
