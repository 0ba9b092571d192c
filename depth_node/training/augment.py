"""Augmentations of the depth literature that keep the image and its depth map aligned.

They run on numpy arrays (RGB uint8 (H, W, 3), depth float32 (H, W) in metres with 0 = unknown) before the
tensors are made, with an explicit ``numpy.random.Generator`` so a (seed, epoch, index) triple always gives the
same sample. Geometric ops use nearest-neighbour for depth: interpolating across a depth edge would invent
surfaces that do not exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

Rgb = npt.NDArray[np.uint8]
Depth = npt.NDArray[np.float32]


def hflip(rgb: Rgb, depth: Depth) -> tuple[Rgb, Depth]:
    """Mirror left-right (a centred camera's mirrored view is a valid view; metric depth is unchanged)."""
    return cast(Rgb, np.ascontiguousarray(rgb[:, ::-1])), cast(Depth, np.ascontiguousarray(depth[:, ::-1]))


def rotate(rgb: Rgb, depth: Depth, degrees: float) -> tuple[Rgb, Depth]:
    """Rotate about the image centre; uncovered depth becomes 0 (unknown), uncovered colour is reflected."""
    h, w = depth.shape
    mat = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), degrees, 1.0)
    rgb_r = cv2.warpAffine(rgb, mat, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    depth_r = cv2.warpAffine(depth, mat, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return cast(Rgb, rgb_r), cast(Depth, depth_r)


def color_jitter(rgb: Rgb, rng: np.random.Generator, amount: float) -> Rgb:
    """Random brightness, contrast and saturation, each by a factor in [1 - amount, 1 + amount]."""
    img = rgb.astype(np.float32)
    brightness, contrast, saturation = rng.uniform(1.0 - amount, 1.0 + amount, 3)
    img *= brightness
    mean = img.mean()
    img = (img - mean) * contrast + mean
    grey = img.mean(axis=2, keepdims=True)
    img = (img - grey) * saturation + grey
    return np.clip(img, 0.0, 255.0).astype(np.uint8)


def random_crop(rgb: Rgb, depth: Depth, width: int, height: int, rng: np.random.Generator) -> tuple[Rgb, Depth]:
    """A random ``width`` x ``height`` window (no resize, so the focal length in pixels is unchanged).

    Raises:
        ValueError: the image is smaller than the window.
    """
    h, w = depth.shape
    if w < width or h < height:
        raise ValueError(f"cannot crop {width}x{height} from a {w}x{h} image")
    x0 = int(rng.integers(0, w - width + 1))
    y0 = int(rng.integers(0, h - height + 1))
    return rgb[y0 : y0 + height, x0 : x0 + width], depth[y0 : y0 + height, x0 : x0 + width]


def center_crop(rgb: Rgb, depth: Depth, width: int, height: int) -> tuple[Rgb, Depth]:
    """The centred window (validation counterpart of :func:`random_crop`)."""
    h, w = depth.shape
    if w < width or h < height:
        raise ValueError(f"cannot crop {width}x{height} from a {w}x{h} image")
    x0, y0 = (w - width) // 2, (h - height) // 2
    return rgb[y0 : y0 + height, x0 : x0 + width], depth[y0 : y0 + height, x0 : x0 + width]


def resize_pair(rgb: Rgb, depth: Depth, width: int, height: int) -> tuple[Rgb, Depth]:
    """Resize both to the network input (image bilinear/area, depth nearest), as the estimator resizes frames."""
    if rgb.shape[:2] == (height, width):
        return rgb, depth
    shrink = width < rgb.shape[1]
    rgb_r = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    depth_r = cv2.resize(depth, (width, height), interpolation=cv2.INTER_NEAREST)
    return cast(Rgb, rgb_r), cast(Depth, depth_r)


@dataclass(frozen=True)
class Augmenter:
    """The configured chain: crop (or resize) to the input size, flip, rotate, colour jitter.

    Attributes:
        width: Network input width.
        height: Network input height.
        hflip: Random horizontal flip.
        rotate_deg: Maximum absolute rotation, degrees.
        color_jitter: Jitter amplitude (0 = off).
        crop: Random crop to the input size instead of resizing (for sources larger than it).
    """

    width: int
    height: int
    hflip: bool = True
    rotate_deg: float = 5.0
    color_jitter: float = 0.2
    crop: bool = False

    def __call__(self, rgb: Rgb, depth: Depth, rng: np.random.Generator | None) -> tuple[Rgb, Depth]:
        """Augment one pair; ``rng=None`` means validation: only the deterministic resize or centre crop."""
        if rng is None:
            if self.crop:
                return center_crop(rgb, depth, self.width, self.height)
            return resize_pair(rgb, depth, self.width, self.height)
        if self.crop:
            rgb, depth = random_crop(rgb, depth, self.width, self.height, rng)
        else:
            rgb, depth = resize_pair(rgb, depth, self.width, self.height)
        if self.hflip and rng.random() < 0.5:
            rgb, depth = hflip(rgb, depth)
        if self.rotate_deg > 0 and rng.random() < 0.5:
            rgb, depth = rotate(rgb, depth, float(rng.uniform(-self.rotate_deg, self.rotate_deg)))
        if self.color_jitter > 0:
            rgb = color_jitter(rgb, rng, self.color_jitter)
        return rgb, depth


def to_arrays(
    rgb: Rgb, depth: Depth, mean: tuple[float, float, float], std: tuple[float, float, float]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Normalised CHW float32 image (scale 1/255, mean, std: the ModelSpec's) and (1, H, W) depth, NaN -> 0."""
    scaled = rgb.astype(np.float32) * np.float32(1.0 / 255.0)
    img = (scaled - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    d = np.nan_to_num(depth.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32), d[None]


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The augmentation generator of one sample in one epoch (independent of worker count and order)."""
    return np.random.default_rng([seed, epoch, index, int(math.pi * 1e6)])
