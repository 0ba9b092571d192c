"""``depth-node predict IMAGE... --out DIR``: depth of image files, no ROS needed."""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from depth_node.commands.common import add_model_arguments, build_estimator, load_params
from depth_node.errors import ImageDecodeError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the predict command."""
    parser.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="image files (png, jpg, ...)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    add_model_arguments(parser)
    parser.add_argument(
        "--hfov-deg",
        type=float,
        default=None,
        help="horizontal field of view of the camera; default: the model's training focal (no rescale)",
    )


def _atomic_write(path: Path, write: Any) -> None:
    """Write through ``write(tmp_path)`` then rename, so a half-written file never has the final name."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_png(path: Path, image: np.ndarray) -> None:
    import cv2

    if not cv2.imwrite(str(path), image):
        raise OSError(f"OpenCV could not write '{path}'")


def run(args: argparse.Namespace) -> int:
    """Write NAME_depth.npy, NAME_depth_mm.png and NAME_depth_color.png for every image."""
    import cv2

    from depth_node.camera import CameraModel
    from depth_node.colorize import colorize_depth
    from depth_node.floor_affine import AffineFit

    params = load_params(args)
    estimator = build_estimator(params)
    floor_scaler = params.floor_scaler()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.images:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ImageDecodeError(f"image '{path}' does not exist or cannot be decoded")
        rgb = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)
        h, w = rgb.shape[:2]
        ref = estimator.spec.focal_reference
        if args.hfov_deg is not None:
            fx = (w / 2) / math.tan(math.radians(args.hfov_deg) / 2)
        elif ref is not None:
            fx = ref * w  # same normalised focal as training: no rescale
        else:
            fx = (w / 2) / math.tan(math.radians(60.0) / 2)  # unused by non-metric or focal-free models
        camera = CameraModel(w, h, fx, fx, (w - 1) / 2, (h - 1) / 2)
        depth = estimator.predict(rgb, camera)
        if floor_scaler is not None:
            depth, fit = floor_scaler.apply(depth, camera)
            shift = f", shift {fit.shift:.4f} 1/m" if isinstance(fit, AffineFit) else ""
            state = "applied" if fit.found else "no floor found, " + ("previous line used" if shift else "not applied")
            print(f"{path}: floor scale {fit.scale:.4g}{shift} ({state})")
        mm = np.where(np.isfinite(depth), np.clip(np.round(depth * 1000.0), 1, 65535), 0).astype(np.uint16)
        colored = colorize_depth(depth, params.colored_min_m, params.colored_max_m)
        _atomic_write(args.out / f"{path.stem}_depth.npy", partial(np.save, arr=depth))
        _atomic_write(args.out / f"{path.stem}_depth_mm.png", partial(_write_png, image=mm))
        _atomic_write(args.out / f"{path.stem}_depth_color.png", partial(_write_png, image=colored))
        valid = np.isfinite(depth)
        median = float(np.median(depth[valid])) if valid.any() else float("nan")
        print(
            f"{path}: {w}x{h}, median depth {median:.2f} m, {valid.mean():.0%} valid -> {args.out / path.stem}_depth.*"
        )
    return 0
