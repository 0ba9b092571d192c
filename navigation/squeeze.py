"""Narrow passages: a second look at the scan with a thinner safety margin, taken when it pays.

The gap follower keeps ``safety_margin_m`` beyond the robot's radius on both sides, so a door or a passage
narrower than ``2 * (robot_radius_m + safety_margin_m)`` is no gap at all: in front of the only way through
the robot turns in place for good (the simulator's ``narrow_gap``, 1.5 robot widths). Squeezing looks again
with ``squeeze_margin_m`` when no ordinary gap is left, and drives through at no more than ``squeeze_speed``
(a slow robot has time to correct). The rolling window's plan does the same: when the full inflation leaves
no way, it plans again with the thinner one. Taking a narrow gap whenever it was nearer the goal than an
ordinary one (a cost on the heading difference) measured worse in the simulator: it squeezed past low boxes
whose far corners the scan had never seen (low_box seed 1, exact depth, a collision).

``squeeze_margin_m >= safety_margin_m`` switches it off (the paper's controller, config/controller_*.yaml).
"""

from __future__ import annotations

from navigation.params import ObstacleAvoidanceParams


def squeeze_radius(params: ObstacleAvoidanceParams) -> float | None:
    """The half-width kept while squeezing (robot radius + the thin margin), or None when it is off."""
    if params.squeeze_margin_m >= params.safety_margin_m:
        return None
    return params.robot_radius_m + params.squeeze_margin_m
