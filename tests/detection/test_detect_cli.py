"""``depth-node detect``: the JSON shape, the drawn images, and one-line refusals of bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from depth_node.cli import main
from depth_node.detection.layouts import anchor_count
from tests.detection.models import write_constant_detector

N = anchor_count(64, 64)


@pytest.fixture
def v8_model(tmp_path: Path) -> Path:
    out = np.zeros((1, 6, N), np.float32)
    out[0, :, 3] = [32.0, 32.0, 16.0, 8.0, 0.1, 0.9]
    return write_constant_detector(tmp_path / "v8.onnx", out)


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "frame.png"
    cv2.imwrite(str(path), np.full((128, 256, 3), 90, np.uint8))
    return path


def test_json_has_exactly_the_documented_shape(
    v8_model: Path, image: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("person\ntv\n", encoding="utf-8")
    assert main(["detect", str(image), str(image), "--model", str(v8_model), "--labels", str(labels), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc) == ["images"] and len(doc["images"]) == 2
    entry = doc["images"][0]
    assert list(entry) == ["image", "detections"] and entry["image"] == str(image)
    [d] = entry["detections"]
    assert list(d) == ["class", "score", "box"]
    assert d["class"] == "tv" and d["score"] == pytest.approx(0.9)
    np.testing.assert_allclose(d["box"], [128.0, 64.0, 64.0, 32.0], atol=1e-4)


def test_out_writes_drawn_images_and_no_temporaries(
    v8_model: Path, image: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["detect", str(image), "--model", str(v8_model), "--out", str(out), "--score", "0.5"]) == 0
    assert "frame.png: 1 detection(s): 1 0.90" in capsys.readouterr().out
    assert [p.name for p in out.iterdir()] == ["frame_detections.png"]
    drawn = cv2.imread(str(out / "frame_detections.png"))
    assert drawn.shape == (128, 256, 3)
    assert np.any(drawn[48, 96:160] != 90) and np.all(drawn[100, 10:20] == 90)  # box edge drawn, far pixels not


@pytest.mark.parametrize(
    ("output", "extra", "message"),
    [
        (np.zeros((1, 7, 5), np.float32), [], r"detector output \[1, 7, 5\] for input 64x64 matches no known layout"),
        (np.zeros((1, 6, N), np.float32), ["--layout", "fastestdet"], r"does not fit layout 'fastestdet'"),
        (np.zeros((1, 6, N), np.float32), ["--score", "1.5"], r"parameter 'score_threshold': 1.5 is above"),
    ],
)
def test_bad_models_and_values_are_refused_in_one_line(
    tmp_path: Path,
    image: Path,
    output: np.ndarray,
    extra: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model = write_constant_detector(tmp_path / "bad.onnx", output)
    assert main(["detect", str(image), "--model", str(model), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("depth-node detect: error: ")
    assert re.search(message, err)


def test_missing_model_labels_and_image_are_refused(
    v8_model: Path, image: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["detect", str(image)]) == 2
    assert "no detector model given" in capsys.readouterr().err
    assert main(["detect", str(image), "--model", str(tmp_path / "none.onnx")]) == 2
    assert "none.onnx' does not exist" in capsys.readouterr().err
    assert main(["detect", str(image), "--model", str(v8_model), "--labels", str(tmp_path / "no.txt")]) == 2
    assert "labels file" in capsys.readouterr().err
    assert main(["detect", str(tmp_path / "nope.png"), "--model", str(v8_model)]) == 2
    assert "nope.png' does not exist or cannot be decoded" in capsys.readouterr().err


def test_params_yaml_section_is_read(
    v8_model: Path, image: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    yaml = tmp_path / "detector.yaml"
    yaml.write_text(f"detector:\n  ros__parameters:\n    model_path: {v8_model}\n    score_threshold: 0.95\n")
    assert main(["detect", str(image), "--params", str(yaml), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["images"][0]["detections"] == []


def test_bench_times_the_detector_stages(
    v8_model: Path, metric_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["bench", "--model", str(metric_model), "--repeats", "2", "--width", "160", "--height", "120", "--json"]
    assert main([*args, "--detector-model", str(v8_model)]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("det_preprocess_ms", "det_forward_ms", "det_decode_nms_ms", "det_decode_nms_worst_ms", "det_total_ms"):
        assert result[key] > 0.0
    assert result["detector_layout"] == "yolov8" and result["detector_worst_candidates"] == N
    assert main([*args, "--detector-model", str(tmp_path / "absent.onnx")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "absent.onnx" in result["detector_skipped"] and "det_forward_ms" not in result
