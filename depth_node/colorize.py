"""Depth -> colour image for humans: inferno_r, near = bright, unknown = black."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt


def colorize_depth(depth: npt.NDArray[np.float32], min_m: float, max_m: float) -> npt.NDArray[np.uint8]:
    """A BGR uint8 image of ``depth`` (metres) on the inferno_r colour map over a fixed range.

    A fixed range (not per-frame min/max) keeps the colours of one distance stable over a video.
    """
    if not max_m > min_m:
        raise ValueError(f"colour range needs max > min, got {min_m}..{max_m}")
    valid = np.isfinite(depth)
    t = np.clip((np.nan_to_num(depth, nan=max_m) - min_m) / (max_m - min_m), 0.0, 1.0)
    # inferno maps low values dark; 1 - t makes near bright (inferno_r).
    levels = np.round((1.0 - t) * 255.0).astype(np.uint8)
    bgr = cv2.applyColorMap(levels, cv2.COLORMAP_INFERNO)
    bgr[~valid] = 0
    return bgr
