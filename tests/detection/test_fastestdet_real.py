"""FastestDet (../shared/data/detectors) on the real TUM desk frames: the monitor and the keyboard.

The reference boxes were drawn by hand around the monitor (screen and bezel, without the stand) and
the keyboard of each frame. Skipped when the data is absent.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from depth_node.detection.detector import Detection
from tests.conftest import SHARED_DATA
from tests.detection.models import load

MODEL = SHARED_DATA / "detectors" / "FastestDet.onnx"
NAMES = SHARED_DATA / "detectors" / "FastestDet_coco.names"
FRAMES = SHARED_DATA / "tum_rgbd"

pytestmark = pytest.mark.skipif(
    not (MODEL.is_file() and NAMES.is_file() and (FRAMES / "1.png").is_file()),
    reason="../shared/data detectors or tum_rgbd is not here",
)

# x1, y1, x2, y2 in image pixels (640 x 480)
REFERENCE = {
    "1.png": {"tvmonitor": (232, 93, 390, 222), "keyboard": (203, 262, 380, 306)},
    "2.png": {"tvmonitor": (220, 112, 382, 242), "keyboard": (182, 266, 358, 316)},
}


def iou(det: Detection, ref: tuple[int, int, int, int]) -> float:
    x1, y1, x2, y2 = det.cx - det.w / 2, det.cy - det.h / 2, det.cx + det.w / 2, det.cy + det.h / 2
    ix = max(0.0, min(x2, ref[2]) - max(x1, ref[0]))
    iy = max(0.0, min(y2, ref[3]) - max(y1, ref[1]))
    inter = ix * iy
    return inter / (det.w * det.h + (ref[2] - ref[0]) * (ref[3] - ref[1]) - inter)


@pytest.mark.parametrize("frame", sorted(REFERENCE))
def test_fastestdet_finds_the_monitor_and_the_keyboard(frame: str) -> None:
    detector = load(MODEL, labels_path=str(NAMES), score_threshold=0.45)
    assert detector.layout == "fastestdet" and detector.input_hw == (352, 352)
    bgr = cv2.imread(str(FRAMES / frame), cv2.IMREAD_COLOR)
    detections = detector.detect(np.ascontiguousarray(bgr[..., ::-1]))
    for name, ref in REFERENCE[frame].items():
        found = [d for d in detections if d.class_name == name]
        assert found, f"no {name} in {frame}: {[(d.class_name, round(d.score, 2)) for d in detections]}"
        best = max(found, key=lambda d: iou(d, ref))
        assert iou(best, ref) > 0.7, (name, best)
        assert best.score > 0.5
