"""Metric scale from the floor: rescale a depth frame so that its floor lies at the camera's known height.

A monocular network's weakest output is its scale: a metric model trained on other rooms, lenses or light is
off by a factor that drifts from frame to frame. On the floor that factor becomes height. A floor pixel whose
depth is 10 % short is back-projected 0.1 x camera height above the floor, so for a camera at 0.5 m a floor
filter with a 5 cm band reports a phantom obstacle across the whole width of the image. The camera's height
above the floor is the one metric length a ground robot always knows, and the floor is in nearly every frame,
so the floor fixes the scale. Monocular visual odometry recovers scale the same way ("camera height" scale
recovery), and it is also how a relative-depth model gets metres.

Method: for every pixel that looks below the horizon, the factor that would put its point on the floor plane is
``h / (depth * drop)``, where ``drop`` is the height lost per metre of optical-axis depth along that pixel's
ray. Floor pixels all agree on one factor; obstacles, walls and table tops give others. The factor taken is
the mode of their log-histogram (not the median: the feet of boxes and walls would pull a median off the
floor), refined by the median of the pixels within ``tolerance`` of the mode. A frame in which too few pixels
agree (the camera faces a wall close up) keeps the model's own scale, and says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel
from depth_node.frames import level_from_optical

if TYPE_CHECKING:
    from depth_node.floor_affine import AffineFit

# Rays less than this far below the horizontal (height lost per metre of depth, about 3 degrees) meet the
# floor far away, where a pixel of depth error is metres: they are left out of the fit.
_MIN_DROP = 0.05
# Width of a histogram bin in log scale (1 %); the mode is found on a 3-bin running sum.
_BIN = 0.01


@dataclass(frozen=True)
class FloorFit:
    """The outcome of one frame's fit.

    Attributes:
        scale: The factor the depth was (or would be) multiplied by; 1.0 when no floor was found.
        found: Whether enough pixels agreed on a floor.
        support: Fraction of the sampled pixels that agreed (within the tolerance of the chosen factor).
    """

    scale: float
    found: bool
    support: float


class FloorScaler:
    """Fits and applies the floor scale; the per-pixel ray factors are cached per camera model."""

    def __init__(
        self,
        height_m: float,
        pitch_rad: float,
        max_correction: float = 1.5,
        min_support: float = 0.03,
        tolerance: float = 0.03,
        max_samples: int = 20_000,
    ) -> None:
        """Args:
        height_m: Camera's optical centre above the floor, metres.
        pitch_rad: Camera pitch, positive looks down.
        max_correction: Largest factor considered either way (a metric model needs little, a relative one more).
        min_support: Least fraction of the sampled pixels that must agree on the floor.
        tolerance: Pixels whose factor is within this (relative) of the mode count as floor.
        max_samples: Pixels are decimated to about this many (the fit needs thousands, not millions).
        """
        if not (math.isfinite(height_m) and height_m > 0.0):
            raise ValueError(f"floor scale needs a positive camera height, got {height_m!r}")
        if not max_correction > 1.0:
            raise ValueError(f"max_correction must be > 1, got {max_correction!r}")
        self.height = float(height_m)
        self.pitch = float(pitch_rad)
        self.log_max = math.log(max_correction)
        self.min_support = float(min_support)
        self.log_tol = math.log1p(tolerance)
        self.max_samples = int(max_samples)
        self._edges = np.arange(-self.log_max, self.log_max + _BIN, _BIN)  # the log-factor histogram's bins
        self._key: CameraModel | None = None
        self._sampled = 0  # pixels on the decimated grid, looking down or not (what the support is a fraction of)
        self._rows: npt.NDArray[np.intp] = np.empty(0, np.intp)
        self._cols: npt.NDArray[np.intp] = np.empty(0, np.intp)
        self._log_h_over_drop: npt.NDArray[np.float32] = np.empty(0, np.float32)

    def _geometry(self, camera: CameraModel) -> None:
        """Cache, for the sampled pixels that look down far enough, log(h / drop)."""
        if camera == self._key:
            return
        step = max(1, math.ceil(math.sqrt(camera.width * camera.height / self.max_samples)))
        rays = camera.ray_grid(step).astype(np.float64)
        _, _, drop = level_from_optical(rays[..., 0], rays[..., 1], 1.0, self.pitch)
        rows, cols = np.nonzero(drop > _MIN_DROP)
        self._rows, self._cols = rows * step, cols * step
        self._log_h_over_drop = np.log(self.height / drop[rows, cols]).astype(np.float32)
        self._sampled, self._key = rays.shape[0] * rays.shape[1], camera

    def fit(self, depth: npt.NDArray[np.floating], camera: CameraModel) -> FloorFit:
        """The factor that puts this frame's floor at the camera height (``depth`` is not changed).

        Args:
            depth: float (H, W) metres along the optical axis, NaN or <= 0 = unknown.
            camera: The model of ``depth`` (rescaled to its resolution when it differs).
        """
        height, width = depth.shape
        self._geometry(camera.rescaled(width, height))
        d = np.asarray(depth[self._rows, self._cols], dtype=np.float32)
        ok = d > 0.0  # NaN compares False
        log_factor = self._log_h_over_drop[ok] - np.log(d[ok])
        log_factor = log_factor[np.abs(log_factor) <= self.log_max]
        if log_factor.size == 0:
            return FloorFit(1.0, False, 0.0)
        edges = self._edges
        counts, _ = np.histogram(log_factor, bins=edges)
        peak = int(np.argmax(np.convolve(counts, np.ones(3), mode="same")))
        mode = 0.5 * (edges[peak] + edges[peak + 1])
        floor = log_factor[np.abs(log_factor - mode) <= self.log_tol]
        support = floor.size / max(self._sampled, 1)
        if support < self.min_support:
            return FloorFit(1.0, False, support)
        return FloorFit(float(np.exp(np.median(floor))), True, support)

    def apply(self, depth: npt.NDArray[np.float32], camera: CameraModel) -> tuple[npt.NDArray[np.float32], FloorFit]:
        """``depth`` times the fitted factor (a new array when it changes), and the fit."""
        fit = self.fit(depth, camera)
        if not fit.found:
            return depth, fit
        return depth * np.float32(fit.scale), fit


def summarise_fits(fits: Sequence[FloorFit | AffineFit]) -> dict[str, float | int | None]:
    """What a run's floor fits say, for a report: how often a floor was found and how far the scale moved.

    The factors are over the frames with a floor (the others were left at 1.0; in affine mode the factor is
    the slope of the floor line, in inverse metres per unit of the network's output). A median far from 1 says the
    model's scale is off for this camera or scene; a wide 5-95 % spread says it drifts from frame to frame,
    which is what the fit is for. All None when no frame was fitted.
    """
    found = np.array([f.scale for f in fits if f.found], dtype=np.float64)

    def pct(q: float) -> float | None:
        return round(float(np.percentile(found, q)), 4) if found.size else None

    return {
        "frames": len(fits),
        "found_fraction": round(found.size / len(fits), 4) if fits else None,
        "scale_p05": pct(5),
        "scale_p50": pct(50),
        "scale_p95": pct(95),
    }
