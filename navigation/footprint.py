"""What a frame saw of low obstacles: every point in the scan's height band, and where the camera cannot see.

The virtual scan keeps the nearest return per bearing, which is all a gap follower needs while an obstacle is in
view. A low box (the simulator's ``low_box``: 8-16 cm under a camera 0.5 m up) leaves the view long before the
robot reaches it: the lowest image row meets the box's top about 0.8 m ahead, and from then on the robot knows
only the box's front edge, a line, while its side sweeps the rest of the box as it turns (the collisions of
``low_box`` with exact depth). The camera did see more: from above, the whole top of the box is in the height
band. :class:`Footprint` keeps every in-band point of a frame (base frame polar, with its height), so the rolling
window (:mod:`navigation.local_plan`) can hold the box's full extent.

:class:`View` says where the camera cannot see an obstacle of a given height: outside the scan's fan, or nearer
than the range where the bin's lowest pixel meets that height (``(camera_height - top) * blind_per_drop``).
A ray of a later frame may clear a remembered cell only where the camera could have seen what was there (a
box below the view is not gone because the ray in its direction now reaches the wall), and the window's cells
the current frame cannot see are the ones that must block headings: nothing else speaks for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from navigation.memory import headings_blocked_by

if TYPE_CHECKING:
    from navigation.freespace import ScanGeometry

# Remembered cells out of view block headings this much wider than the speed corridor they stop the robot in:
# an aim just clear of a cell by the gap rule, with the robot's heading a degree off it, would leave the cell in
# the corridor ahead, the speed at zero and the turn rate too small to clear it (the robot stood for 10 s).
UNSEEN_MARGIN_RAD = 0.1

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class View:
    """Where one frame's camera sees the floor band: the scan's fan and, per bin, how near it sees down.

    Attributes:
        angle_low: Right edge of the first bin (base frame), rad.
        increment: Bin width, rad.
        blind_per_drop: Per bin, the nearest horizontal range at which a point one metre below the camera is
            in view (+inf: the bin sees nothing below the camera), m per m.
        camera_height_m: Height of the camera above the floor, m.
        min_top_m: What was seen lower than this is not trusted to be low (noisy depth puts the floor a few
            centimetres up where it meets a wall): it is treated as the window treats any return, cleared by any
            ray in the fan and out of view kept only by the plan (``footprint_min_height_m``), m.
    """

    angle_low: float
    increment: float
    blind_per_drop: FloatArray
    camera_height_m: float
    min_top_m: float = 0.0

    def trusted_tops(self, tops: npt.ArrayLike) -> FloatArray:
        """The heights to judge cells by: those lower than ``min_top_m`` count as tall (seen from anywhere)."""
        t = np.asarray(tops, dtype=np.float64)
        return np.where(t >= self.min_top_m, t, np.inf)

    def near_limit(self, bearings: npt.ArrayLike, tops: npt.ArrayLike) -> FloatArray:
        """Nearest range (m) at which the top of an obstacle ``tops`` high at ``bearings`` is in view; +inf outside
        the fan (between the outermost bin centres). An obstacle as high as the camera or higher is seen from any
        distance within the fan."""
        b = np.asarray(bearings, dtype=np.float64)
        bins = self.blind_per_drop.size
        index = np.floor((b - self.angle_low) / self.increment).astype(np.intp)
        # In view only between the outermost beams (bin centres), as the window's own rule: the outer half of
        # an edge bin is where a beam grazes a corner just beyond the view and would erase it.
        half = 0.5 * self.increment
        inside = (b >= self.angle_low + half) & (b <= self.angle_low + (bins - 0.5) * self.increment)
        per_drop = self.blind_per_drop[np.clip(index, 0, bins - 1)]
        below = np.maximum(self.camera_height_m - self.trusted_tops(tops), 0.0)
        with np.errstate(invalid="ignore"):  # inf * 0: a tall obstacle in a bin that sees nothing below
            limit = np.where(below > 0.0, below * per_drop, 0.0)
        return np.where(inside, limit, np.inf)

    def sees(self, bearings: npt.ArrayLike, distances: npt.ArrayLike, tops: npt.ArrayLike) -> BoolArray:
        """Whether an obstacle ``tops`` high at (bearing, distance) from the camera would be in this frame."""
        return np.asarray(distances, dtype=np.float64) >= self.near_limit(bearings, tops)


@dataclass(frozen=True)
class Footprint:
    """The in-band points of one frame (base frame polar, with heights) and the frame's :class:`View`.

    Attributes:
        bearings: Bearing of each point, rad.
        ranges: Horizontal range of each point from the point under the camera, m.
        heights: Height of each point above the floor, m.
        view: Where the frame could see.
    """

    bearings: FloatArray
    ranges: FloatArray
    heights: FloatArray
    view: View


def in_band_points(
    geometry: ScanGeometry,
    flat_depth: npt.NDArray[np.float32],
    camera_height_m: float,
    band: tuple[float, float],
    range_m: float,
    min_top_m: float = 0.0,
) -> Footprint:
    """Every pixel of a (decimated, flattened) depth frame whose point is in the height band within ``range_m``.

    Args:
        geometry: The scanner's geometry of this camera (pixel order, per-pixel factors, bins).
        flat_depth: The decimated depth image, raveled (metres along the optical axis, NaN unknown).
        camera_height_m: Camera height above the floor, m.
        band: (lowest, highest) obstacle height, m.
        range_m: Points farther than this are left out (their depth is too coarse to place), m.
        min_top_m: Points lower than this are left out too (see :attr:`View.min_top_m`), m.
    """
    d = flat_depth[geometry.order]
    with np.errstate(invalid="ignore"):
        height = camera_height_m - d * geometry.drop_per_depth
        ranges = d * geometry.range_per_depth
        low = max(band[0], min_top_m)
        keep = (d > 0.0) & (height >= low) & (height <= band[1]) & (ranges <= range_m)
    view = View(geometry.angle_low, geometry.increment, geometry.blind_per_drop, camera_height_m, min_top_m)
    return Footprint(
        geometry.bearing[keep].astype(np.float64),
        ranges[keep].astype(np.float64),
        height[keep].astype(np.float64),
        view,
    )


@dataclass(frozen=True)
class FootprintCells:
    """The window cells a footprint falls in: indices, points per cell, their mean (x, y) and highest point.

    Attributes:
        ix: First index of each cell (x).
        iy: Second index (y).
        count: In-band points in the cell.
        x: Mean odometry x of those points, m.
        y: Mean odometry y, m.
        top: Height of the highest of them, m.
    """

    ix: npt.NDArray[np.intp]
    iy: npt.NDArray[np.intp]
    count: npt.NDArray[np.intp]
    x: FloatArray
    y: FloatArray
    top: FloatArray


class PolarPoints(Protocol):
    """Points of one frame in the base frame (polar, with heights): a :class:`Footprint`, or the cells of detected
    obstacles (navigation/detected.py)."""

    @property
    def bearings(self) -> FloatArray:
        """Bearing of each point, rad."""

    @property
    def ranges(self) -> FloatArray:
        """Horizontal range of each point, m."""

    @property
    def heights(self) -> FloatArray:
        """Height of each point, m."""


def footprint_cells(
    footprint: PolarPoints,
    pose: tuple[float, float, float],
    origin: tuple[float, float],
    resolution: float,
    cells: int,
) -> FootprintCells:
    """The cells of a square window (``cells`` x ``cells`` from ``origin``, odometry frame) that the footprint,
    taken at ``pose`` (x, y, yaw), puts points in.

    The count lets the window ignore a cell with a stray point or two of noisy depth: the top of a box seen from
    above puts tens of points in each of its cells.
    """
    x0, y0, yaw = pose
    xs = x0 + footprint.ranges * np.cos(footprint.bearings + yaw)
    ys = y0 + footprint.ranges * np.sin(footprint.bearings + yaw)
    ix = np.floor((xs - origin[0]) / resolution).astype(np.intp)
    iy = np.floor((ys - origin[1]) / resolution).astype(np.intp)
    inside = (ix >= 0) & (ix < cells) & (iy >= 0) & (iy < cells)
    flat = ix[inside] * cells + iy[inside]
    size = cells * cells
    count = np.bincount(flat, minlength=size)
    top = np.full(size, -np.inf)
    np.maximum.at(top, flat, footprint.heights[inside])
    touched = np.flatnonzero(count > 0)
    n = count[touched]
    return FootprintCells(
        touched // cells,
        touched % cells,
        n,
        np.bincount(flat, weights=xs[inside], minlength=size)[touched] / n,
        np.bincount(flat, weights=ys[inside], minlength=size)[touched] / n,
        top[touched],
    )


def unseen_blocks(
    headings: FloatArray, bearings: FloatArray, distances: FloatArray, radius: float
) -> npt.NDArray[np.bool_]:
    """Which headings the window's out-of-view cells block for a disc of ``radius`` (with ``UNSEEN_MARGIN_RAD``)."""
    return headings_blocked_by(headings, bearings, distances, radius, UNSEEN_MARGIN_RAD)
