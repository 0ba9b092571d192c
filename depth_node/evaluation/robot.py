"""The simulated robot: a differential drive as a unicycle with speed and acceleration limits, a round footprint.

The controller already limits what it commands; the robot limits again what it can do, as motors and a
base controller would, so a controller bug that commands a jump shows up as lag, not as teleporting.
Integration is exact for a constant twist over the step (an arc), so the path does not depend on the
step size the way Euler integration would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class RobotLimits:
    """What the base can do and how big it is.

    Attributes:
        max_linear: |v| limit, m/s.
        max_angular: |w| limit, rad/s.
        max_linear_accel: Limit of the change of v, m/s^2 (speeding up and braking).
        max_angular_accel: Limit of the change of w, rad/s^2.
        radius: Radius of the circular footprint, m.
        body_height: Height of the body; objects whose bottom is higher (a table top) are driven under, m.
    """

    max_linear: float = 0.6
    max_angular: float = 1.5
    max_linear_accel: float = 1.0
    max_angular_accel: float = 4.0
    radius: float = 0.25
    body_height: float = 0.55

    def __post_init__(self) -> None:
        for name in ("max_linear", "max_angular", "max_linear_accel", "max_angular_accel", "radius", "body_height"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"robot limit '{name}' must be a finite value >= 0, got {value}")


@dataclass(frozen=True)
class RobotState:
    """Pose in the world (odometry) frame and the current twist.

    Attributes:
        x: Position, m.
        y: Position, m.
        yaw: Heading, rad, REP-103 (0 along +x, positive turns left).
        v: Forward speed, m/s.
        w: Turn rate, rad/s.
    """

    x: float
    y: float
    yaw: float
    v: float = 0.0
    w: float = 0.0


def _toward(current: float, wanted: float, max_change: float, limit: float) -> float:
    wanted = max(-limit, min(limit, wanted))
    return current + max(-max_change, min(max_change, wanted - current))


def step_unicycle(state: RobotState, linear: float, angular: float, dt: float, limits: RobotLimits) -> RobotState:
    """Apply a commanded twist for ``dt`` seconds.

    The twist is first moved toward the command within the acceleration limits and clamped to the speed
    limits; that twist is then held for the whole step and integrated exactly (an arc, or a straight line
    when the turn rate is zero).

    Raises:
        ValueError: ``dt`` is not positive or a command is not finite.
    """
    if not dt > 0.0:
        raise ValueError(f"step dt must be > 0, got {dt}")
    if not (math.isfinite(linear) and math.isfinite(angular)):
        raise ValueError(f"commanded twist must be finite, got linear {linear}, angular {angular}")
    v = _toward(state.v, linear, limits.max_linear_accel * dt, limits.max_linear)
    w = _toward(state.w, angular, limits.max_angular_accel * dt, limits.max_angular)
    yaw = state.yaw + w * dt
    if abs(w) > 1e-9:
        x = state.x + v / w * (math.sin(yaw) - math.sin(state.yaw))
        y = state.y - v / w * (math.cos(yaw) - math.cos(state.yaw))
    else:
        x = state.x + v * dt * math.cos(state.yaw)
        y = state.y + v * dt * math.sin(state.yaw)
    return replace(state, x=x, y=y, yaw=math.atan2(math.sin(yaw), math.cos(yaw)), v=v, w=w)
