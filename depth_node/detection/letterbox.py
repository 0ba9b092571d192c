"""Image pixels <-> network pixels: the letterbox (keep the aspect ratio, pad) and the plain resize.

A box decoded in network pixels only means something in the image once the preprocessing is undone
exactly, so the geometry is one object used both ways. Coordinates are continuous pixel edges
(0..width), the convention of the box formats and of ``cv2.resize``; the scale of each axis is the
size actually drawn (after rounding) over the image's, so the inverse is exact even when the
ratio does not divide evenly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Letterbox:
    """Where an image of ``src_w`` x ``src_h`` lands in a network input of ``dst_w`` x ``dst_h``.

    Attributes:
        src_w: Image width, pixels.
        src_h: Image height, pixels.
        dst_w: Network input width, pixels.
        dst_h: Network input height, pixels.
        new_w: Width the image is resized to inside the input.
        new_h: Height the image is resized to inside the input.
        left: Padding columns left of the image.
        top: Padding rows above the image.
    """

    src_w: int
    src_h: int
    dst_w: int
    dst_h: int
    new_w: int
    new_h: int
    left: int
    top: int

    @classmethod
    def fit(cls, src_w: int, src_h: int, dst_w: int, dst_h: int, keep_ratio: bool, centered: bool) -> Letterbox:
        """The placement of an image in a network input.

        Args:
            src_w: Image width.
            src_h: Image height.
            dst_w: Network input width.
            dst_h: Network input height.
            keep_ratio: Letterbox (one scale for both axes, the rest padded); False stretches to fill.
            centered: Split the padding on both sides (Ultralytics) instead of padding right and
                bottom only (YOLOX's own preprocessing).
        """
        if not keep_ratio:
            return cls(src_w, src_h, dst_w, dst_h, dst_w, dst_h, 0, 0)
        r = min(dst_w / src_w, dst_h / src_h)
        if centered:  # Ultralytics LetterBox: rounded size, padding split with a -0.1 bias to the left/top
            new_w, new_h = min(dst_w, round(src_w * r)), min(dst_h, round(src_h * r))
            left = round((dst_w - new_w) / 2 - 0.1)
            top = round((dst_h - new_h) / 2 - 0.1)
        else:  # YOLOX preproc: truncated size, image in the top-left corner
            new_w, new_h = max(1, int(src_w * r)), max(1, int(src_h * r))
            left = top = 0
        return cls(src_w, src_h, dst_w, dst_h, new_w, new_h, left, top)

    def apply(self, image: npt.NDArray[np.uint8], pad_value: int) -> npt.NDArray[np.uint8]:
        """The network-sized image: ``image`` resized into place, the rest filled with ``pad_value``."""
        if image.shape[:2] != (self.src_h, self.src_w):
            raise ValueError(f"letterbox for {self.src_w}x{self.src_h} applied to an image of shape {image.shape}")
        if (self.new_w, self.new_h) == (self.src_w, self.src_h):
            resized = image
        else:
            resized = np.asarray(cv2.resize(image, (self.new_w, self.new_h), interpolation=cv2.INTER_LINEAR))
        if (self.new_w, self.new_h, self.left, self.top) == (self.dst_w, self.dst_h, 0, 0):
            return resized
        out = np.full((self.dst_h, self.dst_w, *image.shape[2:]), pad_value, dtype=np.uint8)
        out[self.top : self.top + self.new_h, self.left : self.left + self.new_w] = resized
        return out

    def to_image(self, boxes_xyxy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Boxes (N, 4) x1, y1, x2, y2 in network pixels -> image pixels, clipped to the image."""
        sx = self.src_w / self.new_w
        sy = self.src_h / self.new_h
        out = np.empty_like(boxes_xyxy, dtype=np.float32)
        out[:, 0::2] = (boxes_xyxy[:, 0::2] - self.left) * sx
        out[:, 1::2] = (boxes_xyxy[:, 1::2] - self.top) * sy
        np.clip(out[:, 0::2], 0.0, self.src_w, out=out[:, 0::2])
        np.clip(out[:, 1::2], 0.0, self.src_h, out=out[:, 1::2])
        return out

    def to_network(self, boxes_xyxy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Boxes in image pixels -> network pixels (the forward map; tests build model outputs with it)."""
        out = np.empty_like(boxes_xyxy, dtype=np.float32)
        out[:, 0::2] = boxes_xyxy[:, 0::2] * (self.new_w / self.src_w) + self.left
        out[:, 1::2] = boxes_xyxy[:, 1::2] * (self.new_h / self.src_h) + self.top
        return out
