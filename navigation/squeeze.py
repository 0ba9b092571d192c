"""Narrow passages: a second look at the scan with a thinner safety margin, taken when it pays.

The gap follower keeps ``safety_margin_m`` beyond the robot's radius on both sides, so a door or a passage
narrower than ``2 * (robot_radius_m + safety_margin_m)`` is no gap at all: in front of the only way through
the robot turns in place for good (the simulator's ``narrow_gap``, 1.5 robot widths). Squeezing looks again
with ``squeeze_margin_m`` when no ordinary gap is left, and drives through at no more than ``squeeze_speed``
(a slow robot has time to correct). The rolling window's plan does the same: when the full inflation leaves
no way, it plans again with the thinner one. Taking a narrow gap whenever it was nearer the goal than an
ordinary one (a cost on the heading difference) measured worse in the simulator: it squeezed past low boxes
whose far corners the scan had never seen (low_box seed 1, exact depth, a collision).

A last look with ``squeeze_last_margin_m`` comes before turning in place. Exact depth shows narrow_gap's
passage (0.73-0.80 m for a 0.50 m robot) 6-15 cm wider than the squeeze needs on each side, every frame. The
shipped network's edges are soft: at the passage's mouth it puts the jamb's inner faces, seen at a grazing
angle, 0-12 cm inside the passage, differently from frame to frame, so the 0.05 m margin found the passage
closed in most frames and the robot turned away from the only way through (narrow_gap seeds 0, 2 and 4 time
out with the model). A 0.02 m margin measured: those three pass; a margin of 0 grazed the jamb (seed 3).

``squeeze_margin_m >= safety_margin_m`` switches squeezing off (the paper's controller, config/controller_*.yaml),
``squeeze_last_margin_m >= squeeze_margin_m`` the last look only.
"""

from __future__ import annotations

from navigation.params import ObstacleAvoidanceParams


def squeeze_radius(params: ObstacleAvoidanceParams) -> float | None:
    """The half-width kept while squeezing (robot radius + the thin margin), or None when it is off."""
    if params.squeeze_margin_m >= params.safety_margin_m:
        return None
    return params.robot_radius_m + params.squeeze_margin_m


def squeeze_radii(params: ObstacleAvoidanceParams) -> tuple[float, ...]:
    """The half-widths to look with, in order, once no ordinary gap is left: the squeeze's, then the last look's
    (each only when it is on and thinner than the one before)."""
    thin = squeeze_radius(params)
    if thin is None:
        return ()
    if params.squeeze_last_margin_m >= params.squeeze_margin_m:
        return (thin,)
    return (thin, params.robot_radius_m + params.squeeze_last_margin_m)
