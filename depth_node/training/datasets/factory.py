"""Build the training and validation datasets a config names."""

from __future__ import annotations

import functools
from pathlib import Path

from depth_node.errors import ParameterError
from depth_node.training.augment import Augmenter
from depth_node.training.config import TrainConfig
from depth_node.training.datasets.base import PairDataset


def _augmenter(config: TrainConfig) -> Augmenter:
    a, m = config.augment, config.model
    return Augmenter(m.input_width, m.input_height, a.hflip, a.rotate_deg, a.color_jitter, a.crop)


def build_datasets(config: TrainConfig, build_cache: bool = True) -> tuple[PairDataset, PairDataset]:
    """(train, validation) datasets; the synthetic cache is rendered first when configured and ``build_cache``.

    Raises:
        ParameterError: a real dataset kind without ``data.path``.
    """
    d = config.data
    aug = _augmenter(config)
    if d.kind == "synthetic":
        from depth_node.training.datasets.synthetic import SyntheticDataset

        size = (d.camera_width, d.camera_height)
        cache = d.cache_dir or None
        splits = []
        for count, first, train in ((d.train_count, d.train_seed, True), (d.val_count, d.val_seed, False)):
            # The extras are for training only: validation stays the original world, comparable across runs.
            clutter, passages = (d.floor_clutter, d.passages) if train else (0.0, 0.0)
            split = functools.partial(
                SyntheticDataset,
                count,
                first,
                size,
                d.fx_over_width,
                aug,
                train,
                config.seed,
                floor_clutter=clutter,
                passages=passages,
            )
            if cache and build_cache:
                split(None).build_cache(cache)
            splits.append(split(cache))
        return splits[0], splits[1]
    if not d.path:
        raise ParameterError(f"data.path is required for data.kind '{d.kind}'")
    from depth_node.training.datasets.real import open_real_dataset

    train_set = open_real_dataset(d.kind, Path(d.path), aug, train=True, seed=config.seed)
    if d.val_path:
        val_set = open_real_dataset(d.kind, Path(d.val_path), aug, train=False, seed=config.seed)
        return train_set, val_set
    return train_set.split(d.val_fraction)
