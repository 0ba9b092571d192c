"""Depth (+ colour) -> organised point cloud bytes laid out as depth_image_proc lays them out.

xyz: float32 x, y, z at offsets 0, 4, 8 and ``point_step`` 16; xyzrgb adds a packed float ``rgb`` at 16
with ``point_step`` 32. The cloud is organised (rows x cols of the depth image, or of its decimated grid),
``is_dense`` false, and a pixel without depth becomes a NaN point, so pixel (u, v) of the depth is point
(u // k, v // k) of the cloud. Points are in the camera's optical frame (z forward, x right, y down).

The per-pixel rays only depend on the camera model and the decimation, so :class:`PointCloudBuilder`
caches them; a frame then costs one multiply into the output buffer, whose bytes are the message's data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel

# sensor_msgs/PointField datatype constants.
FLOAT32 = 7


@dataclass(frozen=True)
class PointFieldSpec:
    """One PointField: name, byte offset, datatype constant, element count."""

    name: str
    offset: int
    datatype: int
    count: int = 1


XYZ_FIELDS = (
    PointFieldSpec("x", 0, FLOAT32),
    PointFieldSpec("y", 4, FLOAT32),
    PointFieldSpec("z", 8, FLOAT32),
)
XYZRGB_FIELDS = (*XYZ_FIELDS, PointFieldSpec("rgb", 16, FLOAT32))


@dataclass(frozen=True)
class CloudData:
    """An organised cloud ready for a PointCloud2: sizes, fields and the data bytes (as uint8 array)."""

    height: int
    width: int
    fields: tuple[PointFieldSpec, ...]
    point_step: int
    data: npt.NDArray[np.uint8]

    @property
    def row_step(self) -> int:
        """Bytes per row of the organised cloud."""
        return self.point_step * self.width

    def points(self) -> npt.NDArray[np.float32]:
        """(H, W, 3) float32 view of x, y, z (for tests and consumers in Python)."""
        floats = self.data.view(np.float32).reshape(self.height, self.width, self.point_step // 4)
        return floats[..., :3]


def pack_rgb(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]:
    """Pack (H, W, 3) RGB uint8 into PCL's 0x00RRGGBB uint32 (read as float32 ``rgb`` by RViz)."""
    rgb32 = rgb.astype(np.uint32)
    return np.asarray((rgb32[..., 0] << 16) | (rgb32[..., 1] << 8) | rgb32[..., 2], dtype=np.uint32)


class PointCloudBuilder:
    """Builds organised clouds, caching the ray grid of the last camera model and decimation.

    Args:
        decimation: Keep every k-th pixel in both directions (1 = full resolution).
        max_range_m: Points with depth (z) beyond this become NaN; ``inf`` keeps all.
    """

    def __init__(self, decimation: int = 1, max_range_m: float = math.inf) -> None:
        if decimation < 1:
            raise ValueError(f"decimation must be >= 1, got {decimation}")
        if not max_range_m > 0.0:
            raise ValueError(f"max_range_m must be > 0, got {max_range_m}")
        self.decimation = decimation
        self.max_range_m = max_range_m
        self._rays_key: CameraModel | None = None
        self._rays: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None = None
        self._zeros: npt.NDArray[np.float32] | None = None  # the xyz cloud's padding plane

    def rays(self, camera: CameraModel) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """The x/z and y/z planes, each (h, w) and contiguous, of ``camera`` at this decimation (cached).

        Two contiguous planes rather than one (h, w, 2) grid: numpy multiplies long contiguous rows
        several times faster than a broadcast over a last axis of two.
        """
        if self._rays is None or self._rays_key != camera:
            grid = camera.ray_grid(self.decimation)
            self._rays = (np.ascontiguousarray(grid[..., 0]), np.ascontiguousarray(grid[..., 1]))
            self._rays_key = camera
        return self._rays

    def build(
        self, depth: npt.NDArray[np.float32], camera: CameraModel, rgb: npt.NDArray[np.uint8] | None = None
    ) -> CloudData:
        """The organised cloud of one depth image (metres along z, NaN = unknown).

        Args:
            depth: (H, W) float32 depth at the camera model's resolution.
            camera: The camera the depth was seen with.
            rgb: Optional (H, W, 3) RGB colour aligned with the depth; gives an xyzrgb cloud.
        """
        if depth.shape != (camera.height, camera.width):
            raise ValueError(f"depth of shape {depth.shape} does not match the camera's {camera.width}x{camera.height}")
        k = self.decimation
        z = depth[::k, ::k]
        if math.isfinite(self.max_range_m):
            z = np.where(z <= self.max_range_m, z, np.float32(np.nan))
        ray_x, ray_y = self.rays(camera)
        h, w = z.shape
        # Planes first, then one interleaving pass (cv2.merge): several times faster than strided writes.
        z = np.ascontiguousarray(z, dtype=np.float32)
        if self._zeros is None or self._zeros.shape != z.shape:
            self._zeros = np.zeros_like(z)
        zeros = self._zeros
        if rgb is None:
            buf = cv2.merge((ray_x * z, ray_y * z, z, zeros))
            return CloudData(h, w, XYZ_FIELDS, 16, np.asarray(buf, dtype=np.float32).reshape(-1).view(np.uint8))
        if rgb.shape[:2] != depth.shape:
            raise ValueError(f"colour of shape {rgb.shape} does not match the depth's {depth.shape}")
        # PCL's packed 0x00RRGGBB read as little-endian bytes is B, G, R, 0: a BGRA image with alpha zeroed.
        bgra = cv2.cvtColor(np.ascontiguousarray(rgb[::k, ::k]), cv2.COLOR_RGB2BGRA)
        bgra[..., 3] = 0
        packed = bgra.view(np.float32)[..., 0]
        buf = cv2.merge((ray_x * z, ray_y * z, z, zeros, packed, zeros, zeros, zeros))
        return CloudData(h, w, XYZRGB_FIELDS, 32, np.asarray(buf, dtype=np.float32).reshape(-1).view(np.uint8))


def backproject_numpy(depth: npt.NDArray[np.float32], camera: CameraModel) -> npt.NDArray[np.float32]:
    """Plain numpy back-projection, (H, W, 3): the benchmark's baseline and the tests' reference."""
    v, u = np.indices(depth.shape, dtype=np.float32)
    x = (u - camera.cx) * depth / camera.fx
    y = (v - camera.cy) * depth / camera.fy
    return np.stack((x, y, depth), axis=-1).astype(np.float32)
