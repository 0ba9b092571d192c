"""predict, bench and the CLI shell."""

from __future__ import annotations

import array
from pathlib import Path

import cv2
import numpy as np
import pytest

from depth_node.cli import build_parser, main
from depth_node.msgs import MessageSet


def test_predict_writes_three_files_per_image(tmp_path: Path, metric_model: Path) -> None:
    img = np.zeros((48, 64, 3), np.uint8)
    img[..., 2] = 51  # OpenCV writes BGR: this is red 51
    cv2.imwrite(str(tmp_path / "frame.png"), img)
    out = tmp_path / "out"
    assert main(["predict", str(tmp_path / "frame.png"), "--out", str(out), "--model", str(metric_model)]) == 0
    depth = np.load(out / "frame_depth.npy")
    assert depth.dtype == np.float32 and depth.shape == (48, 64)
    np.testing.assert_allclose(depth, 1.8, rtol=1e-6)
    mm = cv2.imread(str(out / "frame_depth_mm.png"), cv2.IMREAD_UNCHANGED)
    assert mm.dtype == np.uint16 and np.all(mm == 1800)
    colour = cv2.imread(str(out / "frame_depth_color.png"))
    assert colour.shape == (48, 64, 3)
    assert sorted(p.name for p in out.iterdir()) == [
        "frame_depth.npy",
        "frame_depth_color.png",
        "frame_depth_mm.png",
    ]


def test_predict_refuses_a_missing_image(
    tmp_path: Path, metric_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "predict",
                str(tmp_path / "nope.png"),
                "--out",
                str(tmp_path / "o"),
                "--model",
                str(metric_model),
            ]
        )
        == 2
    )
    assert "nope.png' does not exist" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_bench_reports_every_stage(metric_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--model", str(metric_model), "--repeats", "2", "--width", "160", "--height", "120"]) == 0
    text = capsys.readouterr().out
    for key in (
        "decode_rgb8_ms",
        "decode_jpeg_ms",
        "forward_ms",
        "cloud_xyz_ms",
        "cloud_numpy_baseline_ms",
        "frame_total_ms",
        "nav_fusion_ms",
        "nav_scan_ms",
        "nav_total_ms",
    ):
        assert key in text
    # The size labels print whole and aligned; nothing points at a directory a user does not have.
    assert "navigation step (1280x720)   " in text and "(1280x720 )" not in text
    assert "shared" not in text and "detector: skipped, no --detector-model given" in text
    assert "rectify_ms" in text and "camera_info_ms" in text  # the cost of a distorted camera, and of none


def test_help_lists_the_commands() -> None:
    text = build_parser().format_help()
    for name in ("predict", "replay", "bench"):
        assert name in text


def test_rclpy_flavour_fills_uint8_in_one_copy() -> None:
    data = np.arange(10, dtype=np.uint8)
    out = MessageSet("rclpy").uint8_array(data)
    assert isinstance(out, array.array) and out.typecode == "B" and out.tolist() == list(range(10))
    floats = np.arange(6, dtype=np.float32)
    assert list(MessageSet("rclpy").uint8_array(floats)) == list(floats.view(np.uint8))
    assert MessageSet("rclpy").float64_array(np.eye(2)) == [1.0, 0.0, 0.0, 1.0]
