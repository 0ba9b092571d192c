"""The procedural world as a dataset, rendered on the fly or from a pre-rendered numpy cache.

Sample ``i`` is :func:`~depth_node.evaluation.world.render_sample` of seed ``first_seed + i``, so a split is defined
by its seed range alone and held-out splits are disjoint by construction. Rendering at 160x120 costs a few
milliseconds, which on a 2-core machine is as much as a training step's share; the cache renders each sample
once (``np.memmap`` files, safe to share between DataLoader workers and DDP processes).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from depth_node.evaluation.world import PoseRange, camera_for, render_sample
from depth_node.training.augment import Augmenter
from depth_node.training.datasets.base import PairDataset


class SyntheticDataset(PairDataset):
    """Rendered (RGB, depth) pairs of seeds ``first_seed .. first_seed + count - 1``.

    Args:
        count: Number of samples.
        first_seed: Seed of sample 0.
        camera_size: (width, height) of the rendering camera.
        fx_over_width: Focal length over width of that camera.
        augmenter: See :class:`PairDataset`.
        train: See :class:`PairDataset`.
        seed: See :class:`PairDataset`.
        cache_dir: Directory of a pre-rendered cache made by :meth:`build_cache` (None: render on the fly).
        pose_range: Camera heights and pitches (default: the world's robot webcam).
        floor_clutter: Share of samples with low boxes and thin-legged furniture in front of the camera
            (:func:`depth_node.evaluation.world.sample_view`; 0 = the original world).
        passages: Share of samples with a wall across the view open in one narrow passage (0 = none).
    """

    def __init__(
        self,
        count: int,
        first_seed: int,
        camera_size: tuple[int, int],
        fx_over_width: float,
        augmenter: Augmenter,
        train: bool,
        seed: int = 0,
        cache_dir: str | Path | None = None,
        pose_range: PoseRange | None = None,
        floor_clutter: float = 0.0,
        passages: float = 0.0,
    ) -> None:
        super().__init__(augmenter, train, seed)
        if count < 1:
            raise ValueError(f"synthetic dataset needs count >= 1, got {count}")
        self.count = count
        self.first_seed = first_seed
        self.camera = camera_for(camera_size[0], camera_size[1], fx_over_width)
        self.pose_range = pose_range or PoseRange()
        self.floor_clutter = floor_clutter
        self.passages = passages
        self.cache: tuple[npt.NDArray[np.uint8], npt.NDArray[np.float16]] | None = None
        if cache_dir:
            self.cache = self._open_cache(Path(cache_dir))

    def __len__(self) -> int:
        return self.count

    def render(self, index: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
        """Render sample ``index`` (ignores the cache)."""
        frame = render_sample(self.first_seed + index, self.camera, self.pose_range, self.floor_clutter, self.passages)
        return frame.rgb, frame.depth

    def load(self, index: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
        """The cached pair, or a fresh render."""
        if self.cache is None:
            return self.render(index)
        rgb, depth = self.cache
        return np.asarray(rgb[index]), np.asarray(depth[index], dtype=np.float32)

    def _key(self) -> str:
        c, pr = self.camera, self.pose_range
        # Everything that changes the pixels is in the name, so a stale cache is never reused.
        poses = "_".join(str(round(v * 1000)) for v in (*pr.height, *pr.pitch, pr.margin))
        clutter = f"_c{round(self.floor_clutter * 1000)}" if self.floor_clutter > 0.0 else ""
        clutter += f"_g{round(self.passages * 1000)}" if self.passages > 0.0 else ""
        return f"syn_s{self.first_seed}_n{self.count}_{c.width}x{c.height}_f{round(c.fx * 1000)}_p{poses}{clutter}"

    def _open_cache(self, root: Path) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float16]]:
        base = root / self._key()
        meta = base.with_suffix(".json")
        if not meta.exists():
            raise FileNotFoundError(f"no synthetic cache at {meta}; build it with SyntheticDataset.build_cache")
        c = self.camera
        rgb = np.memmap(base.with_suffix(".rgb.u8"), np.uint8, "r", shape=(self.count, c.height, c.width, 3))
        depth = np.memmap(base.with_suffix(".depth.f16"), np.float16, "r", shape=(self.count, c.height, c.width))
        return rgb, depth

    def build_cache(self, root: str | Path, progress: bool = True) -> Path:
        """Render every sample once into ``root`` (skipped when complete); returns the metadata path.

        Files are written under temporary names and renamed when complete, so an interrupted build is redone
        rather than read half-written.
        """
        base = Path(root) / self._key()
        meta = base.with_suffix(".json")
        if meta.exists():
            return meta
        base.parent.mkdir(parents=True, exist_ok=True)
        c = self.camera
        tmp_rgb, tmp_depth = Path(f"{base}.rgb.u8.tmp"), Path(f"{base}.depth.f16.tmp")
        rgb = np.memmap(tmp_rgb, np.uint8, "w+", shape=(self.count, c.height, c.width, 3))
        depth = np.memmap(tmp_depth, np.float16, "w+", shape=(self.count, c.height, c.width))
        indices = range(self.count)
        if progress:
            from tqdm import tqdm

            indices = tqdm(indices, desc=f"rendering {base.name}", mininterval=5.0)
        for i in indices:
            r, d = self.render(i)
            rgb[i] = r
            depth[i] = np.nan_to_num(d, nan=0.0, posinf=0.0)
        rgb.flush()
        depth.flush()
        del rgb, depth
        os.replace(tmp_rgb, base.with_suffix(".rgb.u8"))
        os.replace(tmp_depth, base.with_suffix(".depth.f16"))
        tmp_meta = Path(f"{meta}.tmp")
        tmp_meta.write_text(json.dumps({"count": self.count, "first_seed": self.first_seed, "camera": c.k}))
        os.replace(tmp_meta, meta)
        return meta
