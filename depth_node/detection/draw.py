"""Boxes drawn on a frame: ``depth-node detect --out`` and the node's ``detections/image``."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np
import numpy.typing as npt

from depth_node.detection.detector import Detection


def class_color(index: int) -> tuple[int, int, int]:
    """A bright BGR colour per class index, the same in every image (golden-ratio hue steps)."""
    hue = int((index * 0.618033988749895 % 1.0) * 180)
    hsv = np.array([[[hue, 220, 255]]], dtype=np.uint8)
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def draw_detections(bgr: npt.NDArray[np.uint8], detections: Iterable[Detection]) -> npt.NDArray[np.uint8]:
    """A copy of a BGR image with each detection's box and "name score" label."""
    out = np.ascontiguousarray(bgr).copy()
    scale = max(0.4, min(out.shape[:2]) / 900.0)
    thickness = max(1, round(scale * 2))
    for det in detections:
        color = class_color(det.class_index)
        x1, y1 = round(det.cx - det.w / 2), round(det.cy - det.h / 2)
        x2, y2 = round(det.cx + det.w / 2), round(det.cy + det.h / 2)
        cv2.rectangle(out, (x1, y1), (x2, y2), color, thickness)
        text = f"{det.class_name} {det.score:.2f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        ty = y1 - 2 if y1 - th - base - 2 >= 0 else y1 + th + 2
        cv2.rectangle(out, (x1, ty - th - 2), (x1 + tw + 2, ty + base - 2), color, cv2.FILLED)
        cv2.putText(out, text, (x1 + 1, ty - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return out
