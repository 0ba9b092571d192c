"""Relative inverse depth made metric from the floor: fit its scale AND shift at the camera's known height.

A relative model (MiDaS, DPT, Depth Anything relative) outputs inverse depth up to an unknown scale and an
unknown shift: ``true_inverse = a * r + b``. One factor (:mod:`depth_node.scale`) cannot undo a shift; two
unknowns need a line through many points. The floor gives them: a pixel whose ray drops ``drop`` metres per
metre of optical-axis depth meets a floor ``h`` below the camera at depth ``h / drop``, so its true inverse
depth is ``drop / h``, known from the camera's height and pitch alone. Every floor pixel is one point
``(r, drop / h)`` on the line.

What stands on the floor is nearer than the floor behind it, so its pixels lie off the line on one side; walls
and furniture can hold as many pixels as the floor. The line is therefore found by RANSAC (pairs of pixels,
the line most pixels agree with within ``tolerance``), then refined by least squares on its inliers. A frame
whose best line has too little support, or a non-positive slope, is a failure: counted, and the last good
line (if any) is used instead. Optional smoothing averages the line over frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel
from depth_node.errors import DepthNodeError
from depth_node.frames import level_from_optical

_MIN_DROP = 0.05  # rays within ~3 degrees of the horizon meet the floor too far away to constrain the line


class FloorNotFoundError(DepthNodeError):
    """No floor line in this frame and none before it: the relative depth cannot be made metric."""

    reason = "floor_not_found"


@dataclass(frozen=True)
class AffineFit:
    """One frame's floor line ``true_inverse = scale * r + shift``.

    Attributes:
        scale: Slope (what the frame was converted with; the last good one when ``found`` is False).
        shift: Offset in inverse metres.
        found: Whether this frame's own pixels gave a line.
        support: Fraction of the sampled pixels on the line (within the tolerance).
    """

    scale: float
    shift: float
    found: bool
    support: float


class AffineFloorScaler:
    """Fits the floor line per frame and converts relative inverse depth to metres."""

    def __init__(
        self,
        height_m: float,
        pitch_rad: float,
        min_support: float = 0.03,
        tolerance: float = 0.05,
        smoothing: float = 0.0,
        max_depth_m: float = 20.0,
        iterations: int = 64,
        max_samples: int = 8_000,
        seed: int = 0,
    ) -> None:
        """Args:
        height_m: Camera's optical centre above the floor, metres.
        pitch_rad: Camera pitch, positive looks down.
        min_support: Least fraction of the sampled pixels that must lie on the floor line.
        tolerance: A pixel is on the line when its predicted inverse depth is within this (relative) of the floor's.
        smoothing: Weight of the previous line in the running average, 0 (none) to < 1.
        max_depth_m: Converted depths beyond this (and non-positive inverse depths) are unknown (NaN).
        iterations: RANSAC pairs drawn per frame.
        max_samples: Pixels are decimated to about this many.
        seed: Seed of the RANSAC draws (the fit is deterministic).
        """
        if not (math.isfinite(height_m) and height_m > 0.0):
            raise ValueError(f"affine floor fit needs a positive camera height, got {height_m!r}")
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {smoothing!r}")
        self.height = float(height_m)
        self.pitch = float(pitch_rad)
        self.min_support = float(min_support)
        self.tolerance = float(tolerance)
        self.smoothing = float(smoothing)
        self.max_depth = float(max_depth_m)
        self.iterations = int(iterations)
        self.max_samples = int(max_samples)
        self._rng = np.random.default_rng(seed)
        self._key: CameraModel | None = None
        self._sampled = 0
        self._rows: npt.NDArray[np.intp] = np.empty(0, np.intp)
        self._cols: npt.NDArray[np.intp] = np.empty(0, np.intp)
        self._floor_inv: npt.NDArray[np.float64] = np.empty(0)
        self._line: tuple[float, float] | None = None
        self.failures = 0

    def _geometry(self, camera: CameraModel) -> None:
        """Cache the sampled pixels that look down far enough and their floor's true inverse depth."""
        if camera == self._key:
            return
        step = max(1, math.ceil(math.sqrt(camera.width * camera.height / self.max_samples)))
        rays = camera.ray_grid(step).astype(np.float64)
        _, _, drop = level_from_optical(rays[..., 0], rays[..., 1], 1.0, self.pitch)
        rows, cols = np.nonzero(drop > _MIN_DROP)
        self._rows, self._cols = rows * step, cols * step
        self._floor_inv = drop[rows, cols] / self.height
        self._sampled, self._key = rays.shape[0] * rays.shape[1], camera

    def fit(self, inverse: npt.NDArray[np.floating], camera: CameraModel) -> AffineFit:
        """This frame's floor line (the running line is not updated; see :meth:`apply`).

        Args:
            inverse: float (H, W) relative inverse depth, NaN or <= 0 = unknown.
            camera: The model of ``inverse`` (rescaled to its resolution when it differs).
        """
        height, width = inverse.shape
        self._geometry(camera.rescaled(width, height))
        r = np.asarray(inverse[self._rows, self._cols], dtype=np.float64)
        ok = np.isfinite(r) & (r > 0.0)
        r, y = r[ok], self._floor_inv[ok]
        if r.size < 10:
            return AffineFit(0.0, 0.0, False, 0.0)
        best, best_count = None, 0
        i = self._rng.integers(0, r.size, size=(self.iterations, 2))
        for a_idx, b_idx in i:
            dr = r[a_idx] - r[b_idx]
            if abs(dr) < 1e-9:
                continue
            slope = (y[a_idx] - y[b_idx]) / dr
            if slope <= 0.0:  # the floor's inverse depth grows with the network's
                continue
            offset = y[a_idx] - slope * r[a_idx]
            count = int(np.count_nonzero(np.abs(slope * r + offset - y) <= self.tolerance * y))
            if count > best_count:
                best, best_count = (slope, offset), count
        if best is None:
            return AffineFit(0.0, 0.0, False, 0.0)
        slope, offset = best
        for _ in range(3):  # least squares on the inliers, twice re-selected
            inliers = np.abs(slope * r + offset - y) <= self.tolerance * y
            if np.count_nonzero(inliers) < 10 or np.ptp(r[inliers]) <= 0.0:
                break
            slope, offset = np.polyfit(r[inliers], y[inliers], 1)
        support = np.count_nonzero(np.abs(slope * r + offset - y) <= self.tolerance * y) / max(self._sampled, 1)
        found = bool(slope > 0.0 and support >= self.min_support)
        return AffineFit(float(slope), float(offset), found, float(support))

    def apply(self, depth: npt.NDArray[np.float32], camera: CameraModel) -> tuple[npt.NDArray[np.float32], AffineFit]:
        """Metric depth from the estimator's relative depth (``1 / depth`` is the network's inverse depth).

        Raises:
            FloorNotFoundError: neither this frame nor any before it gave a floor line.
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse = np.where(depth > 0.0, 1.0 / depth, np.nan).astype(np.float32)
        fit = self.fit(inverse, camera)
        if fit.found:
            line = (fit.scale, fit.shift)
            if self._line is not None and self.smoothing > 0.0:
                w = self.smoothing
                line = (w * self._line[0] + (1 - w) * line[0], w * self._line[1] + (1 - w) * line[1])
            self._line = line
        else:
            self.failures += 1
            if self._line is None:
                raise FloorNotFoundError(
                    f"no floor line in this frame (support {fit.support:.3f} < {self.min_support}) and none before"
                )
        slope, offset = self._line
        true_inv = inverse * np.float32(slope) + np.float32(offset)
        with np.errstate(divide="ignore", invalid="ignore"):
            metric = np.where(true_inv > 1.0 / self.max_depth, 1.0 / true_inv, np.nan).astype(np.float32)
        return metric, AffineFit(slope, offset, fit.found, fit.support)
