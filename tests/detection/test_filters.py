"""Letterbox geometry and preprocessing, NMS, the score / class / count filters, labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from depth_node.detection.labels import labels_from_metadata, read_labels
from depth_node.detection.layouts import anchor_count
from depth_node.detection.letterbox import Letterbox
from depth_node.detection.nms import Candidates, nms, select
from depth_node.errors import DetectorError, ParameterError
from tests.detection.models import load, write_constant_detector

N = anchor_count(64, 64)


def test_letterbox_matches_ultralytics_and_yolox_placement() -> None:
    ultra = Letterbox.fit(640, 480, 352, 352, keep_ratio=True, centered=True)
    assert (ultra.new_w, ultra.new_h, ultra.left, ultra.top) == (352, 264, 0, 44)
    yolox = Letterbox.fit(640, 480, 352, 352, keep_ratio=True, centered=False)
    assert (yolox.new_w, yolox.new_h, yolox.left, yolox.top) == (352, 264, 0, 0)
    odd = Letterbox.fit(333, 200, 64, 64, keep_ratio=True, centered=True)
    assert (odd.new_w, odd.new_h, odd.left, odd.top) == (64, 38, 0, 13)
    boxes = np.array([[10.0, 20.5, 300.0, 199.0], [0.0, 0.0, 333.0, 200.0]], np.float32)
    np.testing.assert_allclose(odd.to_image(odd.to_network(boxes)), boxes, atol=1e-3)


@pytest.mark.parametrize(
    ("layout", "shape", "channel", "inside", "pad_rows"),
    [
        ("yolov8", (1, 6, N), 0, 1.0, (range(0, 16), range(48, 64))),  # RGB / 255, centred
        ("yolox", (1, N, 7), 2, 255.0, (range(32, 64),)),  # BGR 0-255, padded below
        ("fastestdet", (1, 7, 4, 4), 2, 1.0, ()),  # BGR / 255, plain resize
    ],
)
def test_preprocessing_per_layout(
    tmp_path: Path, layout: str, shape: tuple[int, ...], channel: int, inside: float, pad_rows: tuple[range, ...]
) -> None:
    det = load(write_constant_detector(tmp_path / "m.onnx", np.zeros(shape, np.float32)))
    assert det.layout == layout
    red = np.zeros((128, 256, 3), np.uint8)
    red[..., 0] = 255
    batch, box = det.preprocess(red)
    assert batch.shape == (1, 3, 64, 64) and batch.dtype == np.float32
    pad = 114.0 * (1.0 if layout == "yolox" else 1.0 / 255.0)
    padded = np.zeros(64, bool)
    for rows in pad_rows:
        padded[list(rows)] = True
    np.testing.assert_allclose(batch[0, :, padded], pad, rtol=1e-6)
    np.testing.assert_allclose(batch[0, channel, ~padded], inside, rtol=1e-6)
    assert np.all(batch[0, [c for c in range(3) if c != channel]][:, ~padded] == 0.0)
    assert (box.new_w, box.new_h) == ((64, 64) if layout == "fastestdet" else (64, 32))


def cands(rows: list[tuple[float, float, float, float, float, int]]) -> Candidates:
    a = np.array(rows, np.float64)
    return Candidates(a[:, :4].astype(np.float32), a[:, 4].astype(np.float32), a[:, 5].astype(np.int64))


def test_nms_keeps_the_best_of_overlapping_boxes_in_score_order() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30], [0, 0, 10, 5]], np.float32)
    scores = np.array([0.5, 0.9, 0.7, 0.6], np.float32)
    # box 0 overlaps box 1 by IoU 9/11 = 0.82: suppressed; box 3 overlaps box 1 by 45/105 = 0.43: kept
    assert nms(boxes, scores, 0.45).tolist() == [1, 2, 3]
    assert nms(boxes, scores, 0.4).tolist() == [1, 2]
    assert nms(boxes, scores, 0.45, limit=2).tolist() == [1, 2]


def test_select_applies_score_class_and_count_filters_and_nms_per_class() -> None:
    c = cands(
        [
            (0, 0, 10, 10, 0.9, 0),
            (1, 0, 11, 10, 0.8, 1),  # overlaps the first, other class: kept
            (1, 0, 11, 10, 0.7, 0),  # overlaps the first, same class: suppressed
            (50, 50, 60, 60, 0.6, 2),
            (80, 80, 90, 90, 0.2, 0),  # below the threshold
        ]
    )
    out = select(c, score_threshold=0.3, iou_threshold=0.5, max_detections=10)
    assert out.scores.tolist() == pytest.approx([0.9, 0.8, 0.6])
    assert out.classes.tolist() == [0, 1, 2]
    assert select(c, 0.3, 0.5, max_detections=2).classes.tolist() == [0, 1]
    assert select(c, 0.3, 0.5, 10, classes={2, 1}).classes.tolist() == [1, 2]
    assert len(select(c, 0.95, 0.5, 10)) == 0


def test_class_filter_by_name_and_unknown_names_refused(tmp_path: Path) -> None:
    out = np.zeros((1, 6, N), np.float32)
    out[0, :, 0] = [16, 32, 8, 8, 0.9, 0.0]
    out[0, :, 1] = [48, 32, 8, 8, 0.0, 0.8]
    labels = tmp_path / "labels.txt"
    labels.write_text("person\nchair\n\n", encoding="utf-8")
    model = write_constant_detector(tmp_path / "m.onnx", out)
    image = np.zeros((64, 64, 3), np.uint8)
    assert [d.class_name for d in load(model, labels_path=str(labels)).detect(image)] == ["person", "chair"]
    assert [d.class_name for d in load(model, labels_path=str(labels), classes=("chair",)).detect(image)] == ["chair"]
    with pytest.raises(ParameterError, match="parameter 'classes': 'sofa' is not a class of the model"):
        load(model, labels_path=str(labels), classes=("sofa",))


def test_labels_from_file_metadata_or_index(tmp_path: Path) -> None:
    out = np.zeros((1, 6, N), np.float32)
    out[0, :, 0] = [16, 32, 8, 8, 0.1, 0.9]
    image = np.zeros((64, 64, 3), np.uint8)
    plain = write_constant_detector(tmp_path / "plain.onnx", out)
    assert load(plain).labels == ["0", "1"]
    meta = write_constant_detector(tmp_path / "meta.onnx", out, metadata={"names": "{0: 'person', 1: 'tv'}"})
    assert [d.class_name for d in load(meta).detect(image)] == ["tv"]
    wrong = tmp_path / "three.txt"
    wrong.write_text("a\nb\nc\n", encoding="utf-8")
    with pytest.raises(DetectorError, match=r"labels file '.*three.txt' has 3 names but the model scores 2 classes"):
        load(plain, labels_path=str(wrong))
    with pytest.raises(DetectorError, match="has 2 names but it scores 3 classes"):
        load(write_constant_detector(tmp_path / "m3.onnx", np.zeros((1, 7, N)), metadata={"names": '["a", "b"]'}))


def test_labels_parsing_edge_cases(tmp_path: Path) -> None:
    assert labels_from_metadata({"names": '["a", "b"]'}) == ["a", "b"]
    assert labels_from_metadata({"names": "{'0': 'a', '1': 'b'}"}) == ["a", "b"]
    assert labels_from_metadata({"names": "__import__('os')"}) is None  # a literal or nothing, never evaluated
    assert labels_from_metadata({"names": "{0: 'a', 2: 'c'}"}) is None  # a hole: not a name list
    assert labels_from_metadata({}) is None
    gap = tmp_path / "gap.txt"
    gap.write_text("a\n\nb\n", encoding="utf-8")
    with pytest.raises(DetectorError, match="line 2 is empty"):
        read_labels(gap)
    with pytest.raises(DetectorError, match="cannot be read"):
        read_labels(tmp_path / "none.txt")
