"""A short memory of obstacles that have left the camera's view.

A camera sees about 60 degrees ahead. Passing a box or a door jamb, the robot loses sight of it just as it is
beside the robot, and a controller that only knows the current frame then turns into it as soon as the goal
pulls that way. Keeping the last few seconds of scan points, in the odometry frame, and letting the points
now *outside* the view block the headings that would drive into them closes that hole. Points inside the view
are not used: the current frame sees them (and sees a person who has walked away).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class ObstacleMemory:
    """Recent obstacle points in the odometry frame, returned in the current base frame."""

    def __init__(self, horizon_s: float, range_m: float) -> None:
        """Args: horizon_s: how long a point is kept (0 disables the memory); range_m: how far points matter."""
        self.horizon_s = horizon_s
        self.range_m = range_m
        self._frames: deque[tuple[float, FloatArray]] = deque()

    def add(self, stamp_s: float, angles: FloatArray, ranges: FloatArray, pose: tuple[float, float, float]) -> None:
        """Store the finite scan points within ``range_m`` (base frame polar) seen at ``pose`` (x, y, yaw)."""
        if self.horizon_s <= 0.0:
            return
        keep = np.isfinite(ranges) & (ranges > 0.0) & (ranges <= self.range_m)
        r, a = ranges[keep], angles[keep] + pose[2]
        points = np.stack([pose[0] + r * np.cos(a), pose[1] + r * np.sin(a)], axis=1)
        self._frames.append((float(stamp_s), points))
        while self._frames and stamp_s - self._frames[0][0] > self.horizon_s:
            self._frames.popleft()

    def points(self, stamp_s: float) -> FloatArray:
        """All remembered points no older than the horizon at ``stamp_s``, (N, 2) odometry frame (diagnostics)."""
        frames = [p for t, p in self._frames if stamp_s - t <= self.horizon_s]
        return np.concatenate(frames) if frames else np.empty((0, 2))

    def outside_view(
        self, stamp_s: float, pose: tuple[float, float, float], half_fov: float
    ) -> tuple[FloatArray, FloatArray]:
        """(bearings, distances) of remembered points now outside ``+-half_fov`` and within ``range_m``."""
        frames = [p for t, p in self._frames if stamp_s - t <= self.horizon_s]
        if not frames:
            return np.empty(0), np.empty(0)
        pts = np.concatenate(frames)
        bearing, dist = base_polar(pts[:, 0], pts[:, 1], pose)
        keep = (dist <= self.range_m) & (np.abs(bearing) > half_fov)
        return bearing[keep], dist[keep]


def base_polar(x: FloatArray, y: FloatArray, pose: tuple[float, float, float]) -> tuple[FloatArray, FloatArray]:
    """(bearings in [-pi, pi), distances) in the base frame at ``pose`` (x, y, yaw) of odometry-frame points."""
    dx, dy = x - pose[0], y - pose[1]
    bearing = (np.arctan2(dy, dx) - pose[2] + math.pi) % (2.0 * math.pi) - math.pi
    return bearing, np.hypot(dx, dy)


def headings_blocked_by(
    headings: FloatArray, bearings: FloatArray, distances: FloatArray, radius: float, margin_rad: float = 0.0
) -> npt.NDArray[np.bool_]:
    """Which headings a disc of ``radius`` cannot drive straight along without touching one of the points.

    A point blocks a heading when it lies ahead along it (within 90 degrees) and closer than ``radius`` to
    the line; a point already within ``radius`` thus blocks every heading that is not moving away from it.
    ``margin_rad`` widens every point's blocked interval by that much on each side.

    Each point therefore blocks the open interval of headings within ``asin(radius / distance)`` (90
    degrees when inside the radius) of its bearing. The intervals are marked on the sorted headings with
    two binary searches and one running sum, O(points + headings): a few seconds of memory at 30 Hz hold
    thousands of points, and the headings x points matrix this replaces cost 40 ms a frame.
    """
    blocked = np.zeros(headings.shape, dtype=bool)
    if bearings.size == 0 or headings.size == 0:
        return blocked
    with np.errstate(divide="ignore"):
        half = np.arcsin(np.minimum(1.0, radius / np.maximum(np.asarray(distances, dtype=np.float64), 0.0)))
    half = np.where(half > 0.0, half + margin_rad, half)
    keep = half > 0.0
    if not np.any(keep):
        return blocked
    centre, half = np.asarray(bearings, dtype=np.float64)[keep], half[keep]
    # Angles wrap: a bearing near -pi blocks headings near +pi too.
    centre = np.concatenate((centre, centre + 2.0 * math.pi, centre - 2.0 * math.pi))
    half = np.tile(half, 3)
    order = np.argsort(headings, kind="stable")
    sorted_headings = np.asarray(headings, dtype=np.float64)[order]
    n = sorted_headings.size
    first = np.searchsorted(sorted_headings, centre - half, side="right")  # first heading > centre - half
    stop = np.searchsorted(sorted_headings, centre + half, side="left")  # first heading >= centre + half
    cover = np.bincount(first, minlength=n + 1) - np.bincount(stop, minlength=n + 1)
    blocked[order] = np.cumsum(cover[:n]) > 0
    return blocked
