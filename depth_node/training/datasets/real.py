"""Real datasets users train on with their own copies: NYU Depth V2 and KITTI depth.

* ``nyu_mat``: the official ``nyu_depth_v2_labeled.mat`` (MATLAB v7.3 = HDF5, read with h5py): ``images``
  stored as (N, 3, W, H) uint8 and ``depths`` as (N, W, H) float metres (MATLAB's column-major order, hence the
  transposes).
* ``nyu_csv``: the DenseDepth-style release: a CSV of ``rgb_path,depth_path`` lines, paths relative to the
  CSV's folder or its parent. Depth PNGs are 8-bit (0..255 = 0..10 m, the training set) or 16-bit millimetres
  (the test set).
* ``kitti``: a BTS-style list file, ``rgb_path depth_path [focal]`` per line relative to the list's folder;
  depth PNGs are 16-bit with depth = value / 256 m and 0 = no LiDAR return. Lines whose depth is ``None`` are
  skipped.
* ``cityscapes``: a Cityscapes root (``leftImg8bit``, ``disparity``, ``camera``); see
  :mod:`depth_node.training.datasets.cityscapes`.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from depth_node import image_codec
from depth_node.depth_files import MM_PER_M
from depth_node.errors import ParameterError
from depth_node.training.augment import Augmenter
from depth_node.training.datasets.base import PairDataset

Pair = tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]


class RealDataset(PairDataset):
    """A real dataset restricted to ``indices`` (so that one file can give both train and validation)."""

    def __init__(self, augmenter: Augmenter, train: bool, seed: int, size: int, indices: Sequence[int] | None) -> None:
        super().__init__(augmenter, train, seed)
        self.size = size
        self.indices = list(range(size)) if indices is None else list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def load(self, index: int) -> Pair:
        """The raw pair of the ``index``-th selected sample."""
        return self.load_raw(self.indices[index])

    def load_raw(self, raw_index: int) -> Pair:
        """The raw pair of sample ``raw_index`` of the whole file."""
        raise NotImplementedError

    def subset(self, indices: Sequence[int], train: bool) -> RealDataset:
        """The same source restricted to other indices."""
        raise NotImplementedError

    def split(self, val_fraction: float) -> tuple[RealDataset, RealDataset]:
        """(train, validation): every k-th sample is held out (spread over scenes, deterministic)."""
        if not 0.0 < val_fraction < 1.0 or len(self.indices) < 2:
            raise ParameterError(f"data.val_fraction must be in (0, 1) with >= 2 samples, got {val_fraction}")
        step = max(2, round(1.0 / val_fraction))
        val = self.indices[::step]
        train = [i for i in self.indices if i not in set(val)]
        return self.subset(train, True), self.subset(val, False)


def _read_rgb(path: Path) -> npt.NDArray[np.uint8]:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f"cannot read image {path}")
    return image_codec.bgr_to_rgb8(img)


def _read_png(path: Path) -> npt.NDArray[np.generic]:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise FileNotFoundError(f"cannot read depth image {path}")
    return img


class NyuMatDataset(RealDataset):
    """NYU Depth V2 labeled .mat (1449 frames, 640x480)."""

    def __init__(
        self, path: Path, augmenter: Augmenter, train: bool, seed: int = 0, indices: Sequence[int] | None = None
    ) -> None:
        import h5py

        self.path = path
        try:
            with h5py.File(path, "r") as f:
                size = int(f["depths"].shape[0])
        except (OSError, KeyError) as exc:
            raise ParameterError(f"{path} is not an NYU labeled .mat with 'images' and 'depths': {exc}") from exc
        super().__init__(augmenter, train, seed, size, indices)

    def load_raw(self, raw_index: int) -> Pair:
        """Read one frame (the file is opened per read, which keeps workers and forks safe)."""
        import h5py

        with h5py.File(self.path, "r") as f:
            rgb = np.asarray(f["images"][raw_index]).transpose(2, 1, 0)
            depth = np.asarray(f["depths"][raw_index], dtype=np.float32).T
        return np.ascontiguousarray(rgb, dtype=np.uint8), np.ascontiguousarray(depth)

    def subset(self, indices: Sequence[int], train: bool) -> RealDataset:
        """See :meth:`RealDataset.subset`."""
        return NyuMatDataset(self.path, self.augmenter, train, self.seed, indices)


class PairListDataset(RealDataset):
    """Datasets listed as (rgb, depth) file pairs: NYU DenseDepth CSV and KITTI list files."""

    def __init__(
        self,
        kind: str,
        pairs: list[tuple[Path, Path]],
        augmenter: Augmenter,
        train: bool,
        seed: int = 0,
        indices: Sequence[int] | None = None,
    ) -> None:
        if not pairs:
            raise ParameterError(f"{kind} list has no usable (rgb, depth) pairs")
        self.kind = kind
        self.pairs = pairs
        super().__init__(augmenter, train, seed, len(pairs), indices)

    def load_raw(self, raw_index: int) -> Pair:
        """Read one pair and convert the depth PNG to metres."""
        rgb_path, depth_path = self.pairs[raw_index]
        rgb = _read_rgb(rgb_path)
        raw = _read_png(depth_path)
        if raw.ndim == 3:
            raw = raw[..., 0]
        if self.kind == "kitti":
            if raw.dtype != np.uint16:
                raise ParameterError(f"KITTI depth {depth_path} must be 16-bit, got {raw.dtype}")
            depth = raw.astype(np.float32) / 256.0
        elif raw.dtype == np.uint16:
            depth = raw.astype(np.float32) / np.float32(MM_PER_M)  # DenseDepth test set: millimetres (0 stays 0)
        else:
            depth = raw.astype(np.float32) / 255.0 * 10.0  # DenseDepth training set: 0..255 = 0..10 m
        if depth.shape != rgb.shape[:2]:
            raise ParameterError(f"{depth_path} is {depth.shape[::-1]} but {rgb_path} is {rgb.shape[1::-1]}")
        return rgb, depth

    def subset(self, indices: Sequence[int], train: bool) -> RealDataset:
        """See :meth:`RealDataset.subset`."""
        return PairListDataset(self.kind, self.pairs, self.augmenter, train, self.seed, indices)


def _resolve(base: Path, rel: str) -> Path:
    for root in (base, base.parent):
        if (root / rel).exists():
            return root / rel
    raise ParameterError(f"{rel} not found relative to {base} or {base.parent}")


def read_nyu_csv(path: Path) -> list[tuple[Path, Path]]:
    """The (rgb, depth) pairs of a DenseDepth CSV."""
    with path.open(newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    for n, row in enumerate(rows, 1):
        if len(row) < 2:
            raise ParameterError(f"{path}:{n}: expected 'rgb_path,depth_path', got {row!r}")
    return [(_resolve(path.parent, r[0].strip()), _resolve(path.parent, r[1].strip())) for r in rows]


def read_kitti_list(path: Path) -> list[tuple[Path, Path]]:
    """The (rgb, depth) pairs of a BTS-style KITTI list (lines without ground truth skipped)."""
    pairs = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 2:
            raise ParameterError(f"{path}:{n}: expected 'rgb_path depth_path [focal]', got {line!r}")
        if parts[1] == "None":
            continue
        pairs.append((_resolve(path.parent, parts[0]), _resolve(path.parent, parts[1])))
    return pairs


def open_real_dataset(kind: str, path: Path, augmenter: Augmenter, train: bool, seed: int = 0) -> RealDataset:
    """Open a real dataset by kind.

    Raises:
        ParameterError: unknown kind, missing file, or a malformed list.
    """
    if not path.exists():
        raise ParameterError(f"data.path {path} does not exist")
    if kind == "nyu_mat":
        return NyuMatDataset(path, augmenter, train, seed)
    if kind == "nyu_csv":
        return PairListDataset(kind, read_nyu_csv(path), augmenter, train, seed)
    if kind == "kitti":
        return PairListDataset(kind, read_kitti_list(path), augmenter, train, seed)
    if kind == "cityscapes":
        from depth_node.training.datasets.cityscapes import open_cityscapes

        return open_cityscapes(path, augmenter, train, seed)
    raise ParameterError(f"unknown real dataset kind {kind!r}; known: nyu_mat, nyu_csv, kitti, cityscapes")
