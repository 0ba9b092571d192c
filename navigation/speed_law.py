"""The speed and turn law: a PID from the aim to angular.z, a speed from the clearance, people and the target,
and acceleration limits that only limit speeding up (braking is never delayed, the choice a velocity smoother
in front of a safety stop would make)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from simple_pid import PID

from depth_node.types import Obstacle
from navigation.params import ObstacleAvoidanceParams


def speed_ramp(distance: float, stop: float, slow: float, top: float) -> float:
    """Zero at or below ``stop``, ``top`` at or beyond ``slow``, linear in between."""
    if not distance > stop:  # also catches NaN
        return 0.0
    if distance >= slow:
        return top
    return top * (distance - stop) / (slow - stop)


def toward(current: float, wanted: float, max_increase: float) -> float:
    """Move ``current`` to ``wanted``, limiting only growth of the magnitude (braking is immediate)."""
    if wanted * current < 0.0:  # a sign change goes through zero first
        current = 0.0
    if abs(wanted) <= abs(current):
        return wanted
    return current + math.copysign(min(abs(wanted) - abs(current), max_increase), wanted)


def in_path(obstacle: Obstacle, aim: float, half_width: float) -> bool:
    """Whether an obstacle overlaps the straight corridor of ``half_width`` along the heading ``aim``."""
    along = obstacle.distance_m * math.cos(obstacle.bearing_rad - aim)
    lateral = abs(obstacle.distance_m * math.sin(obstacle.bearing_rad - aim))
    extent = obstacle.lateral_extent_m if math.isfinite(obstacle.lateral_extent_m) else 0.0
    return along > 0.0 and lateral - 0.5 * extent < half_width


class SpeedLaw:
    """Aim -> angular.z (simple-pid, ``dt`` from the depth stamps), clearance -> linear.x, acceleration limits."""

    def __init__(self, params: ObstacleAvoidanceParams) -> None:
        self.params = params
        pid, speed = params.pid, params.speed
        self._pid = PID(
            pid.kp,
            pid.ki,
            pid.kd,
            setpoint=0.0,
            sample_time=None,
            output_limits=(-speed.max_angular_speed, speed.max_angular_speed),
            time_fn=lambda: 0.0,  # dt is always passed from stamps; never read a clock
        )
        self.linear = 0.0  # the last commanded (limited) twist
        self.angular = 0.0

    def retune(self, params: ObstacleAvoidanceParams) -> None:
        """New speeds, limits and gains while running (live tuning); the PID keeps its integral."""
        self.params = params
        self._pid.tunings = (params.pid.kp, params.pid.ki, params.pid.kd)
        self._pid.output_limits = (-params.speed.max_angular_speed, params.speed.max_angular_speed)

    def reset(self) -> None:
        """Restart the PID (blind, a goal reached, a failed frame)."""
        self._pid.reset()

    def stop(self) -> None:
        """A zero twist now, and the PID restarted."""
        self.linear = self.angular = 0.0
        self._pid.reset()

    def turn(self, aim: float, dt: float) -> float:
        """angular.z toward the aim; ``dt`` outside (0, input_timeout_s] restarts the PID with one period.

        dt is the difference of the depth stamps: the first frame (or one after a gap, a repeated stamp or a
        clock jump) restarts the PID.
        """
        node = self.params.node
        if not 0.0 < dt <= node.input_timeout_s:
            self._pid.reset()
            dt = 1.0 / node.control_rate_hz
        output = self._pid(-aim, dt=dt)  # setpoint 0, measurement -aim: output = kp * aim + ...
        return 0.0 if output is None else float(output)

    def speed(
        self,
        clearance: float,
        obstacles: Sequence[Obstacle],
        aim: float,
        target: Obstacle | None,
        half_fov: float,
    ) -> tuple[float, str, float]:
        """(linear.x, reason, target distance) for a clearance ahead, the people around and a followed target.

        A person in the path stops the robot at ``person_stop_distance_m``; one beside it only slows it
        (stopping for a person who is not in the way would block the way around). The robot turns towards
        the aim before driving off sideways; an aim outside the view is turned to in place.
        """
        p, s, standoff = self.params, self.params.speed, self.params.target.target_standoff_m
        linear = speed_ramp(clearance, s.stop_distance_m, s.slow_distance_m, s.max_linear_speed)
        reason = "ok" if linear >= s.max_linear_speed else f"slowing: clearance {clearance:.2f} m"
        for obstacle in obstacles:
            if obstacle.class_id in s.person_classes and obstacle.known:
                stop = s.person_stop_distance_m if in_path(obstacle, aim, p.clearance_radius_m) else 0.0
                person = speed_ramp(obstacle.distance_m, stop, s.person_slow_distance_m, s.max_linear_speed)
                if person < linear:
                    linear, reason = person, f"slowing: person at {obstacle.distance_m:.2f} m"
        target_distance = math.nan
        if target is not None:
            target_distance = target.distance_m
            ramp = s.slow_distance_m - s.stop_distance_m
            approach = speed_ramp(target_distance, standoff, standoff + ramp, s.max_linear_speed)
            if approach < linear:
                linear, reason = approach, f"approaching target at {target_distance:.2f} m"
            if target.known and target_distance <= standoff:
                reason = f"at target standoff ({target_distance:.2f} m)"
        linear *= max(0.0, math.cos(aim)) if abs(aim) <= half_fov else 0.0
        return linear, reason, target_distance

    def limit(self, linear: float, angular: float, dt: float) -> tuple[float, float]:
        """The twist to command this period: toward the decided one within the acceleration limits."""
        s = self.params.speed
        self.linear = toward(self.linear, linear, s.max_linear_accel * dt)
        self.angular = toward(self.angular, angular, s.max_angular_accel * dt)
        return self.linear, self.angular
