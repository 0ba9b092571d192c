"""Plain data types shared by the detector, the message layer and the navigation core, shaped after their messages.

They hold numbers and arrays only (no behaviour beyond trivial properties), so the message layer maps
them field by field: :class:`Detection2D` <- ``vision_msgs/Detection2D``, :class:`Obstacle` ->
``vision_msgs/Detection3D``, :class:`Scan` -> ``sensor_msgs/LaserScan`` (same field names),
:class:`Command` -> ``geometry_msgs/Twist`` plus a status line.

Frames: the camera optical frame is z forward, x right, y down; the robot (base) frame is REP-103,
x forward, y left, z up, with its origin on the floor under the camera. Angles in the base frame are
positive to the left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Detection2D:
    """One 2-D detection: an axis-aligned box in image (or detector-network) pixels.

    Attributes:
        center_x: Box centre u, pixels.
        center_y: Box centre v, pixels.
        size_x: Box width, pixels.
        size_y: Box height, pixels.
        class_id: Class of the best hypothesis (vision_msgs uses strings; numeric ids as text).
        score: Confidence of that hypothesis, 0..1.
    """

    center_x: float
    center_y: float
    size_x: float
    size_y: float
    class_id: str
    score: float = 1.0


@dataclass(frozen=True)
class Obstacle:
    """A detection placed in 3-D with the depth inside its box.

    Attributes:
        class_id: Class carried over from the detection.
        score: Score carried over from the detection.
        distance_m: Horizontal distance from the scan origin to the obstacle's centre point, m;
            NaN when too few valid depth pixels were in the box (unknown).
        bearing_rad: Direction of the box centre in the base frame, positive left; known even
            when the distance is not, since it only needs the pixel.
        lateral_extent_m: Width of the object, box width x depth / fx, m (NaN when unknown).
        depth_m: The robust depth (along the optical axis) read in the box, m (NaN when unknown).
        center: Centre point in the camera optical frame (x right, y down, z forward), m.
        size: Size in the optical frame (width, height, depth), m; the depth extent is not
            observable from one view and is taken equal to the width.
        valid_pixels: Number of valid depth pixels the distance was computed from.
    """

    class_id: str
    score: float
    distance_m: float
    bearing_rad: float
    lateral_extent_m: float
    depth_m: float
    center: tuple[float, float, float]
    size: tuple[float, float, float]
    valid_pixels: int

    @property
    def known(self) -> bool:
        """Whether the distance could be measured."""
        return math.isfinite(self.distance_m)


@dataclass(frozen=True)
class Scan:
    """A planar virtual scan, field for field a ``sensor_msgs/LaserScan`` (REP-117 values).

    ``ranges[i]`` is at angle ``angle_min + i * angle_increment`` in the base frame (positive left),
    so index 0 is the rightmost bin. Values: a finite range for the nearest point in the robot's
    height band in that bin; +inf when the bin saw valid depth but nothing in the band within
    range_max; -inf for a return closer than range_min; NaN only for a bin with no valid depth at
    all (not measured), never for a measured range.
    """

    angle_min: float
    angle_max: float
    angle_increment: float
    range_min: float
    range_max: float
    ranges: npt.NDArray[np.float32]
    time_increment: float = 0.0
    scan_time: float = 0.0

    @property
    def angles(self) -> npt.NDArray[np.float64]:
        """The angle of every bin, rad."""
        return self.angle_min + self.angle_increment * np.arange(self.ranges.size, dtype=np.float64)


@dataclass(frozen=True)
class Gap:
    """A contiguous range of headings the robot can drive along without passing an obstacle.

    Attributes:
        angle_low: Rightmost free heading, rad (base frame).
        angle_high: Leftmost free heading, rad.
        closed_low: Whether an obstacle (not the edge of the field of view) bounds the right side.
        closed_high: Whether an obstacle bounds the left side.
    """

    angle_low: float
    angle_high: float
    closed_low: bool = True
    closed_high: bool = True

    @property
    def width_rad(self) -> float:
        """Angular width, rad."""
        return self.angle_high - self.angle_low

    @property
    def center_rad(self) -> float:
        """Middle heading, rad."""
        return 0.5 * (self.angle_low + self.angle_high)

    def contains(self, angle: float) -> bool:
        """Whether a heading lies in the gap (edges included)."""
        return self.angle_low <= angle <= self.angle_high


@dataclass(frozen=True)
class Command:
    """One velocity command and why it was chosen.

    Attributes:
        linear_x: Forward speed, m/s (Twist.linear.x).
        angular_z: Turn rate, rad/s, positive left (REP-103; Twist.angular.z).
        blind: True when the command is a stop because depth is missing, stale or failed.
        reason: One line for logs and diagnostics ("ok", "depth stale: ...", ...).
        mode: "blind", "goal", "target", "plan" (the rolling window's plan steers: no progress toward the
            goal for ``plan_after_s``), "blocked" (no free gap: turning in place) or "goal_reached" (within
            ``goal_tolerance_m`` of the goal point: zero twist), "idle" (no goal: no command) or "disabled"
            (``~/enable`` false: no command).
        desired_heading_rad: Heading wanted before obstacles (goal or target), robot frame.
        chosen_heading_rad: Heading steered for after the gap choice, robot frame.
        clearance_m: Free distance in the forward corridor, m (+inf when clear).
        target_distance_m: Distance to the followed target, m (NaN when none or unknown).
        gaps: The free gaps found in the last scan (robot frame at the time of that scan).
    """

    linear_x: float
    angular_z: float
    blind: bool
    reason: str
    mode: str = "blind"
    desired_heading_rad: float = 0.0
    chosen_heading_rad: float = 0.0
    clearance_m: float = math.inf
    target_distance_m: float = math.nan
    gaps: tuple[Gap, ...] = field(default_factory=tuple)

    @classmethod
    def stop(cls, reason: str) -> Command:
        """The fail-safe command: zero twist, blind, with the reason."""
        return cls(linear_x=0.0, angular_z=0.0, blind=True, reason=reason, mode="blind")
