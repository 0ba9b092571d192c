"""Datasets read tiny files written here in each format; augmentations keep image and depth aligned."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from depth_node.errors import ParameterError
from depth_node.training.augment import Augmenter, color_jitter, hflip, random_crop, rotate
from depth_node.training.datasets.real import open_real_dataset
from depth_node.training.datasets.synthetic import SyntheticDataset

AUG = Augmenter(32, 32, hflip=False, rotate_deg=0.0, color_jitter=0.0)


def pair(h: int = 32, w: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """An image whose red channel is the column index and a depth that encodes the column too."""
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[..., 0] = np.arange(w, dtype=np.uint8)[None, :]
    depth = np.tile(1.0 + np.arange(w, dtype=np.float32) / 10, (h, 1))
    return rgb, depth


def test_hflip_crop_keep_alignment() -> None:
    rgb, depth = pair()
    f_rgb, f_depth = hflip(rgb, depth)
    np.testing.assert_allclose(f_depth, 1.0 + f_rgb[..., 0].astype(np.float32) / 10)
    c_rgb, c_depth = random_crop(rgb, depth, 16, 8, np.random.default_rng(3))
    assert c_rgb.shape == (8, 16, 3)
    np.testing.assert_allclose(c_depth, 1.0 + c_rgb[..., 0].astype(np.float32) / 10)
    with pytest.raises(ValueError, match="cannot crop 64x8 from a 40x32 image"):
        random_crop(rgb, depth, 64, 8, np.random.default_rng(0))


def test_rotation_keeps_alignment_and_marks_borders_unknown() -> None:
    rgb, depth = pair(41, 41)
    _r_rgb, r_depth = rotate(rgb, depth, 10.0)
    assert r_depth[0, 0] == 0.0  # uncovered corner: unknown, never a made-up depth
    inside = r_depth > 0
    np.testing.assert_allclose(r_depth[20, 20], depth[20, 20])  # the centre does not move
    assert set(np.unique(r_depth[inside])) <= set(np.unique(depth))  # nearest neighbour: no new depths


def test_color_jitter_changes_colour_not_shape() -> None:
    rgb, _ = pair()
    rgb[..., 1] = 128
    out = color_jitter(rgb, np.random.default_rng(0), 0.3)
    assert out.shape == rgb.shape and out.dtype == np.uint8 and not np.array_equal(out, rgb)


def test_synthetic_dataset_cache_equals_rendering(tmp_path: Path) -> None:
    live = SyntheticDataset(3, 5, (32, 24), 0.8, AUG, train=False)
    live.build_cache(tmp_path)
    cached = SyntheticDataset(3, 5, (32, 24), 0.8, AUG, train=False, cache_dir=tmp_path)
    assert len(cached) == 3
    img, depth = cached[1]
    assert img.shape == (3, 32, 32) and depth.shape == (1, 32, 32)
    live_img, live_depth = live[1]
    np.testing.assert_array_equal(img.numpy(), live_img.numpy())
    np.testing.assert_allclose(depth.numpy(), live_depth.numpy(), rtol=1e-3)  # float16 cache
    with pytest.raises(IndexError):
        cached[3]


def test_nyu_labeled_mat(tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "nyu_depth_v2_labeled.mat"
    rgb, depth = pair(32, 40)
    with h5py.File(path, "w") as f:  # MATLAB v7.3 layout: (N, 3, W, H) and (N, W, H)
        f["images"] = np.stack([rgb.transpose(2, 1, 0)] * 4)
        f["depths"] = np.stack([depth.T] * 4)
    ds = open_real_dataset("nyu_mat", path, AUG, train=False)
    got_rgb, got_depth = ds.load(2)
    np.testing.assert_array_equal(got_rgb, rgb)
    np.testing.assert_array_equal(got_depth, depth)
    train, val = ds.split(0.5)
    assert len(train) + len(val) == 4 and not set(train.indices) & set(val.indices)


def test_nyu_densedepth_csv(tmp_path: Path) -> None:
    rgb, _ = pair(32, 40)
    (tmp_path / "data" / "nyu2_train").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "data/nyu2_train/1.jpg"), rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 100])
    cv2.imwrite(str(tmp_path / "data/nyu2_train/1.png"), np.full((32, 40), 51, np.uint8))  # 8-bit: 51/255*10 = 2 m
    cv2.imwrite(str(tmp_path / "data/nyu2_train/2.png"), np.full((32, 40), 2500, np.uint16))  # 16-bit mm
    csv_path = tmp_path / "data" / "nyu2_train.csv"
    csv_path.write_text("data/nyu2_train/1.jpg,data/nyu2_train/1.png\ndata/nyu2_train/1.jpg,data/nyu2_train/2.png\n")
    ds = open_real_dataset("nyu_csv", csv_path, AUG, train=False)
    assert ds.load(0)[1][0, 0] == pytest.approx(2.0)
    assert ds.load(1)[1][0, 0] == pytest.approx(2.5)
    assert np.abs(ds.load(0)[0].astype(int) - rgb).max() <= 3  # JPEG


def test_kitti_png_over_256(tmp_path: Path) -> None:
    rgb, _ = pair(32, 40)
    depth = np.zeros((32, 40), np.uint16)
    depth[10, 10] = 256 * 12 + 128  # 12.5 m; zeros are "no LiDAR return"
    cv2.imwrite(str(tmp_path / "img.png"), rgb[..., ::-1])
    cv2.imwrite(str(tmp_path / "gt.png"), depth)
    lst = tmp_path / "eigen_train_files_with_gt.txt"
    lst.write_text("img.png gt.png 721.5377\nimg.png None 721.5377\n")
    ds = open_real_dataset("kitti", lst, AUG, train=True)
    assert len(ds) == 1
    got_rgb, got_depth = ds.load(0)
    assert got_depth[10, 10] == pytest.approx(12.5) and got_depth[0, 0] == 0.0
    np.testing.assert_array_equal(got_rgb, rgb)
    img, d = ds[0]
    assert img.shape == (3, 32, 32) and d.shape == (1, 32, 32)


def test_real_dataset_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="does not exist"):
        open_real_dataset("kitti", tmp_path / "missing.txt", AUG, train=True)
    bad = tmp_path / "list.txt"
    bad.write_text("only_one_column\n")
    with pytest.raises(ParameterError, match=r"list.txt:1: expected"):
        open_real_dataset("kitti", bad, AUG, train=True)
