"""Subscriptions whose reliability follows the publishers of their topic (rclpy; used by the node shells).

A reliable subscription cannot connect to a best-effort publisher, and a best-effort one loses frames
that a reliable publisher would have delivered: with 640x480 rgb8 at 10 Hz on one host, Fast DDS dropped
38 to 60 % of the frames to a best-effort reader, and none to a reliable one. So, in ``auto``, the
subscription starts reliable and, like rosbag2's recorder, looks at the publishers that appear: if any of
them offers only best effort, it is re-created best-effort (which matches every publisher), and back to
reliable when all of them are reliable again. ``reliable`` and ``best_effort`` pin the choice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

RELIABILITY_CHOICES = ("auto", "reliable", "best_effort")
CHECK_PERIOD_S = 0.25


def profile(reliability: ReliabilityPolicy, depth: int) -> QoSProfile:
    """A keep-last profile of ``depth`` with the given reliability (volatile, as camera drivers publish)."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=reliability)


def wanted_reliability(offered: list[ReliabilityPolicy]) -> ReliabilityPolicy | None:
    """Reliable when every publisher offers it, best effort when any does not, None without publishers."""
    if not offered:
        return None
    if all(r == ReliabilityPolicy.RELIABLE for r in offered):
        return ReliabilityPolicy.RELIABLE
    return ReliabilityPolicy.BEST_EFFORT


class MatchedSubscription:
    """One subscription of ``node`` that re-creates itself to match its publishers' reliability."""

    def __init__(
        self,
        node: Node,
        msg_type: Any,
        topic: str,
        callback: Callable[[Any], None],
        depth: int,
        reliability: str = "auto",
    ) -> None:
        if reliability not in RELIABILITY_CHOICES:
            raise ValueError(f"reliability {reliability!r}: expected one of {RELIABILITY_CHOICES}")
        self._node = node
        self._args = (msg_type, topic, callback)
        self._depth = depth
        self.reliability = ReliabilityPolicy.BEST_EFFORT if reliability == "best_effort" else ReliabilityPolicy.RELIABLE
        self._sub = node.create_subscription(msg_type, topic, callback, profile(self.reliability, depth))
        self.topic_name: str = self._sub.topic_name
        if reliability == "auto":
            # A steady clock: with use_sim_time a node timer would wait for /clock, which may never come.
            node.create_timer(CHECK_PERIOD_S, self._match, clock=Clock(clock_type=ClockType.STEADY_TIME))

    def _match(self) -> None:
        infos = self._node.get_publishers_info_by_topic(self.topic_name)
        wanted = wanted_reliability([info.qos_profile.reliability for info in infos])
        if wanted is None or wanted == self.reliability:
            return
        self._node.destroy_subscription(self._sub)
        msg_type, topic, callback = self._args
        self._sub = self._node.create_subscription(msg_type, topic, callback, profile(wanted, self._depth))
        self.reliability = wanted
        self._node.get_logger().info(
            f"{self.topic_name}: publishers offer {wanted.name.lower()}; subscription now {wanted.name.lower()}"
        )
