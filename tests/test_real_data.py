"""Optional tests on the real TUM RGB-D frames in ../shared/data (skipped when it is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rosbags.highlevel import AnyReader

from depth_node.cli import main
from depth_node.msgs import camera_from_info, decode_image
from tests.conftest import SHARED_DATA

BAG = SHARED_DATA / "tum_rgbd_2frames"
pytestmark = pytest.mark.skipif(not BAG.exists(), reason="../shared/data/tum_rgbd_2frames is not here")


def test_real_bag_topics_and_camera() -> None:
    with AnyReader([BAG]) as reader:
        for conn, _t, raw in reader.messages():
            msg = reader.deserialize(raw, conn.msgtype)
            if conn.topic == "/camera/color/camera_info":
                cam = camera_from_info(msg, image_size=(640, 480))
                assert (cam.fx, cam.cx) == pytest.approx((520.9, 325.1))
            elif conn.topic == "/camera/aligned_depth_to_color/image_raw":
                depth, enc = decode_image(msg)
                assert enc == "16UC1" and depth.shape == (480, 640)
                valid = depth[depth > 0] / 1000.0
                assert 0.5 < np.median(valid) < 5.0  # a desk scene in metres


def test_real_bag_replays_both_frames(tmp_path: Path, metric_model: Path) -> None:
    out = tmp_path / "out"
    assert main(["replay", str(BAG), "--out", str(out), "--model", str(metric_model)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["image_topic"] == "/camera/color/image_raw"
    assert report["camera_info_topic"] == "/camera/color/camera_info"
    assert (report["frames_total"], report["frames_processed"]) == (2, 2)
