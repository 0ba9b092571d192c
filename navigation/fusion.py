"""Detections x depth -> 3-D obstacles (class, distance, bearing, extent).

A 2-D box covers the object and some background around it. The distance is therefore read from the
box shrunk by a margin, and as a low percentile of the valid depth there: the object is the nearest
surface in its own box, and a low percentile ignores the background behind it without trusting a
single noisy pixel the way a minimum would. The percentile is taken of the forward (base-frame x)
distance of each pixel's point rather than of the raw optical depth: over an upright surface the former
is constant, while the optical depth of a pitched camera changes from row to row, which would bias the
percentile towards the top of the box. Too few valid pixels and the distance is unknown (NaN),
while the bearing, which only needs the box centre, is still reported, so a target can be steered
towards before its distance is known.

Boxes are assumed to be a plain (stretched) resize of the camera image when the detector works at its
own input resolution (``detector_width`` x ``detector_height``); a letterboxing detector must undo its
padding before publishing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel
from depth_node.errors import ImageDecodeError
from depth_node.frames import level_from_optical
from depth_node.types import Detection2D, Obstacle
from navigation.freespace import optical_to_base, pixel_bearing
from navigation.params import ObstacleAvoidanceParams


def box_to_depth_pixels(
    det: Detection2D, camera: CameraModel, depth_shape: tuple[int, int], params: ObstacleAvoidanceParams
) -> tuple[float, float, float, float]:
    """A detection's (centre u, centre v, width, height) in the pixels of the depth image.

    Boxes come in camera-image pixels, or in detector-network pixels when ``detector_width`` is set;
    the depth may have yet another resolution. Centres map as pixel centres do under ``cv2.resize``,
    u' = (u + 0.5) * s - 0.5, sizes scale by s.
    """
    height, width = depth_shape
    src_w = params.detector_width or camera.width
    src_h = params.detector_height or camera.height
    sx, sy = width / src_w, height / src_h
    return (
        (det.center_x + 0.5) * sx - 0.5,
        (det.center_y + 0.5) * sy - 0.5,
        det.size_x * sx,
        det.size_y * sy,
    )


def floor_point(
    camera: CameraModel, u: float, v: float, height_m: float, pitch_rad: float
) -> tuple[float, float] | None:
    """Where the ray through pixel (u, v) meets a flat floor ``height_m`` below the camera: (forward, left), m.

    The ground contact of an object standing on the floor is the bottom edge of its 2-D box, and flat-floor
    geometry (the camera's height and pitch) places it without any depth: a network that lays a low box flat
    on the floor puts its pixels farther than the box, but the box's bottom edge still meets the floor where
    the box stands. None at or above the horizon (the ray never meets the floor).
    """
    forward, left, down = pixel_ray(camera, u, v, pitch_rad)
    if down <= 1e-9:
        return None
    depth = height_m / down
    return forward * depth, left * depth


def pixel_ray(camera: CameraModel, u: float, v: float, pitch_rad: float) -> tuple[float, float, float]:
    """(forward, left, down) per metre of optical depth of the ray through pixel (u, v), the camera pitched down."""
    forward, left, down = level_from_optical((u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, 1.0, pitch_rad)
    return float(forward), float(left), float(down)


def valid_box(box: tuple[float, float, float, float], score: float) -> bool:
    """Whether a box (in depth pixels) and its score are finite, with sizes >= 0.

    A detector's NaN or negative box would otherwise reach ``math.ceil`` (ValueError on NaN,
    OverflowError on inf) or place an obstacle at NaN; such a box says nothing, so it is skipped.
    """
    return all(math.isfinite(v) for v in (*box, score)) and box[2] >= 0.0 and box[3] >= 0.0


def robust_depth(
    depth: npt.NDArray[np.floating],
    box: tuple[float, float, float, float],
    margin: float,
    percentile: float,
    min_valid: int,
    row_scale: npt.NDArray[np.float64] | None = None,
) -> tuple[float, int]:
    """The ``percentile`` of the valid depth inside a box shrunk by ``margin`` on each side.

    Args:
        depth: HxW depth, metres, NaN or <= 0 = unknown.
        box: (centre u, centre v, width, height) in the depth's pixels.
        margin: Fraction of the width/height removed on each side.
        percentile: 0..100; low values make the nearest surface win.
        min_valid: Fewer valid pixels than this gives NaN.
        row_scale: Optional factor per image row applied before the percentile (the fusion passes
            the forward distance per metre of depth, so that the percentile is of a quantity that
            is constant over an upright surface whatever the camera pitch).

    Returns:
        (the percentile, or NaN when unknown; number of valid pixels used).
    """
    cu, cv, w, h = box
    half_w, half_h = 0.5 * w * (1.0 - 2.0 * margin), 0.5 * h * (1.0 - 2.0 * margin)
    rows, cols = depth.shape
    u0, u1 = max(math.ceil(cu - half_w), 0), min(math.floor(cu + half_w), cols - 1)
    v0, v1 = max(math.ceil(cv - half_h), 0), min(math.floor(cv + half_h), rows - 1)
    if u1 < u0 or v1 < v0:
        return math.nan, 0
    patch = depth[v0 : v1 + 1, u0 : u1 + 1]
    valid = np.isfinite(patch) & (patch > 0.0)
    if row_scale is not None:
        patch = patch * row_scale[v0 : v1 + 1, None]
    values = patch[valid]
    if values.size < min_valid:
        return math.nan, int(values.size)
    return float(np.percentile(values, percentile)), int(values.size)


def forward_per_depth(camera: CameraModel, rows: int, pitch: float) -> npt.NDArray[np.float64]:
    """Base-frame forward distance per metre of optical depth, per image row (the camera pitched down by ``pitch``).

    ``camera`` is the model at the depth's resolution; :func:`robust_depth` turns a box's depths into forward
    distances with it (fusion and the detected obstacles read the same rows the same way).
    """
    ry_rows = (np.arange(rows, dtype=np.float64) - camera.cy) / camera.fy
    return math.cos(pitch) - ry_rows * math.sin(pitch)


def fuse_detections(
    detections: Iterable[Detection2D],
    depth: npt.NDArray[np.floating],
    camera: CameraModel,
    params: ObstacleAvoidanceParams,
) -> list[Obstacle]:
    """Place each detection in 3-D with the depth inside its box.

    Args:
        detections: Boxes in camera-image pixels (or detector pixels, see the parameters); those
            scoring under ``min_detection_score`` are dropped, and so are boxes with a NaN or infinite
            coordinate, a negative size or a NaN score (see :func:`valid_box`).
        depth: float HxW, metres along the optical axis, NaN = unknown.
        camera: Model of the camera image the boxes refer to; rescaled to the depth's resolution.
        params: Margin, percentile, minimum valid pixels, detector size, camera height and pitch.

    Returns:
        One obstacle per kept detection, in input order; ``distance_m`` NaN where unknown.

    Raises:
        ImageDecodeError: the depth is not a 2-D array.
    """
    if depth.ndim != 2:
        raise ImageDecodeError(f"depth must be a 2-D array, got shape {depth.shape}")
    rows, cols = depth.shape
    cam = camera.rescaled(cols, rows)
    cos_p, sin_p = math.cos(params.camera_pitch_rad), math.sin(params.camera_pitch_rad)
    per_depth = forward_per_depth(cam, rows, params.camera_pitch_rad)
    obstacles: list[Obstacle] = []
    for det in detections:
        if not det.score >= params.min_detection_score:  # NaN scores too
            continue
        box = box_to_depth_pixels(det, camera, (rows, cols), params)
        if not valid_box(box, det.score):
            continue
        cu, cv, w, h = box
        forward, count = robust_depth(
            depth, box, params.box_margin, params.depth_percentile, params.min_valid_pixels, per_depth
        )
        bearing = float(pixel_bearing(cam, cu, cv, params.camera_pitch_rad))
        rx, ry = (cu - cam.cx) / cam.fx, (cv - cam.cy) / cam.fy
        # The centre point: on the ray through the box centre, at the robust forward distance.
        z = forward / max(cos_p - ry * sin_p, 1e-6)
        center = (rx * z, ry * z, z)
        base = optical_to_base(center, params.camera_height_m, params.camera_pitch_rad)
        extent = w * z / cam.fx
        obstacles.append(
            Obstacle(
                class_id=det.class_id,
                score=det.score,
                distance_m=float(math.hypot(base[0], base[1])),
                bearing_rad=bearing,
                lateral_extent_m=extent,
                depth_m=z,
                center=(float(center[0]), float(center[1]), float(center[2])),
                size=(extent, h * z / cam.fy, extent),
                valid_pixels=count,
            )
        )
    return obstacles
