"""What the controller believed during a simulated run: snapshots of its obstacles, for the failure panels.

A failed run is diagnosed by putting what the controller held (the current scan's returns, its remembered
points and its rolling window's cells) beside the truth (the scene). The simulator takes a snapshot every
``every_s`` seconds and one at the end of the run (:func:`snapshot`), in the world (odometry) frame, as float32
arrays: a few hundred points each, cheap to keep for every run of a suite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]

# Seconds between two snapshots of a run (the last one is always taken at the end).
SNAPSHOT_EVERY_S = 2.0


@dataclass(frozen=True, eq=False)
class Belief:
    """The controller's obstacles at one moment.

    Attributes:
        t: Simulated time, s.
        pose: The controller's (x, y, yaw) then.
        scan: (N, 2) world (x, y) of the last scan's finite returns.
        held: (M, 2) world (x, y) of what it remembered beyond the scan (memory points and window cells).
    """

    t: float
    pose: tuple[float, float, float]
    scan: F32
    held: F32

    def __eq__(self, other: object) -> bool:
        """Equal times, poses and points (a run repeated gives equal beliefs)."""
        if not isinstance(other, Belief):
            return NotImplemented
        return (
            (self.t, self.pose) == (other.t, other.pose)
            and np.array_equal(self.scan, other.scan)
            and np.array_equal(self.held, other.held)
        )

    __hash__ = None  # type: ignore[assignment]


def snapshot(t: float, controller: object) -> Belief | None:
    """A :class:`Belief` of a :class:`navigation.controller.Controller` (None before its first depth frame)."""
    scan = getattr(controller, "scan", None)
    if scan is None:
        return None
    x, y, yaw = controller.pose  # type: ignore[attr-defined]
    ranges = np.asarray(scan.ranges, dtype=np.float64)
    finite = np.isfinite(ranges)
    angles = scan.angles[finite] + yaw
    points = np.stack([x + ranges[finite] * np.cos(angles), y + ranges[finite] * np.sin(angles)], axis=1)
    held = controller.believed_obstacles()  # type: ignore[attr-defined]
    return Belief(float(t), (float(x), float(y), float(yaw)), points.astype(np.float32), held.astype(np.float32))


def due(t: float, dt: float) -> bool:
    """Whether a snapshot is due at tick time ``t`` of a loop with period ``dt``."""
    k = round(SNAPSHOT_EVERY_S / dt)
    return k > 0 and round(t / dt) % k == 0 and math.isfinite(t)
