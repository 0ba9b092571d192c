"""The network input of one frame: area down-sampling and normalisation fused into two small matrix products.

The reference path (:func:`reference_blob`) is what OpenCV does: ``cv2.resize(INTER_AREA)`` to uint8,
then a float multiply-add per channel and an HWC -> CHW copy. For 640x480 -> 160x128 that resize is a
non-integer factor (3.75 vertically), which OpenCV serves with its slow generic area code: about 1 ms,
a third of the node's work around the model.

Area down-sampling is linear and separable: ``out = Wy @ X @ Wx.T`` per channel, where each weight is
the overlap of an output pixel with an input pixel. When ``in / out`` is a ratio ``a / b`` of small
integers the weights repeat every ``a`` input rows (``b`` output rows), so ``Wy`` is one ``b x a`` block
applied to ``in / a`` slices in a single batched matmul, and likewise for the columns, where the
channel order is folded into the block. What remains is one uint8 -> float32 conversion, two BLAS
calls, a rounding, a multiply-add and a 60 k-element transpose on the small result: about a third of the
reference's time. The area average is rounded as OpenCV rounds its uint8 result, so the network is fed
the same values; OpenCV's own float weights differ in the last bits, which moves a value sitting on
a rounding tie by one grey level (0.4 % of them at 640x480; tests hold the two to 1 %).
Ratios with a long period (1920x1080 -> 160x128 repeats only every 135 rows) would make the blocks
dense and slow, so they keep the reference path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

# Blocks with more output rows/columns per period than this are slower than OpenCV's generic path.
MAX_PERIOD_OUT = 8


def area_block(size_in: int, size_out: int) -> tuple[npt.NDArray[np.float64], int]:
    """The repeating block of INTER_AREA weights for ``size_in -> size_out`` and how often it repeats.

    Returns:
        (weights ``(b, a)``, count ``g``) with ``size_in = a * g`` and ``size_out = b * g``; row ``i`` of
        the block holds the fraction of each of the ``a`` input pixels that output pixel ``i`` covers,
        divided by the output pixel's size, so every row sums to 1.
    """
    g = math.gcd(size_in, size_out)
    a, b = size_in // g, size_out // g
    span = a / b
    weights = np.zeros((b, a), dtype=np.float64)
    for i in range(b):
        lo, hi = i * span, (i + 1) * span
        for j in range(math.floor(lo), min(a, math.ceil(hi))):
            weights[i, j] = max(0.0, min(hi, j + 1.0) - max(lo, float(j))) / span
    return weights, g


def reference_blob(
    rgb: npt.NDArray[np.uint8],
    size: tuple[int, int],
    gain: npt.NDArray[np.float32],
    bias: npt.NDArray[np.float32],
    bgr: bool,
    enlarge: int = cv2.INTER_LINEAR,
) -> npt.NDArray[np.float32]:
    """OpenCV's resize, then ``x * gain + bias``, as (1, 3, h, w).

    Area averaging when shrinking in both directions (OpenCV's nearest to PIL's antialiased downscale),
    else ``enlarge`` (bilinear, or bicubic for a model trained with it).
    """
    in_h, in_w = size
    shrinking = in_h < rgb.shape[0] and in_w < rgb.shape[1]
    resized: npt.NDArray[Any]
    if (in_h, in_w) == rgb.shape[:2]:
        resized = rgb
    else:
        resized = cv2.resize(rgb, (in_w, in_h), interpolation=cv2.INTER_AREA if shrinking else enlarge)
    if bgr:
        resized = resized[..., ::-1]
    x = resized.astype(np.float32)
    x *= gain
    x += bias
    return np.ascontiguousarray(x.transpose(2, 0, 1))[None]


@dataclass(frozen=True)
class AreaBlob:
    """Fused area resize + normalisation for one (input size, network size) pair; see the module doc.

    Attributes:
        src: (height, width) of the frames this was built for.
        dst: (height, width) of the network input.
        rows: ``(b_h, a_h)`` float32 row block.
        row_repeats: ``g_h``, how many times the row block repeats.
        cols: ``(a_w * 3, b_w * 3)`` float32 column block with the network's channel order folded in.
        halves_up: Round halves up (integer factors both ways, as OpenCV's fast path) instead of to even.
        gain: Per-channel ``scale / std``, (3,) float32, in the network's channel order.
        bias: Per-channel offset, (3,) float32, in the network's channel order.
    """

    src: tuple[int, int]
    dst: tuple[int, int]
    rows: npt.NDArray[np.float32]
    row_repeats: int
    cols: npt.NDArray[np.float32]
    halves_up: bool
    gain: npt.NDArray[np.float32]
    bias: npt.NDArray[np.float32]

    @classmethod
    def build(
        cls,
        src: tuple[int, int],
        dst: tuple[int, int],
        gain: npt.NDArray[np.float32],
        bias: npt.NDArray[np.float32],
        bgr: bool,
    ) -> AreaBlob | None:
        """The fused path for ``src -> dst``, or None when it does not apply or would be slower.

        It applies to a shrink in both directions whose size ratios repeat within
        :data:`MAX_PERIOD_OUT` output pixels.
        """
        (src_h, src_w), (dst_h, dst_w) = src, dst
        if not (0 < dst_h < src_h and 0 < dst_w < src_w):
            return None
        rows, row_repeats = area_block(src_h, dst_h)
        col_weights, _ = area_block(src_w, dst_w)
        if rows.shape[0] > MAX_PERIOD_OUT or col_weights.shape[0] > MAX_PERIOD_OUT:
            return None
        b_w, a_w = col_weights.shape
        order = (2, 1, 0) if bgr else (0, 1, 2)  # network channel k reads input channel order[k]
        cols = np.zeros((a_w * 3, b_w * 3), dtype=np.float64)
        for k, c in enumerate(order):
            cols[c::3, k::3] = col_weights.T
        return cls(
            src=(src_h, src_w),
            dst=(dst_h, dst_w),
            rows=rows.astype(np.float32),
            row_repeats=row_repeats,
            cols=cols.astype(np.float32),
            halves_up=rows.shape[0] == 1 and col_weights.shape[0] == 1,
            gain=np.asarray(gain, dtype=np.float32).reshape(3),
            bias=np.asarray(bias, dtype=np.float32).reshape(3),
        )

    def __call__(self, rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """The normalised (1, 3, h, w) float32 network input of an (H, W, 3) uint8 frame of size ``src``."""
        src_w = self.src[1]
        dst_h, dst_w = self.dst
        x = rgb.astype(np.float32).reshape(self.row_repeats, self.rows.shape[1], src_w * 3)
        block = self.cols.shape[0]  # a_w pixels x 3 channels: one period of columns
        tall = np.matmul(self.rows, x).reshape(dst_h * src_w * 3 // block, block)
        out = (tall @ self.cols).reshape(dst_h, dst_w, 3)
        # OpenCV's uint8 result, so the network is fed what it was fed before: its integer-factor path
        # rounds halves up ((sum + n/2) / n), its general path to even (cvRound).
        if self.halves_up:
            out += 0.5
            np.floor(out, out=out)
        else:
            np.rint(out, out=out)
        out *= self.gain
        out += self.bias
        return np.ascontiguousarray(out.transpose(2, 0, 1))[None]
