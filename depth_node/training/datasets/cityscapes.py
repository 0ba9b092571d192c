"""Cityscapes: ``leftImg8bit`` images with the SGM ``disparity`` PNGs, turned into metric depth per image.

Layout of the official release (``data.path`` is its root; the training set reads split ``train``, a
``data.val_path`` root its split ``val``)::

    ROOT/leftImg8bit/SPLIT/CITY/CITY_SEQ_FRAME_leftImg8bit.png   8-bit RGB, 2048x1024
    ROOT/disparity/SPLIT/CITY/CITY_SEQ_FRAME_disparity.png       16-bit
    ROOT/camera/SPLIT/CITY/CITY_SEQ_FRAME_camera.json            {"extrinsic": {"baseline": m, ...},
                                                                  "intrinsic": {"fx": px, ...}}

A disparity pixel ``p > 0`` means ``d = (p - 1) / 256`` pixels and depth ``baseline * fx / d`` metres;
``p == 0`` is unknown, and so is ``p == 1`` (zero disparity: a point at infinity, no usable depth). Every image
has its own calibration file, so the conversion reads the JSON next to each image rather than one constant.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from depth_node.errors import ParameterError
from depth_node.training.augment import Augmenter
from depth_node.training.datasets.real import Pair, RealDataset, _read_png, _read_rgb

IMAGE_SUFFIX = "_leftImg8bit.png"

Triple = tuple[Path, Path, Path]


def disparity_to_depth(raw: np.ndarray, baseline_m: float, fx_px: float) -> np.ndarray:
    """Cityscapes' 16-bit disparity to depth in metres, 0 where unknown (p == 0) or at infinity (p == 1)."""
    p = raw.astype(np.float32)
    d = (p - 1.0) / 256.0
    depth = np.zeros_like(p)
    valid = p > 1.0
    depth[valid] = baseline_m * fx_px / d[valid]
    return depth


def read_camera(path: Path) -> tuple[float, float]:
    """(baseline metres, fx pixels) of one camera JSON.

    Raises:
        ParameterError: unreadable file, missing keys, or non-positive values.
    """
    try:
        cam = json.loads(path.read_text())
        baseline, fx = float(cam["extrinsic"]["baseline"]), float(cam["intrinsic"]["fx"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ParameterError(
            f"{path}: expected a Cityscapes camera JSON with extrinsic.baseline and intrinsic.fx: {exc}"
        ) from exc
    if not (baseline > 0 and fx > 0):
        raise ParameterError(f"{path}: baseline {baseline} and fx {fx} must be positive")
    return baseline, fx


def find_triples(root: Path, split: str) -> list[Triple]:
    """(image, disparity, camera) paths of every image of ``split`` that has both companions, sorted.

    Raises:
        ParameterError: no ``leftImg8bit/SPLIT`` folder, or not a single complete triple in it.
    """
    images = root / "leftImg8bit" / split
    if not images.is_dir():
        raise ParameterError(f"Cityscapes root {root} has no leftImg8bit/{split} folder")
    triples = []
    for img in sorted(images.glob(f"*/*{IMAGE_SUFFIX}")):
        stem = img.name[: -len(IMAGE_SUFFIX)]
        city = img.parent.name
        disp = root / "disparity" / split / city / f"{stem}_disparity.png"
        cam = root / "camera" / split / city / f"{stem}_camera.json"
        if disp.is_file() and cam.is_file():
            triples.append((img, disp, cam))
    if not triples:
        raise ParameterError(f"no Cityscapes image in {images} has both disparity/ and camera/ files")
    return triples


class CityscapesDataset(RealDataset):
    """Cityscapes images with metric depth from disparity and each image's calibration."""

    def __init__(
        self,
        triples: list[Triple],
        augmenter: Augmenter,
        train: bool,
        seed: int = 0,
        indices: Sequence[int] | None = None,
    ) -> None:
        self.triples = triples
        super().__init__(augmenter, train, seed, len(triples), indices)

    def load_raw(self, raw_index: int) -> Pair:
        """Read the image, its disparity and its camera; depth in metres, 0 unknown."""
        img_path, disp_path, cam_path = self.triples[raw_index]
        rgb = _read_rgb(img_path)
        raw = _read_png(disp_path)
        if raw.dtype != np.uint16 or raw.ndim != 2:
            raise ParameterError(f"Cityscapes disparity {disp_path} must be single-channel 16-bit, got {raw.dtype}")
        if raw.shape != rgb.shape[:2]:
            raise ParameterError(f"{disp_path} is {raw.shape[::-1]} but {img_path} is {rgb.shape[1::-1]}")
        return rgb, disparity_to_depth(raw, *read_camera(cam_path))

    def subset(self, indices: Sequence[int], train: bool) -> RealDataset:
        """See :meth:`RealDataset.subset`."""
        return CityscapesDataset(self.triples, self.augmenter, train, self.seed, indices)


def open_cityscapes(root: Path, augmenter: Augmenter, train: bool, seed: int = 0) -> CityscapesDataset:
    """Split ``train`` of ``root`` for training, split ``val`` for validation."""
    return CityscapesDataset(find_triples(root, "train" if train else "val"), augmenter, train, seed)
