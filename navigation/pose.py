"""Where the robot is: odometry when it comes, else dead reckoning of the commanded twist.

The yaw turns the goal into the robot frame; the position (with the yaw) places the obstacle memory and
the rolling window. A jump of the odometry (a reset, a relocalisation) is reported, so that what was
remembered in the old frame can be dropped instead of showing up as phantom obstacles.
"""

from __future__ import annotations

import math

# A turn between two odometry messages larger than this is a reset of the odometry frame, not motion, rad.
ODOM_JUMP_RAD = 1.0


def wrap_angle(angle: float) -> float:
    """The same angle in [-pi, pi)."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


class PoseTracker:
    """The pose the controller uses: the latest odometry, else the integral of its own commands."""

    def __init__(self, odom_jump_m: float) -> None:
        """Start at the origin, dead reckoning.

        Args:
            odom_jump_m: A move between two odometry poses farther than this (or a turn over 1 rad) is a jump;
                0 never counts one.
        """
        self.odom_jump_m = odom_jump_m
        self.odom_resets = 0  # odometry jumps seen (see update_odometry)
        self._odom_yaw: float | None = None
        self._odom_xy: tuple[float, float] | None = None
        self._dead_reckoned_yaw = 0.0
        self._dead_reckoned_xy = (0.0, 0.0)

    def update_odometry(self, yaw_rad: float, x: float | None = None, y: float | None = None) -> bool:
        """Take an odometry pose (the position is optional); returns whether it jumped (then counted)."""
        jumped = self._odom_yaw is not None and abs(wrap_angle(float(yaw_rad) - self._odom_yaw)) > ODOM_JUMP_RAD
        if x is not None and y is not None and self._odom_xy is not None:
            jumped |= math.hypot(float(x) - self._odom_xy[0], float(y) - self._odom_xy[1]) > self.odom_jump_m
        jumped = jumped and self.odom_jump_m > 0.0
        if jumped:
            self.odom_resets += 1
        self._odom_yaw = float(yaw_rad)
        if x is not None and y is not None:
            self._odom_xy = (float(x), float(y))
        return jumped

    def integrate(self, linear: float, angular: float, dt: float) -> None:
        """Dead-reckon one control period of the commanded twist (used where odometry is missing)."""
        heading = self.yaw
        self._dead_reckoned_yaw = wrap_angle(self._dead_reckoned_yaw + angular * dt)
        x, y = self._dead_reckoned_xy
        self._dead_reckoned_xy = (x + linear * dt * math.cos(heading), y + linear * dt * math.sin(heading))

    @property
    def yaw(self) -> float:
        """The robot yaw: odometry, else dead reckoning of the commands."""
        return self._odom_yaw if self._odom_yaw is not None else self._dead_reckoned_yaw

    @property
    def pose(self) -> tuple[float, float, float]:
        """(x, y, yaw) in the odometry frame: odometry where given, else dead reckoning of the commands."""
        x, y = self._odom_xy if self._odom_xy is not None else self._dead_reckoned_xy
        return x, y, self.yaw
