"""What a depth network's outputs become at the camera's resolution: depth, confidence, sky and field of view.

The estimator (:mod:`depth_node.estimator`) runs the network; this module turns its named output maps into the
frame's grid (resized, and cropped of the margin a padding model saw around the frame), applies the sky and
confidence masks to the depth, and builds the camera that a field-of-view head implies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel
from depth_node.errors import ModelError
from depth_node.input_geometry import Margin


@dataclass(frozen=True)
class DepthOutputs:
    """One frame's depth and, for a model with a confidence output, its confidence, both at the camera's size.

    Attributes:
        depth: float32 metres (H, W), NaN = unknown (sky and, with ``min_confidence``, unsure pixels included).
        confidence: float32 (H, W) in the model's own units (larger = surer), or None.
        fov_deg: The horizontal field of view the model's FOV head estimated, when it was used for the focal.
        camera: The camera the depth was computed with when it is not the one given (the focal of ``fov_deg``),
            else None.
    """

    depth: npt.NDArray[np.float32]
    confidence: npt.NDArray[np.float32] | None = None
    fov_deg: float | None = None
    camera: CameraModel | None = None


def single_map(raw: Any, name: str) -> npt.NDArray[np.float32]:
    """A (1, 1, h, w) / (1, h, w) / (h, w) output as (h, w) float32.

    Raises:
        ModelError: the output is not one image's map (a batch, or channels).
    """
    out = np.asarray(raw, dtype=np.float32)
    while out.ndim > 2 and out.shape[0] == 1:
        out = out[0]
    if out.ndim != 2:
        raise ModelError(f"output '{name}': expected a single-image map, got shape {np.shape(raw)}")
    return out


def to_camera(
    out: npt.NDArray[np.float32], camera: CameraModel, margin: Margin | None, interpolation: int = cv2.INTER_LINEAR
) -> npt.NDArray[np.float32]:
    """A network-grid map at the camera's resolution; with a margin, that margin is cropped off after the resize."""
    size = (camera.height, camera.width)
    if margin is not None and (margin.top or margin.left):
        out = margin.crop_to(out, size, interpolation)
    elif out.shape != size:
        out = np.asarray(cv2.resize(out, (camera.width, camera.height), interpolation=interpolation), np.float32)
    return np.asarray(out, np.float32)


def output_map(
    outputs: Mapping[str, npt.NDArray[Any]], name: str, camera: CameraModel, margin: Margin | None = None
) -> npt.NDArray[np.float32] | None:
    """A named per-pixel output at the camera's resolution (bilinear), or None for ""."""
    if not name:
        return None
    if name not in outputs:
        raise ModelError(f"the model spec names output '{name}' but the model's outputs are {list(outputs)}")
    return to_camera(single_map(outputs[name], name), camera, margin)


def camera_from_fov(camera: CameraModel, fov_deg: float) -> CameraModel:
    """``camera`` with the focal length of a horizontal field of view (a model's FOV head), square pixels.

    Raises:
        ModelError: the field of view is not in (0, 180) degrees.
    """
    if not (math.isfinite(fov_deg) and 0.0 < fov_deg < 180.0):
        raise ModelError(f"the model's field of view {fov_deg:.3g} deg is not usable as a focal length")
    fx = (camera.width / 2) / math.tan(math.radians(fov_deg) / 2)
    return CameraModel(camera.width, camera.height, fx, fx, camera.cx, camera.cy)


def fov_of(outputs: Mapping[str, npt.NDArray[Any]], name: str) -> float:
    """The field of view (degrees) of a model's FOV output for a one-image batch."""
    return float(np.asarray(outputs[name]).reshape(-1)[0])


def apply_masks(
    depth: npt.NDArray[np.float32],
    sky: npt.NDArray[np.float32] | None,
    sky_threshold: float,
    confidence: npt.NDArray[np.float32] | None,
    min_confidence: float,
) -> None:
    """NaN (in place) where the sky score reaches ``sky_threshold`` and where confidence is below the minimum."""
    if sky is not None:
        depth[sky >= np.float32(sky_threshold)] = np.nan
    if confidence is not None and min_confidence > 0.0:
        with np.errstate(invalid="ignore"):
            depth[~(confidence >= np.float32(min_confidence))] = np.nan
