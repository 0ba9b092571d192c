"""Non-maximum suppression per class, and the score / class / count filters around it.

Greedy NMS in numpy: candidates after the score threshold are few (tens to a few hundred), so one
vectorised IoU row per kept box is cheap. Classes are kept apart by shifting each class's boxes by a
distinct offset larger than any coordinate, so one pass suppresses only within a class.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

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


def iou_one_to_many(box: npt.NDArray[np.floating], boxes: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """Intersection over union of one x1y1x2y2 box with each of ``boxes``; 0 where the union is empty."""
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0.0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0.0, None)
    inter = ix * iy
    area = max(float(box[2] - box[0]), 0.0) * max(float(box[3] - box[1]), 0.0)
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0.0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0.0, None)
    union = area + areas - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0.0, inter / union, 0.0).astype(np.float32)


def nms(
    boxes: npt.NDArray[np.floating], scores: npt.NDArray[np.float32], iou_threshold: float, limit: int = 0
) -> npt.NDArray[np.intp]:
    """Indices of the boxes greedy NMS keeps, best score first.

    A box is suppressed by a better one whose IoU with it exceeds ``iou_threshold``. Equal scores keep
    their input order (stable sort), so the result does not depend on the platform's sort.

    Args:
        boxes: (N, 4) x1, y1, x2, y2.
        scores: (N,) scores.
        iou_threshold: Overlap above which the lower-scoring box goes.
        limit: Stop after this many kept boxes (0 = no limit).
    """
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        if limit and len(keep) >= limit:
            break
        rest = order[1:]
        order = rest[iou_one_to_many(boxes[best], boxes[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.intp)


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
    # One NMS pass over all classes: each class's boxes are moved to their own far-away region.
    span = float(np.abs(kept.boxes).max()) + 1.0
    # float64: at offsets of 1e5 px float32 would blur the overlap by a tenth of a pixel.
    shifted = kept.boxes.astype(np.float64) + (kept.classes.astype(np.float64) * (2.0 * span))[:, None]
    return kept.take(nms(shifted, kept.scores, iou_threshold, max_detections))
