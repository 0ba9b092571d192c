"""Depth -> colour image for humans: inferno_r, near = bright, unknown = black; errors on inferno."""

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
    # inferno maps low values dark; reversing it makes near bright (inferno_r).
    return colorize_values(depth, min_m, max_m, reverse=True)


def colorize_values(
    values: npt.NDArray[np.floating], low: float, high: float, *, reverse: bool = False
) -> npt.NDArray[np.uint8]:
    """A BGR uint8 image of any scalar map on inferno over [low, high] (high = bright unless ``reverse``).

    Non-finite values are black. Used for depth (reversed) and for error maps (large error = bright).
    """
    if not high > low:
        raise ValueError(f"colour range needs max > min, got {low}..{high}")
    valid = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        t = np.clip((np.nan_to_num(values, nan=high) - low) / (high - low), 0.0, 1.0)
    if reverse:
        t = 1.0 - t
    levels = np.round(t * 255.0).astype(np.uint8)
    bgr = cv2.applyColorMap(levels, cv2.COLORMAP_INFERNO)
    bgr[~valid] = 0
    return bgr
