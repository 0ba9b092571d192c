"""Latency compensation: a depth frame placed where the robot was when it was taken, seen from where it is.

On a robot a depth frame reaches the controller late: the camera, the network (about 100 ms on a CPU) and
the transport add up to hundreds of milliseconds, in which the robot drives and turns. Placed with the
newest pose, an obstacle seen 300 ms ago while turning at 1 rad/s lands 17 degrees off. So the core keeps a
short history of odometry poses (:class:`PoseHistory`), takes the pose at the frame's stamp (interpolated),
and the controller decides on the frame carried to the current pose (:func:`carry_scan`,
:func:`carry_obstacle`), while the obstacle memory and the rolling window place it with the pose at its
stamp. Detections are paired with the depth frame of the nearest stamp (:class:`DetectionPairing`), not by
arrival. Plain numpy, no ROS.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node.types import Obstacle, Scan

Pose2D = tuple[float, float, float]  # x, y, yaw in the odometry frame
HISTORY_S = 2.0  # odometry kept: longer than any latency worth compensating
SAME_SURFACE_M = 0.3  # neighbouring scan points nearer than this in range are one surface (filled between)


def _wrap(angle: float) -> float:
    return math.atan2(math.sin(angle), math.cos(angle))


class PoseHistory:
    """The odometry poses of the last ``horizon_s``, read at any stamp in between (linear interpolation)."""

    def __init__(self, horizon_s: float = HISTORY_S) -> None:
        self._horizon_ns = round(horizon_s * 1e9)
        self._stamps: list[int] = []
        self._poses: list[Pose2D] = []

    def __len__(self) -> int:
        return len(self._stamps)

    def clear(self) -> None:
        """Forget every pose (an odometry reset: the old poses are in another frame)."""
        self._stamps.clear()
        self._poses.clear()

    def add(self, stamp_ns: int, pose: Pose2D) -> None:
        """Add one pose; an out-of-order stamp is placed where it belongs, old ones beyond the horizon drop."""
        i = bisect.bisect_right(self._stamps, stamp_ns)
        self._stamps.insert(i, int(stamp_ns))
        self._poses.insert(i, pose)
        cut = bisect.bisect_left(self._stamps, self._stamps[-1] - self._horizon_ns)
        del self._stamps[:cut], self._poses[:cut]

    def at(self, stamp_ns: int) -> Pose2D | None:
        """The pose at ``stamp_ns``: interpolated between the poses around it, the nearest end outside them.

        Returns None without any pose. Before the oldest kept pose the oldest is returned, after the
        newest the newest (odometry a little behind the camera: the best there is).
        """
        if not self._stamps:
            return None
        i = bisect.bisect_left(self._stamps, stamp_ns)
        if i == 0:
            return self._poses[0]
        if i == len(self._stamps):
            return self._poses[-1]
        t0, t1 = self._stamps[i - 1], self._stamps[i]
        (x0, y0, a0), (x1, y1, a1) = self._poses[i - 1], self._poses[i]
        f = (stamp_ns - t0) / (t1 - t0) if t1 > t0 else 1.0
        return (x0 + f * (x1 - x0), y0 + f * (y1 - y0), _wrap(a0 + f * _wrap(a1 - a0)))


def relative(frame_pose: Pose2D, now_pose: Pose2D) -> Pose2D:
    """The frame pose seen from the current pose: (dx, dy, dyaw) in the current robot frame."""
    xf, yf, af = frame_pose
    xn, yn, an = now_pose
    dx, dy = xf - xn, yf - yn
    c, s = math.cos(an), math.sin(an)
    return (c * dx + s * dy, -s * dx + c * dy, _wrap(af - an))


def carry_points(
    ranges: npt.NDArray[np.float64], angles: npt.NDArray[np.float64], frame_pose: Pose2D, now_pose: Pose2D
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Points (range, bearing) seen from ``frame_pose``, as (range, bearing) seen from ``now_pose``."""
    tx, ty, da = relative(frame_pose, now_pose)
    c, s = math.cos(da), math.sin(da)
    px, py = ranges * np.cos(angles), ranges * np.sin(angles)
    qx, qy = tx + c * px - s * py, ty + s * px + c * py
    return np.hypot(qx, qy), np.arctan2(qy, qx)


def carry_scan(scan: Scan, frame_pose: Pose2D, now_pose: Pose2D) -> Scan:
    """The scan taken at ``frame_pose`` as it would read from ``now_pose`` (same bins).

    Each bin first takes what the bin it came from (by the turn alone) said about free space: +inf stays
    free, NaN stays unmeasured, a measured point leaves free space behind it. Then every measured point is
    moved into the bin it falls in now, the nearest one winning, and the bins between two neighbouring
    points of one surface are filled (a wall seen nearer spreads over more bins: it must not open holes).
    Points that leave the view are dropped (the obstacle memory remembers them); bins turned into view
    from outside read unmeasured (NaN).
    """
    n = scan.ranges.size
    if n == 0:
        return scan
    angles = scan.angles
    raw = scan.ranges.astype(np.float64)
    _, _, da = relative(frame_pose, now_pose)
    source = np.rint((angles + da - scan.angle_min) / scan.angle_increment).astype(np.int64)
    inside = (source >= 0) & (source < n)
    out = np.full(n, np.nan)
    free = raw[np.clip(source, 0, n - 1)]
    out[inside] = np.where(np.isnan(free[inside]), np.nan, np.inf)
    measured = ~np.isnan(raw) & ~np.isposinf(raw)
    r = np.where(measured, np.where(np.isneginf(raw), 0.5 * scan.range_min, raw), 0.0)  # -inf: closer than range_min
    new_r, new_a = carry_points(r, angles, frame_pose, now_pose)
    bins = (new_a - scan.angle_min) / scan.angle_increment
    idx = np.full(n, -1, dtype=np.int64)
    idx[measured] = np.rint(bins[measured]).astype(np.int64)
    for k in np.flatnonzero(measured):
        j = int(idx[k])
        if 0 <= j < n and not new_r[k] >= out[j]:
            out[j] = new_r[k]
    # Fill between neighbours of one surface: the bins strictly between their new bins.
    for i in range(n - 1):
        if not (measured[i] and measured[i + 1]) or abs(r[i] - r[i + 1]) > SAME_SURFACE_M:
            continue
        lo, hi = sorted((bins[i], bins[i + 1]))
        for j in range(max(math.floor(lo) + 1, 0), min(math.ceil(hi), n)):
            f = (j - bins[i]) / (bins[i + 1] - bins[i]) if bins[i + 1] != bins[i] else 0.0
            value = new_r[i] + f * (new_r[i + 1] - new_r[i])
            if not value >= out[j]:
                out[j] = value
    out = np.where(out < scan.range_min, -np.inf, out)
    return dataclasses.replace(scan, ranges=out.astype(np.float32))


def carry_obstacle(obstacle: Obstacle, frame_pose: Pose2D, now_pose: Pose2D) -> Obstacle:
    """A fused obstacle seen from ``now_pose`` (its bearing always; its distance when it was measured)."""
    r = obstacle.distance_m if obstacle.known else 1.0
    new_r, new_a = carry_points(np.array([r]), np.array([obstacle.bearing_rad]), frame_pose, now_pose)
    distance = float(new_r[0]) if obstacle.known else obstacle.distance_m
    return dataclasses.replace(obstacle, distance_m=distance, bearing_rad=float(new_a[0]))


class DetectionPairing:
    """Detections paired with the depth frame of the nearest stamp within a tolerance, not by arrival.

    The depth and the detections of one camera image carry its stamp but come from two networks that
    finish in either order. Detections whose nearest recent depth frame is the current one (or a frame not
    yet arrived, within the tolerance) are used with it; the others are dropped and counted
    (``detections_unpaired``): fused with another frame's depth they would place boxes where nothing is.
    """

    def __init__(self, tolerance_ns: int, keep: int = 8) -> None:
        self.tolerance_ns = int(tolerance_ns)
        self._frames: deque[int] = deque(maxlen=keep)
        self._waiting: deque[tuple[int, Any]] = deque(maxlen=keep)
        self.dropped = 0

    def on_frame(self, stamp_ns: int) -> tuple[int, Sequence[Any]] | None:
        """A new current depth frame; the waiting detections that pair with it (stamp, detections), if any."""
        self._frames.append(int(stamp_ns))
        paired: tuple[int, Any] | None = None
        kept: deque[tuple[int, Any]] = deque(maxlen=self._waiting.maxlen)
        for stamp, dets in self._waiting:
            gap = abs(stamp - stamp_ns)
            if gap <= self.tolerance_ns and (paired is None or gap < abs(paired[0] - stamp_ns)):
                if paired is not None:
                    self.dropped += 1
                paired = (stamp, dets)
            elif stamp > stamp_ns:
                kept.append((stamp, dets))  # for a later frame
            else:
                self.dropped += 1  # older than this frame and not near it: its frame never came
        self._waiting = kept
        return paired

    def on_detections(self, stamp_ns: int, detections: Sequence[Any]) -> bool:
        """Whether these detections pair with the current frame (use them now); else kept for a coming
        frame, or dropped (counted) when the nearest frame is an older one."""
        if self._frames:
            nearest = min(self._frames, key=lambda s: abs(s - stamp_ns))
            if abs(nearest - stamp_ns) <= self.tolerance_ns:
                if nearest == self._frames[-1]:
                    return True
                self.dropped += 1  # its frame is no longer the current one: too late
                return False
            if stamp_ns < self._frames[-1]:
                self.dropped += 1
                return False
        self._waiting.append((int(stamp_ns), detections))
        return False
