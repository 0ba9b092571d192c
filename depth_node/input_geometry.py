"""The geometry of the network input: its size rules, the margin some models pad around the frame, and resizes
that reproduce the libraries' own conventions exactly.

Everything here is a pure function of sizes (and, for the resizes, of arrays); the estimator composes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

#: How a margin is filled: ``reflect`` mirrors without repeating the edge pixel (numpy's and torchvision's
#: "reflect", OpenCV's BORDER_REFLECT_101), ``replicate`` repeats the edge pixel.
PAD_MODES = {"none": None, "reflect": cv2.BORDER_REFLECT_101, "replicate": cv2.BORDER_REPLICATE}


def round_to_multiple(value: float, multiple: int) -> int:
    """Nearest multiple of ``multiple`` to ``value`` (halves round up), at least ``multiple``."""
    return max(multiple, math.floor(value / multiple + 0.5) * multiple)


def floor_to_multiple(value: float, multiple: int) -> int:
    """Largest multiple of ``multiple`` not above ``value``, at least ``multiple`` (GLPN's rule)."""
    return max(multiple, math.floor(value / multiple) * multiple)


def keep_aspect_size(
    height: int, width: int, target_h: int, target_w: int, multiple: int, rounding: str = "nearest"
) -> tuple[int, int]:
    """The Hugging Face DPT rule: scale as little as possible to reach one target side, keep the aspect ratio.

    Each side is then rounded to ``multiple`` with Python's ``round`` (halves to even), as the image processors
    of DPT and Depth Anything do, so that the node feeds the network exactly the size ``transformers`` would.
    """
    scale_h, scale_w = target_h / height, target_w / width
    if abs(1 - scale_w) < abs(1 - scale_h):
        scale_h = scale_w
    else:
        scale_w = scale_h
    if rounding == "floor":
        return floor_to_multiple(scale_h * height, multiple), floor_to_multiple(scale_w * width, multiple)
    return (
        max(multiple, round(scale_h * height / multiple) * multiple),
        max(multiple, round(scale_w * width / multiple) * multiple),
    )


def pad_width(side: int, rule: str, amount: float) -> int:
    """Pixels of margin on each end of a side of ``side`` pixels (0 when ``amount`` is 0).

    Truncated, not rounded, as ZoeDepth's ``int(np.sqrt(side / 2) * 3)``.
    """
    if amount <= 0.0:
        return 0
    if rule == "sqrt_half":
        return int(math.sqrt(side / 2) * amount)
    return int(side * amount)


@dataclass(frozen=True)
class Margin:
    """The margin padded around a frame of ``source`` (height, width) before it is resized for the network.

    Attributes:
        source: (height, width) of the frame as given.
        top: Rows added above (and below).
        left: Columns added left (and right).
    """

    source: tuple[int, int]
    top: int = 0
    left: int = 0

    @property
    def padded(self) -> tuple[int, int]:
        """(height, width) of the padded frame."""
        return self.source[0] + 2 * self.top, self.source[1] + 2 * self.left

    def crop_to(self, out: npt.NDArray[np.float32], size: tuple[int, int], interpolation: int) -> npt.NDArray[Any]:
        """A network-grid map (covering the padded frame) as the frame's own area at ``size`` (height, width).

        The map is resized to the padded frame at ``size``'s scale, then the margin is cut off: at the frame's own
        size that is exactly the Hugging Face ZoeDepth post-processing (resize to source + 2 * pad, crop).
        """
        height, width = size
        sy, sx = height / self.source[0], width / self.source[1]
        top, left = round(self.top * sy), round(self.left * sx)
        full = (height + 2 * top, width + 2 * left)
        if out.shape != full:
            out = np.asarray(cv2.resize(out, (full[1], full[0]), interpolation=interpolation), np.float32)
        return out[top : top + height, left : left + width]


def margin_for(height: int, width: int, mode: str, rule: str, amount: float) -> Margin:
    """The margin a spec's ``pad_mode`` / ``pad_rule`` / ``pad_amount`` put around a frame of this size."""
    if PAD_MODES.get(mode) is None:
        return Margin((height, width))
    return Margin((height, width), pad_width(height, rule, amount), pad_width(width, rule, amount))


def pad_frame(rgb: npt.NDArray[np.uint8], margin: Margin, mode: str) -> npt.NDArray[np.uint8]:
    """The frame with its margin filled (a copy), or the frame itself when there is none.

    Padding the uint8 frame is exact: the filled pixels are copies, whatever the processor's dtype.
    """
    border = PAD_MODES.get(mode)
    if border is None or (margin.top == 0 and margin.left == 0):
        return rgb
    if margin.top >= rgb.shape[0] or margin.left >= rgb.shape[1]:  # a reflection needs a longer side
        border = cv2.BORDER_REPLICATE
    top, left = margin.top, margin.left
    return np.asarray(cv2.copyMakeBorder(rgb, top, top, left, left, border), np.uint8)


def _corner_weights(size_in: int, size_out: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], Any]:
    """Source indices and weights of a linear resize with ``align_corners=True`` (first and last pixels kept)."""
    if size_out == 1 or size_in == 1:
        pos = np.zeros(size_out, np.float64)
    else:
        pos = np.arange(size_out, dtype=np.float64) * ((size_in - 1) / (size_out - 1))
    lo = np.minimum(np.floor(pos).astype(np.intp), size_in - 1)
    hi = np.minimum(lo + 1, size_in - 1)
    return lo, hi, (pos - lo).astype(np.float32)


def resize_align_corners(image: npt.NDArray[Any], size: tuple[int, int]) -> npt.NDArray[np.float32]:
    """Bilinear resize of an (H, W, C) image to ``size`` (height, width) with ``align_corners=True``, in float32.

    What ``torch.nn.functional.interpolate(mode="bilinear", align_corners=True)`` computes, which ZoeDepth's image
    processor uses for both enlarging and shrinking (no antialiasing): separable, rows then columns. OpenCV has
    no align-corners mode, and its remap quantises the weights to 1/32 pixel.
    """
    x = np.asarray(image, np.float32)
    lo, hi, w = _corner_weights(x.shape[0], size[0])
    wy = w[:, None, None]
    x = x[lo] * (1.0 - wy) + x[hi] * wy
    lo, hi, w = _corner_weights(x.shape[1], size[1])
    wx = w[None, :, None]
    return np.asarray(x[:, lo] * (1.0 - wx) + x[:, hi] * wx, np.float32)
