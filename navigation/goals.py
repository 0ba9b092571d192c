"""What the robot drives to: a heading (``goal_heading_rad``) or a point of the odometry frame (``goal_pose``)."""

from __future__ import annotations

import math

from navigation.pose import wrap_angle


class Goal:
    """The goal heading, or a goal point whose bearing from the pose becomes the heading at each decision."""

    def __init__(self, heading_rad: float, tolerance_m: float) -> None:
        """Drive along ``heading_rad`` until a point is set; a point within ``tolerance_m`` is reached (0: never)."""
        self.heading = heading_rad
        self.tolerance_m = tolerance_m
        self.point: tuple[float, float] | None = None

    def set_heading(self, heading_rad: float) -> None:
        """Drive along this heading (odometry frame), forgetting any point."""
        self.heading = wrap_angle(float(heading_rad))
        self.point = None

    def set_point(self, x: float, y: float) -> None:
        """Drive to this point of the odometry frame."""
        self.point = (float(x), float(y))

    def heading_from(self, pose: tuple[float, float, float]) -> float:
        """The goal heading in the odometry frame, seen from ``pose`` (kept as the heading from now on)."""
        if self.point is not None:
            self.heading = math.atan2(self.point[1] - pose[1], self.point[0] - pose[0])
        return self.heading

    def reached(self, pose: tuple[float, float, float]) -> str | None:
        """The reason line when a goal point is within ``goal_tolerance_m`` of the pose, else None."""
        if self.point is None or self.tolerance_m <= 0.0:
            return None
        distance = math.hypot(self.point[0] - pose[0], self.point[1] - pose[1])
        if distance > self.tolerance_m:
            return None
        return f"goal reached: {distance:.2f} m <= goal_tolerance_m {self.tolerance_m:.2f} m"

    def progress(self, pose: tuple[float, float, float]) -> float:
        """How near the goal the robot is (larger is nearer): minus the distance to a goal point, else the
        distance travelled along the goal heading."""
        if self.point is not None:
            return -math.hypot(self.point[0] - pose[0], self.point[1] - pose[1])
        return pose[0] * math.cos(self.heading) + pose[1] * math.sin(self.heading)
