"""``depth-node predict IMAGE... --out DIR``: depth of image files, .npy arrays or directories of them, no ROS."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node.commands.common import add_model_arguments, build_estimator, load_params
from depth_node.depth_files import depth_to_mm
from depth_node.errors import ImageDecodeError, ParameterError
from depth_node.fileio import atomic_write_with

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".npy"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the predict command."""
    parser.add_argument(
        "images",
        type=Path,
        nargs="+",
        metavar="IMAGE",
        help="image files (png, jpg, 8- or 16-bit), .npy arrays (HxW or HxWx3 RGB; uint8, uint16 or float 0-1), "
        "or directories of them",
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="output directory (created when the first depth is written)"
    )
    add_model_arguments(parser)
    parser.add_argument(
        "--hfov-deg",
        type=float,
        default=None,
        help="horizontal field of view of the camera; default: the model's own estimate where it has a field-of-view "
        "head (Depth Pro), else the model's training focal (no rescale)",
    )


def _write_png(path: Path, image: np.ndarray) -> None:
    import cv2

    if not cv2.imwrite(str(path), image):
        raise OSError(f"OpenCV could not write '{path}'")


def list_inputs(paths: list[Path]) -> list[Path]:
    """The image files named, a directory standing for the images directly in it (sorted).

    Raises:
        ImageDecodeError: a path is missing, a directory holds no image, or two inputs share a name
            (their outputs would overwrite each other).
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(f for f in path.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise ImageDecodeError(f"directory '{path}' holds no image ({', '.join(sorted(IMAGE_SUFFIXES))})")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ImageDecodeError(f"image '{path}' does not exist")
    stems: dict[str, Path] = {}
    for f in files:
        if f.stem in stems:
            raise ImageDecodeError(f"'{stems[f.stem]}' and '{f}' would both write {f.stem}_depth.*; rename one")
        stems[f.stem] = f
    return files


def array_to_rgb(array: np.ndarray, name: str) -> npt.NDArray[np.uint8]:
    """An image array from a .npy file as RGB uint8: HxW (mono) or HxWx3/4 (RGB/RGBA order).

    uint16 keeps its upper byte; floats are read as 0-1 (or 0-255 when larger values occur).

    Raises:
        ImageDecodeError: a shape or dtype that is not an image.
    """
    if array.ndim == 3 and array.shape[2] in (3, 4):
        array = array[..., :3]
    elif array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or min(array.shape[:2]) < 2:
        raise ImageDecodeError(f"'{name}': array of shape {array.shape} is not an image (HxW or HxWx3 RGB)")
    if array.dtype == np.uint8:
        pixels = array
    elif array.dtype == np.uint16:
        pixels = (array >> 8).astype(np.uint8)
    elif np.issubdtype(array.dtype, np.floating):
        finite = np.where(np.isfinite(array), array, 0.0)
        scale = 255.0 if float(finite.max(initial=0.0)) <= 1.0 else 1.0
        pixels = np.clip(np.round(finite * scale), 0, 255).astype(np.uint8)
    else:
        raise ImageDecodeError(f"'{name}': array of dtype {array.dtype} is not an image (uint8, uint16 or float)")
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    return np.ascontiguousarray(pixels, dtype=np.uint8)


@contextlib.contextmanager
def _opencv_silent(cv2: Any) -> Iterator[None]:
    """OpenCV's own log off for the duration (its WARN/ERROR lines about a broken file would precede ours)."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:  # an OpenCV without the logging binding: nothing to silence with
        yield
        return
    old = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging.setLogLevel(old)


def read_rgb(path: Path) -> npt.NDArray[np.uint8]:
    """The RGB pixels of an image file or .npy array.

    The file is read by numpy and decoded from memory (``cv2.imdecode``) with OpenCV's log silenced, so a
    file OpenCV cannot read gives this package's one-line error, not OpenCV's own WARN lines first.

    Raises:
        ImageDecodeError: the file cannot be read or decoded.
    """
    import cv2

    from depth_node import image_codec

    try:
        if path.suffix.lower() == ".npy":
            return array_to_rgb(np.load(path, allow_pickle=False), str(path))
        data = np.fromfile(path, dtype=np.uint8)
    except (OSError, ValueError) as exc:
        raise ImageDecodeError(f"image '{path}' cannot be read: {exc}") from exc
    rgb = None
    if data.size:
        with _opencv_silent(cv2):
            rgb = image_codec.decode_file_rgb8(data)
    if rgb is None:
        raise ImageDecodeError(f"image '{path}' cannot be decoded (not an image format OpenCV reads)")
    return rgb


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out '{out}' is a file, not a directory")


def _make_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"--out '{out}' cannot be created: {exc.strerror or exc}") from exc


def run(args: argparse.Namespace) -> int:
    """Write NAME_depth.npy, NAME_depth_mm.png and NAME_depth_color.png for every image."""
    from depth_node.camera import camera_for_image
    from depth_node.colorize import colorize_depth
    from depth_node.floor_affine import AffineFit

    _check_out(args.out)
    inputs = list_inputs(args.images)  # every path checked before the model loads or --out appears
    params = load_params(args)
    estimator = build_estimator(params)
    floor_scaler = params.floor_scaler()
    for path in inputs:
        rgb = read_rgb(path)
        h, w = rgb.shape[:2]
        camera = camera_for_image(w, h, hfov_deg=args.hfov_deg, focal_reference=estimator.spec.focal_reference)
        # Without --hfov-deg a model with a field-of-view head (Depth Pro) estimates the focal itself.
        predicted = estimator.predict_outputs(rgb, camera, focal_known=args.hfov_deg is not None)
        depth = predicted.depth
        if predicted.fov_deg is not None:
            print(f"{path}: focal from the model's field of view {predicted.fov_deg:.1f} deg (no --hfov-deg)")
        if floor_scaler is not None:
            depth, fit = floor_scaler.apply(depth, camera)
            shift = f", shift {fit.shift:.4f} 1/m" if isinstance(fit, AffineFit) else ""
            state = "applied" if fit.found else "no floor found, " + ("previous line used" if shift else "not applied")
            print(f"{path}: floor scale {fit.scale:.4g}{shift} ({state})")
        mm = depth_to_mm(depth)
        colored = colorize_depth(depth, params.colored_min_m, params.colored_max_m)
        _make_out(args.out)
        atomic_write_with(args.out / f"{path.stem}_depth.npy", partial(np.save, arr=depth))
        atomic_write_with(args.out / f"{path.stem}_depth_mm.png", partial(_write_png, image=mm))
        atomic_write_with(args.out / f"{path.stem}_depth_color.png", partial(_write_png, image=colored))
        valid = np.isfinite(depth)
        median = float(np.median(depth[valid])) if valid.any() else float("nan")
        print(
            f"{path}: {w}x{h}, median depth {median:.2f} m, {valid.mean():.0%} valid -> {args.out / path.stem}_depth.*"
        )
    return 0
