"""What every dataset shares: an (rgb, depth) source, the augmenter, the epoch-seeded generator, tensors."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch
from torch.utils.data import Dataset

from depth_node.model_spec import IMAGENET_MEAN, IMAGENET_STD
from depth_node.training.augment import Augmenter, sample_rng, to_arrays


class PairDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Base class: subclasses implement :meth:`__len__` and :meth:`load` (raw RGB uint8 + depth metres).

    Args:
        augmenter: Brings each pair to the input size (and augments it when ``train``).
        train: Random augmentation (seeded by seed, epoch and index) or the deterministic validation path.
        seed: Run seed.
    """

    def __init__(self, augmenter: Augmenter, train: bool, seed: int = 0) -> None:
        self.augmenter = augmenter
        self.train = train
        self.seed = seed
        self.epoch = 0
        self.mean: tuple[float, float, float] = IMAGENET_MEAN
        self.std: tuple[float, float, float] = IMAGENET_STD

    def set_epoch(self, epoch: int) -> None:
        """Change the augmentation draw (call at the start of every epoch, like DistributedSampler's)."""
        self.epoch = epoch

    def __len__(self) -> int:
        raise NotImplementedError

    def load(self, index: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
        """The raw pair of sample ``index``: RGB uint8 (H, W, 3) and depth float32 (H, W), 0/NaN unknown."""
        raise NotImplementedError

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(f"sample {index} out of range 0..{len(self) - 1}")
        rgb, depth = self.load(index)
        rng = sample_rng(self.seed, self.epoch, index) if self.train else None
        rgb, depth = self.augmenter(rgb, depth, rng)
        img, d = to_arrays(rgb, depth, self.mean, self.std)
        return torch.from_numpy(img), torch.from_numpy(d)
