"""Pinhole camera model from a ``sensor_msgs/CameraInfo`` and its rescaling.

The model is a small frozen dataclass, so it can key caches (the ray grid of the point cloud) and be
compared between frames cheaply. It is built from plain numbers (:meth:`CameraModel.from_info_fields`),
so this module needs no ROS; :func:`depth_node.msgs.camera_from_info` reads the message fields.

Pixel convention: (u, v) = (0, 0) is the centre of the top-left pixel, as in CameraInfo and OpenCV.
Rescaling therefore maps u' = (u + 0.5) * s - 0.5, which is what ``cv2.resize`` does to the image; the
cruder c' = c * s is off by (s - 1) / 2 pixels, a visible error at 4x down-sampling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from depth_node.errors import CameraModelError

# Cameras bin 2x2, 4x4, at most 8x8 or 16x16; a larger value is a corrupt field, not a sensor setting.
MAX_BINNING = 64


@dataclass(frozen=True)
class CameraModel:
    """Intrinsics of an undistorted pinhole camera at one image resolution.

    Attributes:
        width: Image width in pixels.
        height: Image height in pixels.
        fx: Focal length along u, pixels.
        fy: Focal length along v, pixels.
        cx: Principal point u, pixels.
        cy: Principal point v, pixels.
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise CameraModelError(f"camera resolution must be positive, got {self.width}x{self.height}")
        for name in ("fx", "fy"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0.0:
                raise CameraModelError(f"camera {name} must be a positive finite number, got {value!r}")
        for name in ("cx", "cy"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise CameraModelError(f"camera {name} must be finite, got {value!r}")

    @classmethod
    def from_info_fields(
        cls,
        width: int,
        height: int,
        k: Sequence[float],
        p: Sequence[float],
        binning_x: int = 0,
        binning_y: int = 0,
        roi: tuple[int, int, int, int] = (0, 0, 0, 0),
        image_size: tuple[int, int] | None = None,
    ) -> CameraModel:
        """The camera model of the image actually received, from the CameraInfo fields.

        Args:
            width: CameraInfo.width (full sensor resolution of the calibration; 0 = unknown).
            height: CameraInfo.height.
            k: The 3x3 intrinsic matrix K, row-major (9 numbers).
            p: The 3x4 projection matrix P, row-major (12 numbers); preferred over K because it
                describes the rectified image; K is used when P is all zero (uncalibrated drivers).
            binning_x: Horizontal binning (0 and 1 both mean none).
            binning_y: Vertical binning.
            roi: (x_offset, y_offset, width, height) of the region of interest in full-resolution
                pixels; a zero width or height means the full image.
            image_size: (width, height) of the image these intrinsics are for. When it differs from
                the CameraInfo's (binned, ROI'd) resolution, the intrinsics are rescaled to it.

        Raises:
            CameraModelError: zero or non-finite focal lengths, wrong matrix sizes, an unknown
                resolution with no image to take it from, an ROI outside the image, or a binning
                that leaves no pixel (or is over :data:`MAX_BINNING`). The last two used to give an
                all-NaN depth: the focal length divided by 100000 makes every depth tiny.
        """
        k_arr = np.asarray(k, dtype=np.float64).reshape(-1)
        p_arr = np.asarray(p, dtype=np.float64).reshape(-1)
        if p_arr.size == 12 and np.any(p_arr != 0.0):
            fx, cx, fy, cy = p_arr[0], p_arr[2], p_arr[5], p_arr[6]
        elif k_arr.size == 9:
            fx, cx, fy, cy = k_arr[0], k_arr[2], k_arr[4], k_arr[5]
        else:
            raise CameraModelError(f"CameraInfo needs P (12 values) or K (9 values), got {p_arr.size} and {k_arr.size}")
        bx = max(int(binning_x), 1)
        by = max(int(binning_y), 1)
        if bx > MAX_BINNING or by > MAX_BINNING:
            raise CameraModelError(f"CameraInfo binning {bx}x{by} is over {MAX_BINNING}: not a camera's binning")
        x_off, y_off, roi_w, roi_h = (int(v) for v in roi)
        full_w, full_h = int(width), int(height)
        if roi_w > 0 and roi_h > 0:
            if full_w > 0 and full_h > 0 and (x_off + roi_w > full_w or y_off + roi_h > full_h):
                raise CameraModelError(
                    f"CameraInfo ROI {roi_w}x{roi_h} at ({x_off}, {y_off}) lies outside the {full_w}x{full_h} image"
                )
            cx, cy = cx - x_off, cy - y_off
            full_w, full_h = roi_w, roi_h
        if (full_w > 0 and full_w < bx) or (full_h > 0 and full_h < by):
            raise CameraModelError(f"CameraInfo binning {bx}x{by} leaves no pixel of the {full_w}x{full_h} image")
        # Binning: one binned pixel covers bx full pixels; its centre sits at bx * u' + (bx - 1) / 2.
        fx, cx = fx / bx, (cx + 0.5) / bx - 0.5
        fy, cy = fy / by, (cy + 0.5) / by - 0.5
        eff_w, eff_h = full_w // bx, full_h // by
        if eff_w <= 0 or eff_h <= 0:
            if image_size is None:
                raise CameraModelError("CameraInfo has no resolution and no image size was given")
            eff_w, eff_h = image_size
        model = cls(int(eff_w), int(eff_h), float(fx), float(fy), float(cx), float(cy))
        if image_size is not None and tuple(image_size) != (eff_w, eff_h):
            model = model.rescaled(*image_size)
        return model

    def rescaled(self, width: int, height: int) -> CameraModel:
        """The same camera seen at another resolution (as after ``cv2.resize`` of the whole image)."""
        if (width, height) == (self.width, self.height):
            return self
        if width <= 0 or height <= 0:
            raise CameraModelError(f"cannot rescale a camera to {width}x{height}")
        sx = width / self.width
        sy = height / self.height
        return CameraModel(
            width=int(width),
            height=int(height),
            fx=self.fx * sx,
            fy=self.fy * sy,
            cx=(self.cx + 0.5) * sx - 0.5,
            cy=(self.cy + 0.5) * sy - 0.5,
        )

    @property
    def k(self) -> tuple[float, ...]:
        """K as the 9 row-major numbers of a CameraInfo."""
        return (self.fx, 0.0, self.cx, 0.0, self.fy, self.cy, 0.0, 0.0, 1.0)

    @property
    def p(self) -> tuple[float, ...]:
        """P (monocular, no translation) as the 12 row-major numbers of a CameraInfo."""
        return (self.fx, 0.0, self.cx, 0.0, 0.0, self.fy, self.cy, 0.0, 0.0, 0.0, 1.0, 0.0)

    @property
    def hfov_rad(self) -> float:
        """Horizontal field of view, radians (edge to edge of the image)."""
        left = math.atan((self.cx + 0.5) / self.fx)
        right = math.atan((self.width - 0.5 - self.cx) / self.fx)
        return left + right

    def ray_grid(self, step: int = 1) -> npt.NDArray[np.float32]:
        """Per-pixel (x/z, y/z) in the optical frame for every ``step``-th pixel, shape (h, w, 2).

        Multiplying by a depth (z) gives the optical-frame x and y of that pixel's point, which is how
        depth_image_proc back-projects; callers cache this grid since it only depends on the model.
        """
        u = (np.arange(0, self.width, step, dtype=np.float64) - self.cx) / self.fx
        v = (np.arange(0, self.height, step, dtype=np.float64) - self.cy) / self.fy
        grid = np.empty((v.size, u.size, 2), dtype=np.float32)
        grid[..., 0] = u[None, :]
        grid[..., 1] = v[:, None]
        return grid

    def project(self, points: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Pixel coordinates (u, v) of optical-frame points (..., 3) with z > 0."""
        pts = np.asarray(points, dtype=np.float64)
        z = pts[..., 2]
        return np.stack((self.fx * pts[..., 0] / z + self.cx, self.fy * pts[..., 1] / z + self.cy), axis=-1)

    def backproject(self, u: npt.ArrayLike, v: npt.ArrayLike, z: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Optical-frame points (..., 3) of pixels (u, v) at depth z (metres along the optical axis)."""
        u_a, v_a, z_a = (np.asarray(a, dtype=np.float64) for a in (u, v, z))
        return np.stack(((u_a - self.cx) * z_a / self.fx, (v_a - self.cy) * z_a / self.fy, z_a), axis=-1)


def camera_for_image(
    width: int,
    height: int,
    *,
    fx: float | None = None,
    hfov_deg: float | None = None,
    focal_reference: float | None = None,
) -> CameraModel:
    """A centred pinhole camera for a plain image file, which carries no CameraInfo.

    The focal length comes from ``fx`` (pixels at this width), else from the horizontal field of view,
    else from ``focal_reference`` (a model's trained fx / width: the same normalised focal as training, so
    a metric model's depth is not rescaled), else from a 60 degree field of view (only used to
    back-project; it changes no depth of a focal-free model).

    Raises:
        CameraModelError: both ``fx`` and ``hfov_deg``, or a value that is not a usable focal.
    """
    if fx is not None and hfov_deg is not None:
        raise CameraModelError("give the focal length (fx) or the horizontal field of view (hfov_deg), not both")
    if hfov_deg is not None:
        if not (math.isfinite(hfov_deg) and 0.0 < hfov_deg < 180.0):
            raise CameraModelError(f"hfov_deg must be between 0 and 180 degrees, got {hfov_deg!r}")
        fx = (width / 2) / math.tan(math.radians(hfov_deg) / 2)
    elif fx is None:
        fx = focal_reference * width if focal_reference is not None else (width / 2) / math.tan(math.radians(30.0))
    return CameraModel(width, height, float(fx), float(fx), (width - 1) / 2, (height - 1) / 2)
