"""The Cityscapes loader on tiny files written in the release's directory layout, against hand-computed depth."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from depth_node.errors import ParameterError
from depth_node.training.augment import Augmenter
from depth_node.training.config import load_config
from depth_node.training.datasets.factory import build_datasets
from depth_node.training.datasets.real import open_real_dataset

AUG = Augmenter(32, 32, hflip=False, rotate_deg=0.0, color_jitter=0.0)

# Disparity PNG values and, per camera, the depth they mean: d = (p - 1) / 256, depth = baseline * fx / d.
RAW = np.array([[0, 1, 257, 513], [2049, 25601, 128, 0]], np.uint16)
# camera A: baseline 0.2 m, fx 2000 px -> baseline * fx = 400 m px
DEPTH_A = np.array([[0.0, 0.0, 400.0, 200.0], [50.0, 4.0, 806.2992126, 0.0]], np.float32)
# camera B: baseline 0.21 m, fx 2262.5 px -> 475.125 m px; p = 25601 -> d = 100 px -> 4.75125 m
DEPTH_B_AT_25601 = 4.75125


def write_frame(root: Path, split: str, city: str, frame: int, baseline: float, fx: float, **skip: bool) -> None:
    """One image, its disparity and its camera JSON in the release's layout (4 x 2 pixels, tiled up to 8 x 16)."""
    stem = f"{city}_000000_{frame:06d}"
    raw = np.tile(RAW, (4, 4))  # 8 x 16
    rgb = np.zeros((*raw.shape, 3), np.uint8)
    rgb[..., 2] = frame  # OpenCV writes BGR: the red channel of the RGB image carries the frame number
    files = {
        "leftImg8bit": (f"{stem}_leftImg8bit.png", rgb),
        "disparity": (f"{stem}_disparity.png", raw),
    }
    for folder, (name, image) in files.items():
        if skip.get(folder):
            continue
        path = root / folder / split / city / name
        path.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(path), image)
    if not skip.get("camera"):
        cam = root / "camera" / split / city / f"{stem}_camera.json"
        cam.parent.mkdir(parents=True, exist_ok=True)
        extrinsic = {"baseline": baseline, "pitch": 0.038, "roll": 0.0, "x": 1.7, "y": 0.0, "yaw": -0.0195, "z": 1.22}
        intrinsic = {"fx": fx, "fy": fx, "u0": 8.0, "v0": 4.0}
        cam.write_text(json.dumps({"extrinsic": extrinsic, "intrinsic": intrinsic}))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "cityscapes"
    write_frame(r, "train", "aachen", 19, 0.2, 2000.0)
    write_frame(r, "train", "bremen", 7, 0.21, 2262.5)
    write_frame(r, "train", "bremen", 8, 0.2, 2000.0, camera=True)  # no camera JSON: not usable, skipped
    write_frame(r, "val", "frankfurt", 3, 0.2, 2000.0)
    return r


def test_depth_from_disparity_and_each_camera(root: Path) -> None:
    ds = open_real_dataset("cityscapes", root, AUG, train=True)
    assert len(ds) == 2  # the frame without a camera file is left out
    rgb, depth = ds.load(0)  # aachen (sorted by city)
    assert rgb.shape == (8, 16, 3) and rgb[0, 0, 0] == 19
    np.testing.assert_allclose(depth, np.tile(DEPTH_A, (4, 4)), rtol=1e-6)
    _, depth_b = ds.load(1)  # bremen, its own baseline and focal length
    assert depth_b[1, 1] == pytest.approx(DEPTH_B_AT_25601, rel=1e-6)
    assert depth_b[0, 0] == 0.0 and depth_b[0, 1] == 0.0  # p == 0 unknown; p == 1 (infinitely far) unknown
    img, d = ds[0]
    assert img.shape == (3, 32, 32) and d.shape == (1, 32, 32)


def test_training_config_reads_train_and_val_splits(root: Path, tmp_path: Path) -> None:
    cfg = {"data": {"kind": "cityscapes", "path": str(root), "val_path": str(root)},
           "model": {"input_width": 32, "input_height": 32}}  # fmt: skip
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    train, val = build_datasets(load_config(path))
    assert (len(train), len(val)) == (2, 1)
    assert val.load(0)[0][0, 0, 0] == 3  # frankfurt, from the val split


def test_bad_layouts_are_named(root: Path) -> None:
    with pytest.raises(ParameterError, match="has no leftImg8bit/train folder"):
        open_real_dataset("cityscapes", root / "disparity", AUG, train=True)
    (root / "camera" / "train" / "aachen" / "aachen_000000_000019_camera.json").write_text('{"intrinsic": {}}')
    ds = open_real_dataset("cityscapes", root, AUG, train=True)
    with pytest.raises(ParameterError, match="expected a Cityscapes camera JSON with extrinsic.baseline"):
        ds.load(0)
    empty = root.parent / "empty"
    (empty / "leftImg8bit" / "val" / "x").mkdir(parents=True)
    with pytest.raises(ParameterError, match="has both disparity/ and camera/ files"):
        open_real_dataset("cityscapes", empty, AUG, train=False)
