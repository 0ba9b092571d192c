"""The README's main job, small: a rendered drive recorded as a bag and replayed through a model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from rosbags.highlevel import AnyReader

from depth_node.evaluation.demo import main


def test_demo_records_and_replays(tmp_path: Path, metric_model: Path) -> None:
    assert main(["--out", str(tmp_path / "d"), "--frames", "3", "--model", str(metric_model)]) == 0
    report = json.loads((tmp_path / "d" / "replay" / "report.json").read_text())
    assert (report["frames_total"], report["frames_processed"]) == (3, 3)
    with AnyReader([tmp_path / "d" / "drive"]) as reader:
        gts = [reader.deserialize(raw, c.msgtype) for c, _t, raw in reader.messages() if c.topic == "/camera/depth_gt"]
    assert len(gts) == 3 and gts[0].encoding == "32FC1" and (gts[0].width, gts[0].height) == (320, 240)
    depth = np.frombuffer(gts[0].data.tobytes(), np.float32)
    assert np.nanmin(depth) > 0.0 and np.nanmax(depth) < 50.0
