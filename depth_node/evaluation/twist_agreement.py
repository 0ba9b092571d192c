"""How often a replay commanded what the robot commanded: the recorded ``/cmd_vel`` against the replayed one.

A replay is only a rehearsal of the live graph if, fed the recorded inputs, it commands the same twists.
:func:`twist_agreement` pairs the two bags' ``/cmd_vel`` messages tick by tick (by the header stamp of a
TwistStamped, else by the time the message was logged) and counts the ticks whose linear.x and angular.z
agree within a tolerance. ``depth-node replay --compare-cmd-vel`` puts the result in report.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from depth_node.evaluation.bagio import open_bag
from depth_node.msgs import stamp_ns

CMD_VEL = "/cmd_vel"
TOLERANCE = 1e-3


def read_twists(paths: Path | Sequence[Path], topic: str = CMD_VEL) -> dict[int, tuple[float, float]]:
    """{tick time ns: (linear.x, angular.z)} of a bag's twist topic (Twist or TwistStamped).

    Raises:
        BagError: the bag cannot be read.
    """
    twists: dict[int, tuple[float, float]] = {}
    with open_bag(paths) as reader:
        conns = [c for c in reader.connections if c.topic == topic]
        for conn, t_ns, raw in reader.messages(conns):
            msg = reader.deserialize(raw, conn.msgtype)
            twist: Any = getattr(msg, "twist", msg)
            key = stamp_ns(msg.header) if hasattr(msg, "header") else t_ns
            twists[key] = (float(twist.linear.x), float(twist.angular.z))
    return twists


def twist_agreement(
    live: dict[int, tuple[float, float]], replayed: dict[int, tuple[float, float]], tolerance: float = TOLERANCE
) -> dict[str, Any]:
    """The share of the live ticks whose replayed twist agrees within ``tolerance`` (a missing one disagrees).

    Returns:
        ``ticks`` (live ticks), ``paired`` (also replayed), ``equal``, ``fraction`` (equal / ticks; None without
        live ticks), ``tolerance``, ``max_difference`` over the paired ticks, and ``first_difference``: the
        first tick that disagrees (time in seconds after the first live tick, both twists), or None.
    """
    equal, paired, worst = 0, 0, 0.0
    first: dict[str, Any] | None = None
    start = min(live, default=0)
    for t_ns in sorted(live):
        a, b = live[t_ns], replayed.get(t_ns)
        if b is not None:
            paired += 1
            difference = max(abs(a[0] - b[0]), abs(a[1] - b[1]))
            worst = max(worst, difference)
            if difference <= tolerance:
                equal += 1
                continue
        if first is None:
            first = {
                "t_s": round((t_ns - start) * 1e-9, 6),
                "live": list(a),
                "replayed": None if b is None else list(b),
            }
    return {
        "ticks": len(live),
        "paired": paired,
        "equal": equal,
        "fraction": round(equal / len(live), 6) if live else None,
        "tolerance": tolerance,
        "max_difference": round(worst, 9),
        "first_difference": first,
    }
