"""Depth-only obstacles: floor removal, a virtual planar scan and the free gaps in it.

A depth pixel (u, v) with depth z (along the optical axis) is the optical-frame point z * (rx, ry, 1)
with (rx, ry) = ((u - cx) / fx, (v - cy) / fy). The camera sits ``h`` above the floor, pitched down by
``theta``; in the base frame (x forward, y left, z up, origin on the floor under the camera) that
point is

    X = z * (cos(theta) - ry * sin(theta))
    Y = -z * rx
    Z = h - z * (ry * cos(theta) + sin(theta))

Everything but ``z`` depends on the pixel only, so the bearing atan2(Y, X), the horizontal range per
metre of depth and the drop per metre of depth are computed once per camera model and cached; a frame
then costs a gather, a few multiplications and one segmented minimum. Floor removal is the height band:
a point below ``obstacle_min_height_m`` is floor, one above ``obstacle_max_height_m`` cannot touch the
robot's body.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel
from depth_node.errors import ImageDecodeError
from depth_node.frames import level_from_optical
from depth_node.types import Gap, Scan
from navigation.footprint import Footprint, in_band_points
from navigation.params import ObstacleAvoidanceParams

FloatArray = npt.NDArray[np.float64]

# ``scan_pixel_step: 0`` decimates a depth image to at most this many columns (see auto_pixel_step).
AUTO_SCAN_COLUMNS = 640


def optical_to_base(points: npt.ArrayLike, height_m: float, pitch_rad: float) -> FloatArray:
    """Optical-frame points (..., 3) in the base frame (..., 3), for a camera pitched down by ``pitch_rad``.

    Args:
        points: x right, y down, z forward, metres.
        height_m: Camera height above the floor, m.
        pitch_rad: Camera pitch, positive looks down.

    Returns:
        x forward, y left, z up, with the origin on the floor under the camera.
    """
    p = np.asarray(points, dtype=np.float64)
    forward, left, down = level_from_optical(p[..., 0], p[..., 1], p[..., 2], pitch_rad)
    return np.stack((forward, left, height_m - down), axis=-1)


def pixel_bearing(camera: CameraModel, u: npt.ArrayLike, v: npt.ArrayLike, pitch_rad: float) -> FloatArray:
    """Base-frame bearing (positive left) of the ray through pixel (u, v); independent of depth."""
    rx = (np.asarray(u, dtype=np.float64) - camera.cx) / camera.fx
    ry = (np.asarray(v, dtype=np.float64) - camera.cy) / camera.fy
    forward, left, _ = level_from_optical(rx, ry, 1.0, pitch_rad)
    return np.arctan2(left, forward)


@dataclass(frozen=True)
class ScanGeometry:
    """Per-pixel factors of one camera model, with the pixels grouped by scan bin.

    Attributes:
        angle_low: Right edge of the first bin, rad.
        increment: Bin width, rad.
        bins: Number of bins.
        step: Pixel decimation the geometry was built for.
        order: Flat indices (into the decimated image) of the pixels that fall in a bin, sorted by bin.
        starts: Start of each non-empty bin's run in ``order``.
        nonempty: Indices of the non-empty bins (same length as ``starts``).
        range_per_depth: Horizontal range per metre of depth, in ``order``.
        drop_per_depth: Height lost per metre of depth, in ``order`` (Z = h - z * drop).
        bearing: Base-frame bearing of each pixel, in ``order``.
        blind_per_drop: Per bin, the nearest horizontal range at which the bin sees a point one metre below the
            camera (its lowest pixel's range per metre of drop; +inf where no pixel looks down): a point ``dz``
            below the camera is out of view closer than ``dz`` times this.
    """

    angle_low: float
    increment: float
    bins: int
    step: int
    order: npt.NDArray[np.intp]
    starts: npt.NDArray[np.intp]
    nonempty: npt.NDArray[np.intp]
    range_per_depth: npt.NDArray[np.float32]
    drop_per_depth: npt.NDArray[np.float32]
    bearing: npt.NDArray[np.float32]
    blind_per_drop: FloatArray


def build_scan_geometry(
    camera: CameraModel, pitch_rad: float, bins: int, fov_rad: float = 0.0, step: int = 1
) -> ScanGeometry:
    """Precompute the bin of every (decimated) pixel and its range and height factors.

    Args:
        camera: The model of the depth image (its resolution is the depth's).
        pitch_rad: Camera pitch, positive down.
        bins: Number of scan bins.
        fov_rad: Angular width of the scan; 0 takes the bearings seen by every image row.
        step: Use every ``step``-th pixel in both directions.
    """
    rays = camera.ray_grid(step).astype(np.float64)
    rx, ry = rays[..., 0].ravel(), rays[..., 1].ravel()
    # X per metre of depth (<= 0: the ray looks behind or straight down), and the drop per metre of depth
    forward, left, drop = level_from_optical(rx, ry, 1.0, pitch_rad)
    bearing = np.arctan2(left, forward)
    ahead = forward > 1e-6
    if fov_rad > 0.0:
        half = 0.5 * fov_rad
    else:
        # The bearings every image row covers: a pitched camera sees wider at one end of the image, and a
        # bin made of a few corner pixels only (seeing nothing but the near floor, or the sky) would
        # claim "no return" for a direction it cannot see.
        widest_per_row = np.max(np.where(ahead, np.abs(bearing), 0.0).reshape(rays.shape[:2]), axis=1)
        half = float(np.min(widest_per_row)) + 1e-9
    increment = 2.0 * half / bins
    index = np.floor((bearing + half) / increment).astype(np.intp)
    inside = ahead & (index >= 0) & (index < bins)
    pixels = np.flatnonzero(inside)
    grid = bearing.reshape(rays.shape[:2])
    pixels, pixel_bins = _cover_every_row(grid, ahead, pixels, index[pixels], bins, half, increment)
    # A stable sort of small integers: numpy radix-sorts 16-bit keys, ten times faster than intp ones.
    key_type = np.int16 if bins <= np.iinfo(np.int16).max else np.intp
    by_bin = np.argsort(pixel_bins.astype(key_type), kind="stable")
    order, sorted_bins = pixels[by_bin], pixel_bins[by_bin]
    starts = np.flatnonzero(np.diff(sorted_bins, prepend=-1))
    nonempty = sorted_bins[starts]
    range_per_depth, drop_per_depth = np.hypot(forward, rx)[order], drop[order]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_drop = np.where(drop_per_depth > 1e-9, range_per_depth / drop_per_depth, np.inf)
    blind_per_drop = np.full(bins, np.inf)
    if starts.size:
        blind_per_drop[nonempty] = np.minimum.reduceat(per_drop, starts)
    return ScanGeometry(
        angle_low=-half,
        increment=increment,
        bins=bins,
        step=step,
        order=order.astype(np.intp),
        starts=starts.astype(np.intp),
        nonempty=nonempty.astype(np.intp),
        range_per_depth=range_per_depth.astype(np.float32),
        drop_per_depth=drop_per_depth.astype(np.float32),
        bearing=bearing[order].astype(np.float32),
        blind_per_drop=blind_per_drop,
    )


def _cover_every_row(
    bearing: FloatArray,
    ahead: npt.NDArray[np.bool_],
    pixels: npt.NDArray[np.intp],
    pixel_bins: npt.NDArray[np.intp],
    bins: int,
    half: float,
    increment: float,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Add to each bin, in every image row where it owns no pixel, that row's pixel nearest the bin's centre.

    With fewer pixel columns than bins (a small depth image, or decimation) a bin can fall between two
    columns in some rows or in all of them. Owning no pixel, it would read "not measured", which the
    controller takes for an obstacle at the lookahead in the middle of an open view; owning only a few
    rows' pixels (a pitched camera's columns lean), it can see only the floor and read free in front of a
    box. The nearest column's pixel is what the camera saw in that direction. A wide image owns every
    (bin, row) pair already and is left exactly as it was.

    Args:
        bearing: Bearing of every (decimated) pixel, rows x columns.
        ahead: Which pixels look ahead (flat, same order).
        pixels: Flat indices of the pixels inside a bin; pixel_bins: their bins.
        bins: Number of bins; half: half the scan's width; increment: bin width (rad).
    """
    n_rows, n_cols = bearing.shape
    rows_ahead: npt.NDArray[np.bool_] = np.any(ahead.reshape(n_rows, n_cols), axis=1)
    owned = np.zeros((bins, n_rows), dtype=bool)
    owned[pixel_bins, pixels // n_cols] = True
    missing = ~owned & rows_ahead[None, :]
    if not missing.any():
        return pixels, pixel_bins
    off_grid = np.where(ahead.reshape(n_rows, n_cols), bearing, np.nan)
    spacing = np.nanmax(np.abs(np.diff(off_grid, axis=1)), axis=1, initial=0.0)  # per row
    extra_pixels, extra_bins = [pixels], [pixel_bins]
    for b in np.flatnonzero(missing.any(axis=1)):
        rows = np.flatnonzero(missing[b])
        off = np.abs(off_grid[rows] - (-half + (b + 0.5) * increment))
        off[np.isnan(off)] = np.inf
        cols = np.argmin(off, axis=1)
        near = off[np.arange(rows.size), cols] <= 0.5 * increment + spacing[rows]  # not past the image edge
        extra_pixels.append((rows[near] * n_cols + cols[near]).astype(np.intp))
        extra_bins.append(np.full(int(near.sum()), b, dtype=np.intp))
    return np.concatenate(extra_pixels), np.concatenate(extra_bins)


def auto_pixel_step(width: int, columns: int = AUTO_SCAN_COLUMNS) -> int:
    """The smallest pixel step that leaves at most ``columns`` columns of a ``width``-pixel depth image.

    The scan's cost grows faster than its pixel count (the per-bin gather leaves the cache), while a
    640-column image already puts several columns in every bin; a 1920x1080 camera thus gets step 3.
    """
    return max(1, math.ceil(width / columns))


class VirtualScanner:
    """Depth image -> :class:`Scan`, with the per-camera geometry cached between frames."""

    def __init__(self, params: ObstacleAvoidanceParams) -> None:
        """Keep the parameters; the geometry is built on the first frame of each camera model."""
        self._params = params
        self._key: tuple[CameraModel, int] | None = None
        self._geometry: ScanGeometry | None = None

    def geometry(self, camera: CameraModel) -> ScanGeometry:
        """The cached geometry for this camera model (rebuilt when the model changes)."""
        p = self._params
        step = p.scan_pixel_step or auto_pixel_step(camera.width)
        key = (camera, step)
        if self._geometry is None or self._key != key:
            self._geometry = build_scan_geometry(camera, p.camera_pitch_rad, p.scan_bins, p.scan_fov_rad, step)
            self._key = key
        return self._geometry

    def _samples(
        self, depth: npt.NDArray[np.floating], camera: CameraModel
    ) -> tuple[ScanGeometry, npt.NDArray[np.float32]]:
        """The geometry for this depth's size and its decimated pixels, flat: what :meth:`scan` and
        :meth:`footprint` both read (one definition, so the two cannot sample different pixels).

        Raises:
            ImageDecodeError: the depth is not a 2-D array.
        """
        if depth.ndim != 2:
            raise ImageDecodeError(f"depth must be a 2-D array, got shape {depth.shape}")
        height, width = depth.shape
        geo = self.geometry(camera.rescaled(width, height))
        return geo, np.ascontiguousarray(depth[:: geo.step, :: geo.step], dtype=np.float32).ravel()

    def scan(self, depth: npt.NDArray[np.floating], camera: CameraModel) -> Scan:
        """The nearest in-band point per bearing bin.

        Args:
            depth: float HxW, metres along the optical axis, NaN (or <= 0) = unknown.
            camera: Model of the camera; rescaled to the depth's resolution when it differs.

        Raises:
            ImageDecodeError: the depth is not a 2-D array.
        """
        p = self._params
        geo, flat = self._samples(depth, camera)
        d = flat[geo.order]
        valid = d > 0.0  # False for NaN too
        drop = d * geo.drop_per_depth
        band = (drop >= p.camera_height_m - p.obstacle_max_height_m) & (
            drop <= p.camera_height_m - p.obstacle_min_height_m
        )
        ranges_in_band = np.where(band, d * geo.range_per_depth, np.float32(np.inf))
        ranges = np.full(geo.bins, np.nan, dtype=np.float32)
        if geo.starts.size:
            nearest = np.minimum.reduceat(ranges_in_band, geo.starts)
            seen = np.logical_or.reduceat(valid, geo.starts)
            nearest[nearest > p.scan_range_max_m] = np.inf
            nearest[nearest < p.scan_range_min_m] = -np.inf
            ranges[geo.nonempty] = np.where(seen, nearest, np.float32(np.nan))
        return Scan(
            angle_min=geo.angle_low + 0.5 * geo.increment,
            angle_max=geo.angle_low + (geo.bins - 0.5) * geo.increment,
            angle_increment=geo.increment,
            range_min=p.scan_range_min_m,
            range_max=p.scan_range_max_m,
            ranges=ranges,
        )

    def footprint(self, depth: npt.NDArray[np.floating], camera: CameraModel, range_m: float) -> Footprint:
        """Every in-band point of the frame within ``range_m``, and where the frame could see
        (:mod:`navigation.footprint`); the same pixels, band and geometry as :meth:`scan`."""
        p = self._params
        geo, flat = self._samples(depth, camera)
        band = (p.obstacle_min_height_m, p.obstacle_max_height_m)
        return in_band_points(geo, flat, p.camera_height_m, band, range_m, p.footprint_min_height_m)


def decision_ranges(scan: Scan, unknown_range_m: float) -> FloatArray:
    """Ranges for decisions: -inf (too close) becomes 0, NaN (not measured) an obstacle at ``unknown_range_m``.

    Unknown is not free: a bin the camera could not measure is treated as blocked at the lookahead, so
    the robot does not steer into what it cannot see, but does not stop for it either.
    """
    r = scan.ranges.astype(np.float64)
    r = np.where(np.isnan(r), unknown_range_m, r)
    return np.where(np.isneginf(r), 0.0, r)


def free_headings(
    angles: FloatArray, ranges: FloatArray, clearance_radius_m: float, lookahead_m: float, increment: float
) -> npt.NDArray[np.bool_]:
    """Which headings (the bin angles) a disc of ``clearance_radius_m`` can drive along.

    A point at (r, phi) within the lookahead (inclusive, so that unknown bins placed at the lookahead
    count) blocks every heading whose straight path passes within the
    radius of it: |heading - phi| < asin(radius / r), plus half a bin since the point may lie anywhere in
    its bin; a point inside the radius blocks every heading.
    """
    near = np.isfinite(ranges) & (ranges <= lookahead_m)
    r = ranges[near]
    phi = angles[near]
    half = np.where(r > clearance_radius_m, np.arcsin(np.minimum(1.0, clearance_radius_m / np.maximum(r, 1e-9))), np.pi)
    blocked = np.abs(angles[:, None] - phi[None, :]) < (half + 0.5 * increment)[None, :]
    return ~np.any(blocked, axis=1)


def find_gaps(scan: Scan, clearance_radius_m: float, lookahead_m: float) -> list[Gap]:
    """The free gaps of a scan: maximal runs of headings wide enough for the robot, right to left.

    Args:
        scan: The virtual scan.
        clearance_radius_m: Robot radius plus safety margin, m.
        lookahead_m: Only points nearer than this close a gap, m.
    """
    ranges = decision_ranges(scan, lookahead_m)
    return gaps_from_ranges(scan.angles, ranges, clearance_radius_m, lookahead_m, scan.angle_increment)


def gaps_from_ranges(
    angles: FloatArray,
    ranges: FloatArray,
    clearance_radius_m: float,
    lookahead_m: float,
    increment: float,
    blocked: npt.NDArray[np.bool_] | None = None,
) -> list[Gap]:
    """:func:`find_gaps` on decision ranges (see :func:`decision_ranges`), for callers that edit them.

    ``blocked`` marks headings closed for another reason (obstacles remembered outside the view).
    """
    free = free_headings(angles, ranges, clearance_radius_m, lookahead_m, increment)
    if blocked is not None:
        free &= ~blocked
    padded = np.concatenate(([False], free, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    last = free.size
    return [
        Gap(float(angles[a]), float(angles[b - 1]), closed_low=bool(a > 0), closed_high=bool(b < last))
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]


def corridor_clearance(angles: FloatArray, ranges: FloatArray, half_width_m: float, increment: float) -> float:
    """Forward distance to the nearest point in the straight corridor of the given half-width, m.

    A bin counts when any part of it (its centre +- half a bin) is within the corridor; +inf when
    nothing is.
    """
    finite = np.isfinite(ranges)
    r, phi = ranges[finite], angles[finite]
    lateral = np.abs(r * np.sin(phi)) - r * math.sin(0.5 * increment)
    forward = r * np.cos(phi)
    inside = (lateral < half_width_m) & (forward > -half_width_m)
    return float(np.min(np.maximum(forward[inside], 0.0), initial=math.inf))
