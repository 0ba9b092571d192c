"""Non-maximum suppression per class, and the score / class / count filters around it.

Greedy NMS by OpenCV's ``cv2.dnn`` (IoU of continuous boxes, a box goes when its overlap with a
better one of its class exceeds the threshold); the filters and the ordering are ours, so that the
result is best first whatever OpenCV returns.

Supported OpenCV: 4.6 and later (4.6 is what Ubuntu 24.04 / Debian 12 ship as ``python3-opencv``).
``cv2.dnn.NMSBoxesBatched`` only exists from 4.7; without it the classes are kept apart the way it does
it, by shifting each class's boxes to a region of its own, and one ``NMSBoxes`` call (in OpenCV since
3.4) suppresses them all: same result, still one C++ call.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Candidates:
    """Decoded boxes before suppression.

    Attributes:
        boxes: (N, 4) float32 x1, y1, x2, y2 (network pixels when a decoder returns them).
        scores: (N,) float32 confidence of the best class.
        classes: (N,) int64 index of the best class.
    """

    boxes: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]
    classes: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def take(self, index: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> Candidates:
        """The candidates at ``index`` (indices or a mask), in that order."""
        return Candidates(self.boxes[index], self.scores[index], self.classes[index])


def _dnn() -> Any:
    """``cv2.dnn``, untyped: it takes numpy arrays where its stubs name only sequences."""
    return cv2.dnn


def _xywh(boxes: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    out = np.asarray(boxes, dtype=np.float64).copy()
    out[:, 2:] -= out[:, :2]
    return out


def _batched_by_offset(
    xywh: npt.NDArray[np.float64], scores: npt.NDArray[np.float32], classes: npt.NDArray[np.int32], iou: float
) -> Any:
    """Per-class NMS through plain ``NMSBoxes`` (OpenCV < 4.7): each class moved to a region of its own.

    The shift is larger than the extent of every box, so boxes of two classes never overlap and IoU
    within a class is unchanged (a translation changes no area).
    """
    shifted = xywh.copy()
    extent = float(np.max(np.abs(xywh[:, :2]) + np.abs(xywh[:, 2:]))) + 1.0
    shifted[:, :2] += classes[:, None].astype(np.float64) * (2.0 * extent)
    return _dnn().NMSBoxes(shifted, scores, 0.0, iou)


def _nms_batched(
    xywh: npt.NDArray[np.float64], scores: npt.NDArray[np.float32], classes: npt.NDArray[np.int32], iou: float
) -> Any:
    """OpenCV's ``NMSBoxesBatched`` where it exists (4.7+), else the same through ``NMSBoxes``."""
    batched = getattr(_dnn(), "NMSBoxesBatched", None)
    if batched is None:
        return _batched_by_offset(xywh, scores, classes, iou)
    return batched(xywh, scores, classes, 0.0, iou)


def _best_first(kept: Any, scores: npt.NDArray[np.float32], limit: int) -> npt.NDArray[np.intp]:
    """OpenCV's kept indices ordered by score (stable), cut to ``limit`` (0 = all)."""
    idx = np.asarray(kept, dtype=np.intp).reshape(-1)
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return idx[:limit] if limit else idx


def nms(
    boxes: npt.NDArray[np.floating], scores: npt.NDArray[np.float32], iou_threshold: float, limit: int = 0
) -> npt.NDArray[np.intp]:
    """Indices of the boxes greedy NMS keeps, best score first (OpenCV's ``NMSBoxes``).

    A box is suppressed by a better one whose IoU with it exceeds ``iou_threshold``; a score of 0 is
    never kept (OpenCV keeps scores above its threshold, which must be >= 0).

    Args:
        boxes: (N, 4) x1, y1, x2, y2.
        scores: (N,) scores.
        iou_threshold: Overlap above which the lower-scoring box goes.
        limit: Keep at most this many, after suppression (0 = no limit).
    """
    if len(scores) == 0:
        return np.zeros(0, dtype=np.intp)
    kept = _dnn().NMSBoxes(_xywh(boxes), np.asarray(scores, np.float32), 0.0, float(iou_threshold))
    return _best_first(kept, scores, limit)


def select(
    cands: Candidates,
    score_threshold: float,
    iou_threshold: float,
    max_detections: int,
    classes: Collection[int] | None = None,
) -> Candidates:
    """Score filter, class filter, per-class NMS, then the ``max_detections`` best, best first.

    Args:
        cands: Decoded candidates.
        score_threshold: Candidates scoring lower are dropped (before NMS, so they suppress nothing).
        iou_threshold: NMS overlap threshold, applied within each class.
        max_detections: At most this many survive (0 = no limit).
        classes: Class indices to keep (None or empty = all).
    """
    mask = cands.scores >= score_threshold
    if classes:
        mask &= np.isin(cands.classes, np.fromiter(classes, dtype=np.int64))
    kept = cands.take(mask)
    if len(kept) == 0:
        return kept
    # OpenCV's batched NMS keeps classes apart (it offsets each class's boxes) in C++: 484 FastestDet
    # cells take ~2 ms where a numpy loop took ~30. Its top_k cuts before suppression, so the count
    # limit is applied here, after it.
    index = _nms_batched(_xywh(kept.boxes), kept.scores, kept.classes.astype(np.int32), float(iou_threshold))
    return kept.take(_best_first(index, kept.scores, max_detections))
