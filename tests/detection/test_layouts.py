"""Each layout decoded from a constructed raw output, mapped back through the preprocessing exactly.

The image is 256 x 128 (non-square) and the network 64 x 64, so the letterbox scales by 1/4 and pads
16 rows above and below (Ultralytics) or 32 rows below (YOLOX), and FastestDet's plain resize scales
x by 1/4 and y by 1/2: a mix-up of any axis, offset or scale moves a box.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from depth_node.detection.layouts import anchor_count, detect_layout
from depth_node.errors import DetectorError, ParameterError
from tests.detection.models import load, write_constant_detector

IMAGE = np.zeros((128, 256, 3), np.uint8)
N = anchor_count(64, 64)  # 64 + 16 + 4 = 84 anchor points


def boxes(dets: list) -> list[tuple[str, float, list[float]]]:
    return [(d.class_name, d.score, [d.cx, d.cy, d.w, d.h]) for d in dets]


def yolov8_output() -> np.ndarray:
    out = np.zeros((1, 4 + 2, N), np.float32)

    def put(i: int, cx: float, cy: float, w: float, h: float, scores: tuple[float, float]) -> None:
        out[0, :, i] = [cx, cy, w, h, *scores]

    put(5, 32.0, 32.0, 16.0, 8.0, (0.1, 0.9))  # class 1
    put(17, 8.0, 24.0, 8.0, 8.0, (0.8, 0.0))  # class 0
    put(30, 33.0, 32.0, 16.0, 8.0, (0.0, 0.6))  # class 1, IoU 0.88 with anchor 5: suppressed
    put(40, 32.0, 32.0, 16.0, 8.0, (0.7, 0.2))  # class 0 on the same place: another class, kept
    put(41, 56.0, 40.0, 8.0, 8.0, (0.2, 0.25))  # below the score threshold
    return out


def test_yolov8_boxes_in_image_pixels_through_the_centred_letterbox(tmp_path: Path) -> None:
    model = write_constant_detector(tmp_path / "v8.onnx", yolov8_output())
    det = load(model, score_threshold=0.3)
    assert det.layout == "yolov8" and det.decoder.num_classes == 2
    got = boxes(det.detect(IMAGE))
    # network (cx, cy) -> image ((cx - 0) * 4, (cy - 16) * 4); sizes * 4
    expected = [
        ("1", 0.9, [128.0, 64.0, 64.0, 32.0]),
        ("0", 0.8, [32.0, 32.0, 32.0, 32.0]),
        ("0", 0.7, [128.0, 64.0, 64.0, 32.0]),
    ]
    assert [(c, round(s, 6)) for c, s, _ in got] == [(c, s) for c, s, _ in expected]
    for (_, _, b), (_, _, e) in zip(got, expected, strict=True):
        np.testing.assert_allclose(b, e, atol=1e-4)


def test_yolox_grid_decode_and_top_left_letterbox(tmp_path: Path) -> None:
    out = np.zeros((1, N, 5 + 3), np.float32)
    # stride 16 grid (4 x 4) starts after the 64 stride-8 points; cell gx=2, gy=1
    i = 64 + 1 * 4 + 2
    out[0, i] = [0.5, 0.25, math.log(2.0), 0.0, 0.8, 0.1, 0.2, 0.75]
    # stride 32 grid (2 x 2) starts at 80; cell gx=0, gy=0: a weak one
    out[0, 80] = [0.5, 0.5, 0.0, 0.0, 0.5, 0.3, 0.0, 0.0]
    det = load(write_constant_detector(tmp_path / "yolox.onnx", out), score_threshold=0.1)
    assert det.layout == "yolox" and det.decoder.num_classes == 3
    got = boxes(det.detect(IMAGE))
    # cell centre (2.5, 1.25) * 16 = (40, 20), size (32, 16); YOLOX pads below: image = network * 4
    assert [(c, round(s, 6)) for c, s, _ in got] == [("2", 0.6), ("0", 0.15)]
    np.testing.assert_allclose(got[0][2], [160.0, 80.0, 128.0, 64.0], atol=1e-3)
    # (0.5 * 32, 0.5 * 32) = (16, 16), size 32: x 0..32, y 0..32 -> image x 0..128, y 0..128
    np.testing.assert_allclose(got[1][2], [64.0, 64.0, 128.0, 128.0], atol=1e-3)


def test_fastestdet_cells_and_plain_resize(tmp_path: Path) -> None:
    out = np.zeros((1, 5 + 3, 4, 4), np.float32)
    out[0, :, 1, 2] = [0.9, math.atanh(0.5), math.atanh(0.5), math.log(0.25 / 0.75), 0.0, 0.1, 0.8, 0.1]
    det = load(write_constant_detector(tmp_path / "fd.onnx", out), score_threshold=0.3)
    assert det.layout == "fastestdet" and det.decoder.num_classes == 3
    [(cls, score, box)] = boxes(det.detect(IMAGE))
    assert cls == "1"
    assert score == pytest.approx(0.9**0.6 * 0.8**0.4, rel=1e-6)
    # centre ((2 + 0.5) / 4, (1 + 0.5) / 4) of 64 = (40, 24); size (0.25, 0.5) of 64 = (16, 32)
    # plain resize 256x128 -> 64x64: x * 4, y * 2
    np.testing.assert_allclose(box, [160.0, 48.0, 64.0, 64.0], atol=1e-3)


def test_letterbox_inverse_is_exact_when_the_ratio_rounds(tmp_path: Path) -> None:
    """333 x 200 into 64 x 64: scale 0.1922, resized to 64 x 38, 13 rows of padding above."""
    out = np.zeros((1, 5, N), np.float32)
    out[0, :, 0] = [32.0, 32.0, 64.0, 38.0, 0.9]  # exactly the resized image's area
    det = load(write_constant_detector(tmp_path / "v8.onnx", out))
    image = np.zeros((200, 333, 3), np.uint8)
    [d] = det.detect(image)
    np.testing.assert_allclose([d.cx, d.cy, d.w, d.h], [166.5, 100.0, 333.0, 200.0], atol=1e-3)


def test_a_box_wholly_in_the_padding_is_dropped(tmp_path: Path) -> None:
    out = np.zeros((1, 5, N), np.float32)
    out[0, :, 0] = [32.0, 4.0, 16.0, 6.0, 0.9]  # rows 1..7: the top padding (rows 0..15)
    det = load(write_constant_detector(tmp_path / "v8.onnx", out))
    assert det.detect(IMAGE) == []


def test_layout_parameter_overrides_an_ambiguous_shape(tmp_path: Path) -> None:
    out = np.zeros((1, N, N), np.float32)
    model = write_constant_detector(tmp_path / "square.onnx", out)
    with pytest.raises(DetectorError, match=r"detector output \[1, 84, 84\] for input 64x64 is ambiguous"):
        load(model)
    assert load(model, layout="yolox").layout == "yolox"
    ultra = write_constant_detector(tmp_path / "ultra.onnx", out, metadata={"author": "Ultralytics"})
    assert load(ultra).layout == "yolov8"


def test_detect_layout_refuses_a_shape_of_no_layout() -> None:
    with pytest.raises(DetectorError, match=r"detector output \[1, 7, 5\] for input 64x64 matches no known layout"):
        detect_layout([[1, 7, 5]], 64, 64)
    with pytest.raises(DetectorError, match=r"\[1, 300, 6\], \[1\]"):
        detect_layout([[1, 300, 6], [1]], 640, 640)


def test_dynamic_input_size_from_parameters_or_ultralytics_metadata(tmp_path: Path) -> None:
    n = anchor_count(64, 96)  # 8x12 + 4x6 + 2x3 = 126
    out = np.zeros((1, 5, n), np.float32)
    meta = {"imgsz": "[64, 96]", "author": "Ultralytics"}
    model = write_constant_detector(tmp_path / "dyn.onnx", out, input_hw=("H", "W"), metadata=meta)
    assert load(model).input_hw == (64, 96)
    plain = write_constant_detector(tmp_path / "plain.onnx", out, input_hw=("H", "W"))
    assert load(plain, input_height=64, input_width=96).input_hw == (64, 96)
    with pytest.raises(DetectorError, match=r"\[1, 5, 126\] for input 640x640 matches no known layout"):
        load(plain)  # 640x640 by default: 8400 anchors expected


def test_a_fixed_input_contradicted_by_the_parameters_is_refused(tmp_path: Path) -> None:
    model = write_constant_detector(tmp_path / "m.onnx", np.zeros((1, 5, N), np.float32))
    with pytest.raises(
        ParameterError, match="parameter 'input_width': 640 contradicts the model's fixed input size 64"
    ):
        load(model, input_width=640)


def test_a_half_precision_input_is_fed_float16(tmp_path: Path) -> None:
    out = np.zeros((1, 6, N), np.float32)
    out[0, :, 0] = [32.0, 32.0, 16.0, 8.0, 0.9, 0.0]
    det = load(write_constant_detector(tmp_path / "fp16.onnx", out, half_input=True))
    [d] = det.detect(IMAGE)
    np.testing.assert_allclose([d.cx, d.cy, d.w, d.h], [128.0, 64.0, 64.0, 32.0], atol=1e-4)
