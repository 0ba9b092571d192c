"""Timing of the navigation step (fusion, scan, control) on a synthetic 640x480 depth frame.

Called by ``depth-node bench``. The frame is analytic (a floor seen from the configured camera height
and pitch, with three fronto-parallel boxes), so the numbers need no data set and are comparable
between machines. Each stage is timed on its own, and ``total`` end to end through
:class:`navigation.controller.Controller` as the node runs it (depth in, detections in, one step).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel
from depth_node.timing import median_ms
from depth_node.types import Detection2D, Scan
from navigation.controller import Controller
from navigation.freespace import VirtualScanner
from navigation.fusion import fuse_detections
from navigation.params import ObstacleAvoidanceParams

# (u0, u1, v0, v1, depth m, class) of the boxes in the synthetic frame.
_BOXES = ((60, 200, 180, 420, 1.6, "chair"), (300, 380, 120, 470, 2.5, "person"), (470, 600, 220, 330, 3.2, "table"))


def synthetic_frame(
    params: ObstacleAvoidanceParams, width: int = 640, height: int = 480
) -> tuple[npt.NDArray[np.float32], CameraModel, list[Detection2D]]:
    """A depth frame (floor + boxes, NaN above the horizon), its camera and detections of the boxes."""
    fx = width / (2.0 * math.tan(math.radians(38.0)))
    camera = CameraModel(width, height, fx, fx, (width - 1) / 2.0, (height - 1) / 2.0)
    ry = (np.arange(height, dtype=np.float64) - camera.cy) / camera.fy
    drop = ry * math.cos(params.camera_pitch_rad) + math.sin(params.camera_pitch_rad)
    with np.errstate(divide="ignore"):
        floor = np.where(drop > 1e-6, params.camera_height_m / drop, np.nan)
    depth = np.repeat(floor[:, None], width, axis=1).astype(np.float32)
    detections = []
    for u0, u1, v0, v1, z, label in _BOXES:
        depth[v0:v1, u0:u1] = np.minimum(np.nan_to_num(depth[v0:v1, u0:u1], nan=np.inf), z)
        detections.append(Detection2D((u0 + u1 - 1) / 2, (v0 + v1 - 1) / 2, u1 - u0, v1 - v0, label, 0.9))
    return depth, camera, detections


class _FixedScanner(VirtualScanner):
    """Returns a precomputed scan, so that the control stage is timed without the scan it reuses."""

    def __init__(self, params: ObstacleAvoidanceParams, scan: Scan) -> None:
        super().__init__(params)
        self._fixed = scan

    def scan(self, depth: npt.NDArray[np.floating], camera: CameraModel) -> Scan:
        """The precomputed scan, whatever the frame."""
        return self._fixed


def bench_navigation(repeats: int = 50, params: ObstacleAvoidanceParams | None = None) -> dict[str, float]:
    """Median milliseconds per stage of the navigation step at 640x480.

    Args:
        repeats: Timed runs per stage (after one untimed warm-up, which builds the cached scan geometry).
        params: Parameters (defaults if None).

    Returns:
        ``fusion`` (detections x depth), ``scan`` (floor removal + virtual scan), ``control`` (gaps, PID,
        speed, limits; without fusion), ``total`` (depth + detections in, one controller step out).
    """
    p = params or ObstacleAvoidanceParams()
    depth, camera, detections = synthetic_frame(p)
    scanner = VirtualScanner(p)
    scanner.scan(depth, camera)
    period = 1.0 / p.control_rate_hz

    control = Controller(p, scanner=_FixedScanner(p, scanner.scan(depth, camera)))
    control.update_depth(0.0, depth, camera)
    control.step(0.0)

    def control_step(i: int) -> None:
        stamp = (i + 1) * period
        control.update_depth(stamp, depth, camera)
        control.step(stamp)

    full = Controller(p)
    full.update_depth(0.0, depth, camera)
    full.step(0.0)

    def full_step(i: int) -> None:
        stamp = (i + 1) * period
        full.update_depth(stamp, depth, camera)
        full.update_detections(stamp, detections)
        full.step(stamp)

    return {
        "fusion": median_ms(lambda _: fuse_detections(detections, depth, camera, p), repeats),
        "scan": median_ms(lambda _: scanner.scan(depth, camera), repeats),
        "control": median_ms(control_step, repeats),
        "total": median_ms(full_step, repeats),
    }


def bench_navigation_at(width: int, height: int, repeats: int = 10) -> dict[str, float]:
    """The scan's first frame and warm step, and the whole controller step, on a ``width`` x ``height`` depth frame.

    Returns:
        ``scan_first`` (median of three fresh scanners' first frame, which builds the per-camera geometry),
        ``scan`` (warm), ``total`` (one controller step, depth and detections in), milliseconds.
    """
    p = ObstacleAvoidanceParams()
    depth, camera, detections = synthetic_frame(p, width, height)
    first = median_ms(lambda _: VirtualScanner(p).scan(depth, camera), 3)
    scanner = VirtualScanner(p)
    scanner.scan(depth, camera)
    full = Controller(p)
    full.update_depth(0.0, depth, camera)
    full.step(0.0)
    period = 1.0 / p.control_rate_hz

    def full_step(i: int) -> None:
        stamp = (i + 1) * period
        full.update_depth(stamp, depth, camera)
        full.update_detections(stamp, detections)
        full.step(stamp)

    return {
        "scan_first": first,
        "scan": median_ms(lambda _: scanner.scan(depth, camera), repeats),
        "total": median_ms(full_step, repeats),
    }
